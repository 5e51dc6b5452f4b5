"""The worked queries of docs/graphql.md, run as written over HTTP, and their answers."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from indexer.disclosure.cube import published_mean

DOC = Path(__file__).resolve().parents[2] / "docs" / "graphql.md"
DALIT = {"hill_dalit", "madhesi_dalit"}


def doc_query(name: str) -> str:
    """The GraphQL block that follows ``<!-- query: name -->`` in the documentation."""
    match = re.search(
        rf"<!-- query: {re.escape(name)} -->\s*```graphql\n(.*?)```", DOC.read_text(), re.DOTALL
    )
    assert match, f"docs/graphql.md has no query {name!r}"
    return match.group(1)


def all_records(live, slug: str) -> list[dict]:
    rows, after, pages = [], None, 0
    while True:
        page = live.execute(doc_query("records-page"), {"dataset": slug, "after": after})["records"]
        rows.extend(page["rows"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            assert len(rows) == page["totalCount"]
            return rows
        after = page["pageInfo"]["endCursor"]
        assert pages < 100


def test_share_without_water_by_caste_in_saptari_is_highest_for_dalit_households(corpus_server):
    slug = corpus_server.extras["corpus"]["water"]["result"]["slug"]
    cells = corpus_server.execute(doc_query("water-by-caste-saptari"), {"dataset": slug})[
        "aggregate"
    ]["cells"]
    shares = {}
    for cell in cells:
        dims = {d["column"]: d for d in cell["dimensions"]}
        assert dims["district"]["label"] == "Saptari"
        if not cell["suppressed"]:
            shares[dims["caste_ethnicity"]["code"]] = 1 - cell["hasWater"]
    assert len(shares) >= 8
    worst_non_dalit = max(v for k, v in shares.items() if k not in DALIT)
    assert all(shares[k] > worst_non_dalit for k in DALIT)

    # The same shares from the anonymised records of the published version.
    records = pl.DataFrame(all_records(corpus_server, slug))
    saptari = records.filter(pl.col("district") == "15")
    from_records = {
        row["caste_ethnicity"]: 1 - row["access"]
        for row in saptari.group_by("caste_ethnicity")
        .agg(pl.col("has_water_access").mean().alias("access"))
        .iter_rows(named=True)
        if row["caste_ethnicity"] is not None
    }
    # The cube publishes means to three significant figures (see cube.published_mean).
    for code, share in shares.items():
        assert abs(share - (1 - published_mean(1 - from_records[code]))) < 1e-9, code


def test_datasets_on_disability_in_madhesh_province(corpus_server):
    answer = corpus_server.execute(doc_query("disability-in-madhesh"))["datasets"]
    titles = [e["node"]["title"] for e in answer["edges"]]
    assert answer["totalCount"] == 2
    assert titles == sorted(titles)
    assert "Disability allowance uptake in Siraha" in titles
    assert any(t.startswith("Access to water, sanitation and services") for t in titles)
    assert not any("Surkhet" in t or "Dhanusha" in t for t in titles)


def test_coverage_lists_every_caste_group_with_gaps_as_zero(corpus_server):
    from schema.vocabularies import DIMENSIONS

    answer = corpus_server.execute(doc_query("coverage-caste-madhesh"))["coverage"]
    groups = {g["code"]: g["datasetCount"] for g in answer["groups"]}
    assert set(groups) == {c.code for c in DIMENSIONS["caste_ethnicity"].codes}
    assert groups["madhesi_dalit"] >= 1
    assert answer["datasetCount"] >= 2
    assert 0 in groups.values()
