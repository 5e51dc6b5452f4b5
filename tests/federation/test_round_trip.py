"""Two cgd-portal nodes on 127.0.0.1: publish on A, harvest into B, withdraw on A, harvest again."""

from __future__ import annotations

import ckanapi
import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

from catalog.principal import system
from catalog.services import harvest as harvest_service
from indexer.harvest import harvest_now
from indexer.search.base import SearchQuery

from .nodes import Node

DCAT = Namespace("http://www.w3.org/ns/dcat#")

AGGREGATE = (
    '{ aggregate(dataset: "%s", by: ["sex"]) { cells { dimensions { code } count suppressed } } }'
)


@pytest.fixture
def nodes(tmp_path, database_url):
    """Node A on SQLite; node B on SQLite and on PostgreSQL (the catalogue behind the harvest)."""
    a = Node(tmp_path, "a")
    b = Node(tmp_path, "b", HARVEST_ALLOW_PRIVATE=True, DATABASE_URL=database_url)
    yield a, b
    b.close()
    a.close()


def _cells(node: Node, dataset: str) -> list[tuple]:
    answer = node.app.test_client().post("/graphql", json={"query": AGGREGATE % dataset}).get_json()
    assert "errors" not in answer, answer
    return sorted(
        (c["dimensions"][0]["code"], c["count"], c["suppressed"])
        for c in answer["data"]["aggregate"]["cells"]
    )


def _dcat_datasets(node: Node) -> set[str]:
    g = Graph().parse(
        data=node.app.test_client().get("/catalog.ttl").data.decode(), format="turtle"
    )
    return {str(s) for s in g.subjects(RDF.type, DCAT.Dataset)}


def test_publish_on_a_harvest_into_b_withdraw_on_a_is_gone_on_b(nodes, tmp_path):
    a, b = nodes
    published = a.publish_demo(tmp_path)
    with b.runtime.db.session() as s:
        harvest_service.create_source(
            s, system(), name="node-a", url=a.url, kind="cgd", title="Node A"
        )

    first = harvest_now(b.runtime.ctx, "node-a")
    assert first["status"] == "succeeded", first
    assert first["counts"]["created"] == 1 and first["counts"]["failed"] == 0
    local_slug = first["report"]["created"][0]["dataset"]

    # Searchable beside local datasets, with the source as a facet.
    found = b.runtime.search.search(
        SearchQuery(text="water", filters={"source": ["node-a"]}, facets=("source",))
    )
    assert found.total == 1 and dict(found.facets["source"]) == {"node-a": 1}

    # Provenance in B's CKAN API (through the real ckanapi client over HTTP) and DCAT.
    ckan = ckanapi.RemoteCKAN(b.url)
    pkg = ckan.action.package_show(id=local_slug)
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["harvest_original_id"] == published["dataset"]
    assert extras["harvest_url"] == f"{a.url}/datasets/{published['slug']}"
    assert ckan.action.package_search(fq="source:node-a")["count"] == 1
    assert f"{b.url}/datasets/{local_slug}" in _dcat_datasets(b)

    # The protected aggregate came along as A serves it (suppressed and perturbed there).
    cells = _cells(a, published["slug"])
    assert len(cells) >= 2 and any(count for _, count, _ in cells)
    assert _cells(b, local_slug) == cells

    # Metadata, links and protected aggregates only: never a copy of the records.
    download = b.app.test_client().get(f"/datasets/{local_slug}/download.csv")
    assert download.status_code == 404 and download.get_json()["error"]["code"] == "no_records"
    assert {r["url"].split(a.url, 1)[0] for r in pkg["resources"]} == {""}  # links point back to A

    # A harvest with nothing changed leaves everything as it is.
    again = harvest_now(b.runtime.ctx, "node-a")
    assert again["counts"]["unchanged"] == 1 and again["counts"]["created"] == 0

    a.withdraw(published["slug"])
    second = harvest_now(b.runtime.ctx, "node-a")
    assert second["status"] == "succeeded", second
    assert second["counts"]["withdrawn"] == 1
    assert second["report"]["withdrawn"] == [{"id": published["dataset"], "dataset": local_slug}]

    assert b.runtime.search.search(SearchQuery(text="water")).total == 0
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id=local_slug)
    assert ckan.action.package_search()["count"] == 0
    assert local_slug not in ckan.action.package_list()
    assert _dcat_datasets(b) == set()
    assert b.app.test_client().get(f"/datasets/{local_slug}/dcat.ttl").status_code == 404
