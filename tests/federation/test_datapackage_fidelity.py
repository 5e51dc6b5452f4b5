"""A Data Package describes its CSV truly: header = schema field names, values = download.json.

Column names and free-text values that start with ``= + - @`` are neutralised
in the spreadsheet CSV (``download.csv``) only; the CSV a Data Package points
at (``datapackage/records.csv``, ``records.csv`` in the zip) keeps them.
Also: constraints agree with field types, the dialect, zip entry modes, the
catalogue's ``dct:modified`` on every page, GraphQL distributions as DCAT's.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace

import frictionless
import polars as pl
import pytest
import requests
from rdflib import Graph
from rdflib import namespace as ns

from api.federation.downloads import csv_text, package_csv_text, records_schema
from indexer.synthetic import demo_metadata, generate_survey
from schema.tableschema import AGE_PATTERN

from .nodes import Node

EDGE_SLUG = "edge-names-survey"


def _edge_survey(rows: int = 300) -> pl.DataFrame:
    df = generate_survey(rows, seed=21)
    prefixes = ["- ", "@", "=", "+", ""]
    comments = [
        f"{prefixes[i % len(prefixes)]}{c}" if c else c
        for i, c in enumerate(df["comments"].to_list())
    ]
    return df.with_columns(
        pl.Series("comments", comments),
        pl.col("household_size").alias("-score"),
        pl.col("minutes_to_water").alias("@minutes"),
    )


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("fidelity")
    node = Node(root, "fidelity")
    from catalog.principal import system
    from catalog.services import organisations
    from portal.ingest import ingest_file

    with node.runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
    meta = demo_metadata()
    meta["slug"] = EDGE_SLUG
    meta["title"] = {"en": "Survey with formula-looking names"}
    meta["columns"] = {
        **meta["columns"],
        "-score": {"role": "measure"},
        "@minutes": {"role": "measure"},
    }
    path = root / "edge.csv"
    _edge_survey().write_csv(path)
    edge = ingest_file(node.runtime, path, "samata", meta, publish=True)
    plain = node.publish_demo(root, rows=200, seed=22, slug="plain-survey")
    node.published = {"edge": edge, "plain": plain}
    yield node
    node.close()


def _schema_names(descriptor: dict) -> list[str]:
    return [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]]


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b))
    return a == b


def _assert_rows_equal_download_json(resource: frictionless.Resource, records: list[dict]):
    rows = resource.read_rows()
    assert len(rows) == len(records)
    differing = [
        (i, k, row[k], rec[k])
        for i, (row, rec) in enumerate(zip(rows, records, strict=True))
        for k in rec
        if not _same(row[k], rec[k])
    ]
    assert not differing, differing[:10]


def test_zip_csv_has_the_true_header_and_values(node, tmp_path):
    client = node.app.test_client()
    records = client.get(f"/datasets/{EDGE_SLUG}/download.json").get_json()
    assert any(r["comments"] and r["comments"].startswith("- ") for r in records)
    for url in (
        f"/datasets/{EDGE_SLUG}/datapackage.zip",
        f"/datasets/{EDGE_SLUG}/versions/1/datapackage.zip",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        path = tmp_path / "package.zip"
        path.write_bytes(resp.data)
        report = frictionless.validate(str(path))
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
        with zipfile.ZipFile(path) as zf:
            descriptor = json.loads(zf.read("datapackage.json"))
            text = zf.read("records.csv").decode()
            zf.extractall(tmp_path / "unzipped")
        header = next(csv.reader(io.StringIO(text)))
        assert header == _schema_names(descriptor)
        assert "-score" in header and "@minutes" in header
        package = frictionless.Package(str(tmp_path / "unzipped" / "datapackage.json"))
        _assert_rows_equal_download_json(package.get_resource("records"), records)


def test_datapackage_json_points_at_true_csv_over_http(node):
    client = node.app.test_client()
    descriptor = client.get(f"/datasets/{EDGE_SLUG}/datapackage.json").get_json()
    resource = descriptor["resources"][0]
    assert resource["path"] == f"{node.url}/datasets/{EDGE_SLUG}/datapackage/records.csv"
    assert resource["dialect"] == {"delimiter": ",", "doubleQuote": True, "header": True}
    resp = client.get(f"/datasets/{EDGE_SLUG}/datapackage/records.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert next(csv.reader(io.StringIO(resp.data.decode()))) == _schema_names(descriptor)
    report = frictionless.validate(f"{node.url}/datasets/{EDGE_SLUG}/datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    records = client.get(f"/datasets/{EDGE_SLUG}/download.json").get_json()
    package = frictionless.Package(f"{node.url}/datasets/{EDGE_SLUG}/datapackage.json")
    _assert_rows_equal_download_json(package.get_resource("records"), records)
    assert client.get("/datasets/nope/datapackage/records.csv").status_code == 404


def test_spreadsheet_csv_stays_neutralised(node):
    text = node.app.test_client().get(f"/datasets/{EDGE_SLUG}/download.csv").data.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert "'-score" in rows[0] and "'@minutes" in rows[0]
    comments = [r[rows[0].index("comments")] for r in rows[1:]]
    assert any(c.startswith("'- ") for c in comments)
    assert not any(c[:1] in "=+-@" for c in comments if c)


def test_zip_entries_are_readable_by_all(node):
    resp = node.app.test_client().get(f"/datasets/{EDGE_SLUG}/datapackage.zip")
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert modes == {"datapackage.json": 0o644, "records.csv": 0o644}


def test_catalogue_modified_is_the_same_on_every_page(node):
    from catalog.models import Dataset

    times = {
        "plain-survey": datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC),
        EDGE_SLUG: datetime(2025, 2, 1, 10, 0, 0, tzinfo=UTC),
    }
    with node.runtime.db.session() as s:
        for slug, when in times.items():
            s.query(Dataset).filter(Dataset.slug == slug).update({Dataset.updated_at: when})
    client = node.app.test_client()
    for ext, fmt in (("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")):
        seen = []
        for page in (1, 2):
            resp = client.get(f"/catalog.{ext}?per_page=1&page={page}")
            assert resp.status_code == 200
            g = Graph().parse(data=resp.data.decode(), format=fmt)
            (cat,) = g.subjects(ns.RDF.type, ns.DCAT.Catalog)
            assert len(set(g.subjects(ns.RDF.type, ns.DCAT.Dataset))) == 1
            seen.append(g.value(cat, ns.DCTERMS.modified).toPython())
        assert seen == [times["plain-survey"]] * 2, (ext, seen)


def _version(columns: dict) -> SimpleNamespace:
    return SimpleNamespace(columns=columns)


def test_constraints_agree_with_the_published_types(tmp_path):
    df = pl.DataFrame(
        {
            "district": [1, 2, 5, None],
            "age": [34, 70, 18, 41],
            "sex": ["female", "male", "other", None],
            "flag": [True, False, True, None],
        }
    )
    version = _version(
        {
            "district": {"role": "dimension", "dimension": "district"},
            "age": {"role": "quasi_identifier", "dimension": "age"},
            "sex": {"role": "dimension", "dimension": "sex"},
            "flag": {"role": "dimension", "dimension": "urban_rural"},
        }
    )
    fields = {f["name"]: f for f in records_schema(df, version)["fields"]}
    assert fields["district"]["type"] == "integer"
    enum = fields["district"]["constraints"]["enum"]
    assert all(type(v) is int for v in enum) and {1, 2, 5} <= set(enum)
    assert fields["age"]["type"] == "integer" and "pattern" not in fields["age"].get(
        "constraints", {}
    )
    assert fields["sex"]["type"] == "string" and "other" in fields["sex"]["constraints"]["enum"]
    assert fields["flag"]["type"] == "boolean"
    assert all(type(v) is bool for v in fields["flag"].get("constraints", {}).get("enum", []))
    (tmp_path / "r.csv").write_text(package_csv_text(df))
    schema = frictionless.Schema.from_descriptor(
        {"fields": list(fields.values()), "missingValues": [""]}
    )
    resource = frictionless.Resource(path="r.csv", basepath=str(tmp_path), schema=schema)
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_age_bands_keep_an_unanchored_pattern(tmp_path):
    assert not AGE_PATTERN.startswith("^") and not AGE_PATTERN.endswith("$")
    for code in ("7", "34", "30-39", "70+"):
        assert re.fullmatch(AGE_PATTERN, code), code
    for code in ("", "abc", "30-", "1234", "30-39x"):
        assert not re.fullmatch(AGE_PATTERN, code), code
    df = pl.DataFrame({"age": ["30-39", "70+", "5"]})
    fields = records_schema(df, _version({"age": {"role": "quasi_identifier", "dimension": "age"}}))
    assert fields["fields"][0]["constraints"] == {"pattern": AGE_PATTERN}
    (tmp_path / "a.csv").write_text(package_csv_text(df))
    schema = frictionless.Schema.from_descriptor({"fields": fields["fields"]})
    ok = frictionless.Resource(path="a.csv", basepath=str(tmp_path), schema=schema).validate()
    assert ok.valid, ok.flatten(["rowNumber", "fieldName", "type", "note"])
    (tmp_path / "b.csv").write_text("age\nabout 30\n")
    bad = frictionless.Resource(path="b.csv", basepath=str(tmp_path), schema=schema).validate()
    assert not bad.valid


def test_package_csv_quotes_but_does_not_neutralise():
    df = pl.DataFrame({"=a,b": ["- x", '@"q"', "line\nbreak", "+1"], "@n": [1.5, -2.0, 3.0, 4.0]})
    rows = list(csv.reader(io.StringIO(package_csv_text(df))))
    assert rows[0] == ["=a,b", "@n"]
    assert [r[0] for r in rows[1:]] == ["- x", '@"q"', "line\nbreak", "+1"]
    spreadsheet = list(csv.reader(io.StringIO(csv_text(df))))
    assert spreadsheet[0] == ["'=a,b", "'@n"] and spreadsheet[1][0] == "'- x"


def test_graphql_distributions_are_the_ones_ckan_lists(node):
    """Over HTTP: the GraphQL answer (built from the search document) and CKAN's resources
    (built from the catalogue) give the same downloads with the same media types."""
    answer = requests.post(
        f"{node.url}/graphql",
        json={
            "query": "query($s: String!) { dataset(slug: $s) { distributions { mediaType url } } }",
            "variables": {"s": EDGE_SLUG},
        },
        timeout=15,
    ).json()
    graphql = {(d["mediaType"], d["url"]) for d in answer["data"]["dataset"]["distributions"]}
    package = requests.get(
        f"{node.url}/api/3/action/package_show", params={"id": EDGE_SLUG}, timeout=15
    ).json()["result"]
    assert graphql == {(r["mimetype"], r["url"]) for r in package["resources"]}
    assert len(graphql) == 4
