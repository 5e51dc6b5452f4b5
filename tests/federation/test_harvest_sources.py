"""Harvesting CKAN, DCAT (Turtle, JSON-LD, RDF/XML) and the per-source report with withdrawal sync."""

from __future__ import annotations

import json

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF
from werkzeug.wrappers import Request, Response

from catalog.principal import system
from catalog.services import harvest as harvest_service
from indexer.harvest import harvest_now
from indexer.search.base import SearchQuery

from .nodes import LiveServer, Node

DCAT = Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture
def harvester(tmp_path):
    node = Node(tmp_path, "harvester", HARVEST_ALLOW_PRIVATE=True)
    yield node
    node.close()


def _add(node: Node, name: str, url: str, kind: str, **config) -> None:
    with node.runtime.db.session() as s:
        harvest_service.create_source(s, system(), name=name, url=url, kind=kind, config=config)


def _search(node: Node, **filters) -> int:
    return node.runtime.search.search(SearchQuery(filters=filters)).total


def test_ckan_source_is_paged_through_package_search(harvester, catalogue):
    _add(harvester, "ckan-peer", f"{catalogue.url}/api/3/action", "ckan", page_size=1)
    result = harvest_now(harvester.runtime.ctx, "ckan-peer")
    assert result["status"] == "succeeded", result
    assert result["counts"]["created"] == 3 and result["counts"]["requests"] >= 3
    assert _search(harvester, source=["ckan-peer"]) == 3
    with harvester.runtime.db.session() as s:
        source = harvest_service.get_source(s, "ckan-peer")
        records = harvest_service.harvested_datasets(s, source)
        originals = {r.original_id for r in records}
        assert all(r.last_harvested_at is not None for r in records)
    assert originals == {p["dataset"] for p in catalogue.published.values()}
    # Narrowed by fq from the source's configuration: the others are withdrawn here.
    with harvester.runtime.db.session() as s:
        harvest_service.get_source(s, "ckan-peer").config = {"fq": "organization:janajati-forum"}
    narrowed = harvest_now(harvester.runtime.ctx, "ckan-peer")
    assert narrowed["counts"]["withdrawn"] == 2 and narrowed["counts"]["unchanged"] == 1
    assert _search(harvester, source=["ckan-peer"]) == 1


def test_dcat_turtle_source_follows_hydra_pages(harvester, catalogue):
    _add(harvester, "dcat-peer", f"{catalogue.url}/catalog.ttl?per_page=1", "dcat")
    result = harvest_now(harvester.runtime.ctx, "dcat-peer")
    assert result["status"] == "succeeded", result
    assert result["counts"]["created"] == 3 and result["counts"]["requests"] == 3
    client = harvester.app.test_client()
    pkgs = client.get("/api/3/action/package_search?fq=source:dcat-peer&rows=10").get_json()[
        "result"
    ]
    titles = {p["title"] for p in pkgs["results"]}
    assert "Barriers to health posts for people with disabilities" in titles
    health = next(p for p in pkgs["results"] if p["title"].startswith("Barriers"))
    assert health["license_id"] == "CC-BY-4.0"
    assert {"health", "disability"} <= {t["name"] for t in health["tags"]}
    assert any(r["url"].endswith("/download.csv") for r in health["resources"])


class SyntheticCatalogue:
    """A tiny DCAT catalogue server whose document the test rewrites between harvests."""

    def __init__(self) -> None:
        self.body, self.media_type, self.status, self.hits = b"", "text/turtle", 200, 0
        self.server = LiveServer(self.wsgi)
        self.url = self.server.url + "/catalog"

    def wsgi(self, environ, start_response):
        Request(environ)
        self.hits += 1
        return Response(self.body, status=self.status, mimetype=self.media_type)(
            environ, start_response
        )

    def publish(self, datasets: list[dict], fmt: str) -> None:
        g = Graph()
        cat = URIRef("http://example.org/catalog")
        g.add((cat, RDF.type, DCAT.Catalog))
        for d in datasets:
            ds = URIRef(f"http://example.org/dataset/{d['id']}")
            g.add((ds, RDF.type, DCAT.Dataset))
            g.add((cat, DCAT.dataset, ds))
            g.add((ds, DCTERMS.identifier, Literal(d["id"])))
            if d.get("title"):
                g.add((ds, DCTERMS.title, Literal(d["title"], lang="en")))
            g.add((ds, DCTERMS.description, Literal("Synthetic test dataset.", lang="en")))
            pub = URIRef("http://example.org/org/ministry")
            g.add((pub, FOAF.name, Literal("Ministry of Water")))
            g.add((ds, DCTERMS.publisher, pub))
            g.add((ds, DCAT.keyword, Literal("water")))
            g.add((ds, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
            dist = BNode()
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCAT.accessURL, URIRef(f"http://example.org/files/{d['id']}.csv")))
            g.add((dist, DCTERMS.format, Literal("CSV")))
            g.add((ds, DCAT.distribution, dist))
        rdflib_fmt, self.media_type = {
            "xml": ("xml", "application/rdf+xml"),
            "json-ld": ("json-ld", "application/ld+json"),
            "turtle": ("turtle", "text/turtle"),
        }[fmt]
        self.body = g.serialize(format=rdflib_fmt).encode()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def synthetic():
    cat = SyntheticCatalogue()
    yield cat
    cat.close()


