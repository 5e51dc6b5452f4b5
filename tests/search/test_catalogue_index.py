"""The catalogue and the index together, on SQLite and PostgreSQL catalogues.

`cgd reindex` (indexer.pipeline.reindex_all) rebuilds the index from the
catalogue beside the live one and switches in one step; the dataset document
is built from published facts only (indexer.documents), and refreshed alone
after a change such as an endorsement (indexer.dataset_index).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from catalog.models import Dataset
from catalog.principal import system
from catalog.services import organisations
from indexer.dataset_index import refresh_dataset_document
from indexer.documents import dataset_document
from indexer.pipeline import reindex_all
from indexer.search import SearchQuery
from indexer.synthetic import demo_metadata, generate_survey
from portal.ingest import ingest_file

ROOT = Path(__file__).resolve().parents[2]


def publish_demo(runtime, tmp_path, slug="samata", rows=300, seed=11, **meta):
    with runtime.db.session() as s:
        if not _org_exists(s, slug):
            organisations.create_organisation(
                s, system(), slug=slug, name=f"{slug.title()} Collective"
            )
    path = tmp_path / f"survey-{seed}.csv"
    generate_survey(rows, seed=seed).write_csv(path)
    result = ingest_file(runtime, path, slug, {**demo_metadata(), **meta}, publish=True)
    assert result["status"] == "published", result
    with runtime.db.session() as s:
        dataset = s.scalars(select(Dataset).order_by(Dataset.created_at.desc())).first()
        return dataset.id


def _org_exists(session, slug):
    from catalog.models import Organisation

    return session.scalar(select(Organisation).where(Organisation.slug == slug)) is not None


def test_dataset_document_holds_only_published_facts(runtime, tmp_path):
    dataset_id = publish_demo(runtime, tmp_path)
    with runtime.db.session() as s:
        dataset = s.get(Dataset, dataset_id)
        doc = dataset_document(dataset, dataset.published_version)
        columns = dataset.published_version.columns
    assert doc["organisation"]["slug"] == "samata" and doc["source"] == "local"
    assert doc["title"]["ne"].startswith("सीमान्तकृत")
    assert doc["version_id"] and doc["record_count"] > 0
    assert set(doc["topics"]) == {"water", "sanitation", "disability", "social-protection"}
    # Dimensions are those of the published columns; identifiers never appear.
    assert doc["dimensions"] and set(doc["dimensions"]) <= {
        c.get("dimension") for c in columns.values()
    }
    assert "respondent_name" not in str(doc) and "phone" not in doc["dimensions"]
    indexed = runtime.search.get_dataset(dataset_id)
    assert indexed["version_id"] == doc["version_id"]


def test_reindex_rebuilds_search_records_and_cube_from_the_catalogue(runtime, tmp_path):
    first = publish_demo(runtime, tmp_path, seed=11)
    second = publish_demo(
        runtime, tmp_path, slug="fedo", seed=12, title={"en": "Dalit land survey"}
    )
    search = runtime.search
    before = {
        ds: (search.records(ds, limit=1000).rows, search.cube(ds, ("sex",)))
        for ds in (first, second)
    }
    # A stray document that the catalogue does not know: the rebuild drops it.
    search.index_dataset({"id": "stray", "title": {"en": "stray water"}})
    assert reindex_all(runtime.ctx) == 2
    assert {h.id for h in search.search(SearchQuery(limit=10)).hits} == {first, second}
    assert search.get_dataset("stray") is None
    for ds, (rows, cells) in before.items():
        assert search.records(ds, limit=1000).rows == rows
        assert search.cube(ds, ("sex",)) == cells  # the cell key makes the cube repeatable
    assert search.search(SearchQuery(text="खाने*", lang="ne")).total >= 1
    facets = search.search(SearchQuery()).facets
    assert dict(facets["organisation"]) == {"samata": 1, "fedo": 1}
    assert dict(facets["source"]) == {"local": 2}


def test_withdrawn_or_unpublished_datasets_are_not_indexed_by_refresh(runtime, tmp_path):
    dataset_id = publish_demo(runtime, tmp_path)
    assert refresh_dataset_document(runtime.ctx, dataset_id)["indexed"] is True
    with runtime.db.session() as s:
        s.get(Dataset, dataset_id).withdrawn = True
    assert refresh_dataset_document(runtime.ctx, dataset_id) == {"indexed": False}
    assert refresh_dataset_document(runtime.ctx, "no-such-dataset") == {"indexed": False}
    assert reindex_all(runtime.ctx) == 0
    assert runtime.search.search(SearchQuery()).total == 0


def test_harvested_datasets_carry_their_source_facet(runtime, tmp_path):
    dataset_id = publish_demo(runtime, tmp_path)
    with runtime.db.session() as s:
        s.get(Dataset, dataset_id).source = "hdx"
    refresh_dataset_document(runtime.ctx, dataset_id)
    result = runtime.search.search(SearchQuery(filters={"source": ["hdx"]}))
    assert [h.id for h in result.hits] == [dataset_id]
    assert dict(result.facets["source"]) == {"hdx": 1}


def test_cgd_reindex_command_switches_to_a_fresh_index(app, runtime, tmp_path):
    dataset_id = publish_demo(runtime, tmp_path, rows=120)
    rows = runtime.search.records(dataset_id, limit=1000).rows

    def generation():
        con = sqlite3.connect(app.config["SEARCH_PATH"])
        try:
            return int(con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        finally:
            con.close()

    before = generation()
    env = {
        "CGD_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "CGD_DATABASE_URL": app.config["DATABASE_URL"],
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-m", "portal.cli", "reindex"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "reindexed 1 datasets"
    assert generation() == before + 1
    # The serving process sees the new index at its next read.
    assert runtime.search.records(dataset_id, limit=1000).rows == rows
    assert [h.id for h in runtime.search.search(SearchQuery(text="sanitation")).hits] == [
        dataset_id
    ]
