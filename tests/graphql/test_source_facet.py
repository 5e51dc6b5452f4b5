"""The ``source`` facet and filter of ``datasets``: published here (local) or harvested."""

from __future__ import annotations

from catalog.models import Dataset
from catalog.principal import system
from catalog.services import organisations
from indexer.dataset_index import refresh_dataset_document
from indexer.synthetic import demo_metadata, generate_survey
from portal.ingest import ingest_file

SOURCE_QUERY = """query($source: [String!]) {
  datasets(filter: { source: $source }, orderBy: TITLE) {
    totalCount
    facets { field values { value label count } }
    edges { node { title source } }
  }
}"""


def _publish(rt, tmp, title: str, seed: int) -> str:
    meta = demo_metadata()
    meta["title"] = {"en": title}
    path = tmp / f"{seed}.csv"
    generate_survey(60, seed=seed).write_csv(path)
    return ingest_file(rt, path, "samata", meta, publish=True)["dataset"]


def test_datasets_facet_and_filter_by_source_harvested_or_local(fresh_server, tmp_path):
    live = fresh_server()
    rt = live.runtime
    with rt.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
    _publish(rt, tmp_path, "Local survey A", 1)
    _publish(rt, tmp_path, "Local survey B", 2)
    harvested = _publish(rt, tmp_path, "Harvested survey", 3)
    with rt.db.session() as s:
        s.get(Dataset, harvested).source = "hdx"
    refresh_dataset_document(rt.ctx, harvested)

    everything = live.execute(SOURCE_QUERY)["datasets"]
    facets = {f["field"]: f["values"] for f in everything["facets"]}
    assert everything["totalCount"] == 3
    assert sorted((v["value"], v["count"], v["label"]) for v in facets["source"]) == [
        ("hdx", 1, "Harvested from hdx"),
        ("local", 2, "Published on this portal"),
    ]

    only_harvested = live.execute(SOURCE_QUERY, {"source": ["hdx"]})["datasets"]
    assert [e["node"] for e in only_harvested["edges"]] == [
        {"title": "Harvested survey", "source": "hdx"}
    ]
    # facet counts are over the matches: the filter leaves only the harvested one
    assert {
        v["value"]: v["count"]
        for f in only_harvested["facets"]
        if f["field"] == "source"
        for v in f["values"]
    } == {"hdx": 1}

    only_local = live.execute(SOURCE_QUERY, {"source": ["local"]})["datasets"]
    assert [e["node"]["title"] for e in only_local["edges"]] == ["Local survey A", "Local survey B"]