@pytest.mark.parametrize("fmt", ["xml", "json-ld", "turtle"])
def test_dcat_source_report_lists_created_updated_withdrawn_and_failed(harvester, synthetic, fmt):
    synthetic.publish(
        [{"id": "w1", "title": "Wells 2024"}, {"id": "w2", "title": "Taps 2024"}, {"id": "bad"}],
        fmt,
    )
    _add(harvester, "ministry", synthetic.url, "dcat")
    first = harvest_now(harvester.runtime.ctx, "ministry")
    assert first["status"] == "succeeded", first
    assert first["counts"] | {"requests": 0, "bytes": 0} == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "withdrawn": 0,
        "failed": 1,
        "seen": 3,
        "requests": 0,
        "bytes": 0,
    }
    assert first["report"]["failed"] == [{"id": "bad", "message": "dataset without dct:title"}]

    synthetic.publish(
        [{"id": "w1", "title": "Wells 2024 (revised)"}, {"id": "bad", "title": "Now fine"}], fmt
    )
    second = harvest_now(harvester.runtime.ctx, "ministry")
    counts = second["counts"]
    assert (counts["created"], counts["updated"], counts["withdrawn"], counts["failed"]) == (
        1,
        1,
        1,
        0,
    )
    assert [w["id"] for w in second["report"]["withdrawn"]] == ["w2"]
    client = harvester.app.test_client()
    titles = {
        p["title"]
        for p in client.get("/api/3/action/package_search").get_json()["result"]["results"]
    }
    assert titles == {"Wells 2024 (revised)", "Now fine"}
    with harvester.runtime.db.session() as s:
        runs = harvest_service.get_source(s, "ministry").runs
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert runs[-1].report["withdrawn"][0]["id"] == "w2"

    # Offered again later: published again under the same record, with a new version.
    synthetic.publish(
        [{"id": "w1", "title": "Wells 2024 (revised)"}, {"id": "w2", "title": "Taps 2024"}], fmt
    )
    third = harvest_now(harvester.runtime.ctx, "ministry")
    assert [u["id"] for u in third["report"]["updated"]] == ["w2"] and third["counts"][
        "withdrawn"
    ] == 1
    assert _search(harvester, source=["ministry"]) == 2


def test_one_bad_item_in_a_batch_fails_alone(harvester, synthetic):
    datasets = [{"id": f"d{i}", "title": f"Dataset {i}"} for i in range(60)]
    datasets[7] = {"id": "x" * 600, "title": "Identifier far too long"}
    synthetic.publish(datasets, "turtle")
    _add(harvester, "batchy", synthetic.url, "dcat")
    result = harvest_now(harvester.runtime.ctx, "batchy")
    assert result["status"] == "succeeded", result
    assert result["counts"]["created"] == 59 and result["counts"]["failed"] == 1
    assert "500 characters" in result["report"]["failed"][0]["message"]
    assert _search(harvester, source=["batchy"]) == 59


def test_a_source_that_fails_to_list_withdraws_nothing(harvester, synthetic):
    synthetic.publish([{"id": "w1", "title": "Wells"}], "turtle")
    _add(harvester, "flaky", synthetic.url, "dcat")
    assert harvest_now(harvester.runtime.ctx, "flaky")["counts"]["created"] == 1
    synthetic.status = 500
    failed = harvest_now(harvester.runtime.ctx, "flaky")
    assert failed["status"] == "failed" and failed["error"]["code"] == "harvest_http_error"
    assert _search(harvester, source=["flaky"]) == 1
    synthetic.status, synthetic.body = 200, b"this is not turtle {{{"
    broken = harvest_now(harvester.runtime.ctx, "flaky")
    assert broken["status"] == "failed" and broken["error"]["code"] == "harvest_bad_response"
    assert _search(harvester, source=["flaky"]) == 1


