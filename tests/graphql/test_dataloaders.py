"""No N+1: a page of 100 datasets with every relation costs a fixed handful of SQL statements."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from catalog.models import DatasetVersion
from catalog.principal import system
from catalog.services import datasets as dataset_service
from catalog.services import organisations
from indexer.documents import dataset_document
from indexer.synthetic import SURVEY_COLUMNS, demo_metadata

PAGE_QUERY = """query($n: Int) { datasets(first: $n, orderBy: TITLE) { totalCount edges { node {
    title organization { name kind datasetCount } versions { number status anonymisation { k } }
    methodology { purpose } anonymisation { k } dimensions { column } measures
    endorsements { statement } } } } }"""


def publish_many(runtime, count: int, orgs: int = 7) -> None:
    """``count`` datasets marked published by the catalogue and indexed (no pipeline run)."""
    with runtime.db.session() as s:
        slugs = []
        for i in range(orgs):
            org = organisations.create_organisation(
                s, system(), slug=f"cso-{i:02d}", name=f"CSO {i}"
            )
            slugs.append(org.slug)
        for i in range(count):
            meta = demo_metadata()
            meta["title"] = {"en": f"Survey {i:03d} of household water access"}
            ds = dataset_service.create_dataset(s, system(), slugs[i % orgs], meta)
            version = DatasetVersion(
                dataset=ds,
                number=1,
                status="awaiting_approval",
                metadata_=meta,
                columns=SURVEY_COLUMNS,
                record_count=100 + i,
                disclosure_report={"k": 5},
            )
            s.add(version)
            s.flush()
            dataset_service.mark_published(s, version)
            s.flush()
            runtime.search.index_dataset(dataset_document(ds, version))


@contextmanager
def counting_statements(engine):
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_a_100_dataset_page_costs_the_same_few_statements_as_a_10_dataset_page(app, runtime):
    publish_many(runtime, 100)
    client = app.test_client()
    counts = {}
    for n in (10, 100):
        with counting_statements(runtime.db.engine) as seen:
            body = client.post(
                "/graphql", json={"query": PAGE_QUERY, "variables": {"n": n}}
            ).get_json()
        assert "errors" not in body, body["errors"][:2]
        edges = body["data"]["datasets"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["versions"][0]["status"] == "published" for e in edges)
        assert {e["node"]["organization"]["datasetCount"] for e in edges} <= {14, 15}
        counts[n] = len([s for s in seen if s.lstrip().upper().startswith("SELECT")])
    # one statement per relation (organisations, versions, datasets, endorsements), whatever the page size
    assert counts[100] == counts[10] <= 6, counts


def test_search_and_repeated_records_queries_send_no_catalogue_statement(app, runtime, tmp_path):
    from indexer.synthetic import generate_survey
    from portal.ingest import ingest_file

    with runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
    path = tmp_path / "survey.csv"
    generate_survey(150, seed=5).write_csv(path)
    slug = ingest_file(runtime, path, "samata", demo_metadata(), publish=True)["slug"]
    client = app.test_client()
    records = """query($d: String!, $after: String) { records(dataset: $d, first: 100, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } rows } }"""

    def run(query: str, variables: dict | None = None) -> dict:
        body = client.post("/graphql", json={"query": query, "variables": variables}).get_json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    # the first page looks the published dataset up in the catalogue once ...
    with counting_statements(runtime.db.engine) as seen:
        first = run(records, {"d": slug})["records"]
    assert [s for s in seen if s.lstrip().upper().startswith("SELECT")], seen
    # ... the next page, a search of titles and the rate limit need no catalogue at all
    with counting_statements(runtime.db.engine) as seen:
        second = run(records, {"d": slug, "after": first["pageInfo"]["endCursor"]})["records"]
        titles = run(
            "{ datasets(first: 5, orderBy: TITLE) { totalCount edges { node { slug title } } } }"
        )
        run("{ rateLimit { cost remaining } }")
    assert seen == []
    assert len(first["rows"]) == 100 < first["totalCount"] <= 150
    assert len(first["rows"]) + len(second["rows"]) == first["totalCount"]
    assert second["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["slug"] for e in titles["datasets"]["edges"]] == [slug]