def test_json_ld_with_a_remote_context_is_refused_and_not_fetched(harvester, synthetic):
    synthetic.media_type = "application/ld+json"
    synthetic.body = json.dumps(
        {
            "@context": "http://127.0.0.1:9/context.jsonld",
            "@id": "http://example.org/d",
            "@type": "dcat:Dataset",
        }
    ).encode()
    _add(harvester, "ctx", synthetic.url, "dcat")
    result = harvest_now(harvester.runtime.ctx, "ctx")
    assert result["status"] == "failed" and result["error"]["code"] == "harvest_remote_context"


def test_xml_entities_are_refused(harvester, synthetic):
    synthetic.media_type = "application/rdf+xml"
    synthetic.body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&x;</rdf:RDF>'
    _add(harvester, "xxe", synthetic.url, "dcat")
    result = harvest_now(harvester.runtime.ctx, "xxe")
    assert result["status"] == "failed" and result["error"]["code"] == "harvest_bad_response"


class SyntheticCKAN:
    """A CKAN-shaped action API over an in-memory package list, paged by rows/start."""

    def __init__(self, packages: list[dict]) -> None:
        self.packages, self.requests = packages, []
        self.server = LiveServer(self.wsgi)
        self.url = self.server.url

    def wsgi(self, environ, start_response):
        req = Request(environ)
        self.requests.append(dict(req.args))
        if req.path != "/api/3/action/package_search":
            body = {
                "success": False,
                "error": {"__type": "Not Found Error", "message": "Not found"},
            }
            return Response(json.dumps(body), status=404, mimetype="application/json")(
                environ, start_response
            )
        start, rows = int(req.args.get("start", 0)), int(req.args.get("rows", 10))
        ordered = sorted(self.packages, key=lambda p: str(p.get("id", "")))
        result = {"count": len(ordered), "results": ordered[start : start + rows]}
        body = json.dumps({"help": "", "success": True, "result": result})
        return Response(body, mimetype="application/json")(environ, start_response)

    def close(self) -> None:
        self.server.close()


def _package(i: int, **extra) -> dict:
    pkg = {
        "id": f"pkg-{i:02d}",
        "name": f"survey-{i}",
        "title": f"Survey {i}",
        "notes": "Synthetic.",
        "license_id": "cc-by",
        "state": "active",
        "private": False,
        "organization": {"name": "ministry-of-water", "title": "Ministry of Water"},
        "tags": [{"name": "water"}, {"name": "tubewell"}],
        "extras": [{"key": "temporal_start", "value": "2024-01-01"}],
        "resources": [
            {"name": "Data", "format": "CSV", "url": f"https://data.example.org/{i}.csv"},
            {"name": "Bad link", "format": "HTML", "url": "javascript:alert(1)"},
        ],
    }
    pkg.update(extra)
    return pkg


def test_ckan_shaped_source_deleted_private_and_broken_packages(harvester):
    packages = [_package(i) for i in range(5)]
    packages += [
        _package(5, state="deleted"),
        _package(6, private=True),
        _package(7, id=""),
        _package(8, title=""),
    ]
    ckan = SyntheticCKAN(packages)
    try:
        _add(harvester, "ministry-ckan", ckan.url, "ckan", page_size=3)
        first = harvest_now(harvester.runtime.ctx, "ministry-ckan")
        assert first["status"] == "succeeded", first
        assert (first["counts"]["created"], first["counts"]["failed"]) == (5, 2)
        assert sorted(f["message"] for f in first["report"]["failed"]) == [
            "package without a title",
            "package without an id",
        ]
        assert [r["start"] for r in ckan.requests] == ["0", "3", "6"]
        assert all(r["sort"] == "id asc" for r in ckan.requests)

        client = harvester.app.test_client()
        pkg = client.get("/api/3/action/package_show?id=ministry-ckan-survey-1").get_json()[
            "result"
        ]
        assert pkg["license_id"] == "CC-BY-4.0" and {t["name"] for t in pkg["tags"]} == {
            "water",
            "tubewell",
        }
        assert [r["url"] for r in pkg["resources"]] == [
            "https://data.example.org/1.csv"
        ]  # no javascript: links
        assert pkg["organization"]["title"] == "Ministry of Water"
        assert {e["key"]: e["value"] for e in pkg["extras"]}["harvest_original_id"] == "pkg-01"

        ckan.packages = [p for p in ckan.packages if p["id"] != "pkg-03"]
        second = harvest_now(harvester.runtime.ctx, "ministry-ckan")
        assert [w["id"] for w in second["report"]["withdrawn"]] == ["pkg-03"]
        assert client.get("/api/3/action/package_show?id=ministry-ckan-survey-3").status_code == 404
    finally:
        ckan.close()
