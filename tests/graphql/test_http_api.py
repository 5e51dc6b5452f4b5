"""The public API over HTTP with the gql client: introspection, paging, aggregates, errors."""

from __future__ import annotations

import pytest
import requests
from gql import gql
from gql.transport.exceptions import TransportQueryError
from graphql import print_schema


def errors_of(live, query: str, variables=None, token=None) -> list[dict]:
    with pytest.raises(TransportQueryError) as caught:
        live.execute(query, variables, token)
    return caught.value.errors


def test_introspection_gives_the_whole_schema_to_the_client(corpus_server):
    from api.graphql.schema import schema_sdl

    with corpus_server.client(introspect=True) as session:
        session.fetch_schema()
        fetched = print_schema(session.client.schema)
    assert fetched.strip() == schema_sdl().strip()


def test_datasets_page_to_the_end_one_at_a_time(corpus_server):
    query = """query($after: String) { datasets(first: 1, after: $after, orderBy: TITLE) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { slug } } } }"""
    slugs, after = [], None
    while True:
        page = corpus_server.execute(query, {"after": after})["datasets"]
        slugs.extend(e["node"]["slug"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(slugs) == len(set(slugs)) == page["totalCount"] == 4


def test_records_page_to_the_end_without_repeats(corpus_server):
    slug = corpus_server.extras["corpus"]["siraha-disability"]["result"]["slug"]
    query = """query($d: String!, $after: String) { records(dataset: $d, first: 50, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { values } } }"""
    seen, after, pages = [], None, 0
    while True:
        page = corpus_server.execute(query, {"d": slug, "after": after})["records"]
        seen.extend(n["values"] for n in page["nodes"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] > 100
    assert pages == -(-len(seen) // 50)
    assert all("respondent_name" not in r and "phone" not in r for r in seen)


def test_small_aggregate_cells_are_suppressed_with_no_count_or_mean(corpus_server):
    slug = corpus_server.extras["corpus"]["siraha-disability"]["result"]["slug"]
    answer = corpus_server.execute(
        """query($d: String!) { aggregate(dataset: $d, by: ["caste_ethnicity", "sex"]) {
            suppressedCount cells { suppressed count means { measure value } } } }""",
        {"d": slug},
    )["aggregate"]
    suppressed = [c for c in answer["cells"] if c["suppressed"]]
    shown = [c for c in answer["cells"] if not c["suppressed"]]
    assert suppressed and answer["suppressedCount"] == len(suppressed)
    assert all(
        c["count"] is None and all(m["value"] is None for m in c["means"]) for c in suppressed
    )
    assert all(c["count"] >= 10 for c in shown)


def test_aggregate_of_four_dimensions_is_refused_with_a_code(corpus_server):
    slug = corpus_server.extras["corpus"]["water"]["result"]["slug"]
    errors = errors_of(
        corpus_server,
        """query($d: String!) { aggregate(dataset: $d, by: ["sex", "caste_ethnicity", "district"],
            filter: [{dimension: "sex", code: "female"}]) { by } }""",
        {"d": slug},
    )
    assert errors[0]["extensions"]["code"] in {"too_many_dimensions", "invalid_aggregate"}


def test_dataset_by_slug_node_roundtrip_and_language(corpus_server):
    slug = corpus_server.extras["corpus"]["water"]["result"]["slug"]
    one = corpus_server.execute(
        """query($s: String!) { dataset(slug: $s) { id slug title titleNe: title(lang: "ne")
            organization { slug name datasetCount } dimensions { column codes { code } }
            distributions { format url } methodology { purpose } versions { number status } } }""",
        {"s": slug},
    )["dataset"]
    assert one["titleNe"].startswith("सीमान्तकृत")
    assert one["organization"] == {"slug": "samata", "name": "Samata Collective", "datasetCount": 2}
    assert {d["column"] for d in one["dimensions"]} >= {"caste_ethnicity", "district"}
    assert one["distributions"][0]["url"].startswith("http://portal.test/datasets/")
    assert one["versions"] == [{"number": 1, "status": "published"}]
    node = corpus_server.execute(
        "query($id: ID!) { node(id: $id) { __typename ... on Dataset { slug } } }",
        {"id": one["id"]},
    )["node"]
    assert node == {"__typename": "Dataset", "slug": slug}


def test_accept_language_picks_the_label_language(corpus_server):
    body = requests.post(
        f"{corpus_server.url}/graphql",
        json={"query": '{ dimension(code: "sex") { label } }'},
        headers={"Accept-Language": "ne,en;q=0.5"},
        timeout=10,
    ).json()
    english = corpus_server.execute('{ dimension(code: "sex") { label } }')
    assert body["data"]["dimension"]["label"] != english["dimension"]["label"]


def test_organizations_and_dimensions(corpus_server):
    answer = corpus_server.execute(
        "{ organizations(first: 10) { totalCount edges { node { slug datasetCount } } } dimensions { code } }"
    )
    counts = {
        e["node"]["slug"]: e["node"]["datasetCount"] for e in answer["organizations"]["edges"]
    }
    assert counts == {"samata": 2, "karnali-dpo": 1, "madhesh-dpo": 1}
    assert "caste_ethnicity" in {d["code"] for d in answer["dimensions"]}


def test_unknown_dataset_is_a_stable_code_not_a_crash(corpus_server):
    errors = errors_of(corpus_server, '{ records(dataset: "no-such-thing") { totalCount } }')
    assert errors[0]["extensions"]["code"] == "dataset_not_found"
    assert errors_of(corpus_server, "{ datasets(first: 1) { nope } }")[0]["extensions"]["code"] == (
        "validation_failed"
    )
    # gql refuses to send a document it cannot parse: send the broken text raw.
    broken = requests.post(
        f"{corpus_server.url}/graphql", json={"query": "{ datasets("}, timeout=10
    ).json()
    assert broken["errors"][0]["extensions"]["code"] == "syntax_error" and "data" not in broken
    bad_cursor = errors_of(corpus_server, '{ datasets(after: "zzz") { totalCount } }')
    assert bad_cursor[0]["extensions"]["code"] == "bad_cursor"


def test_resolver_crash_is_masked_and_logged_with_a_reference(fresh_server, caplog):
    live = fresh_server()
    secret = "postgresql://portal:s3cret-pass@db.internal:5432/cgd"

    def broken(*args, **kwargs):
        raise RuntimeError(f"could not connect to {secret}")

    live.runtime.search.search = broken  # the fault: the search backend fails mid-request
    response = requests.post(
        f"{live.url}/graphql", json={"query": "{ datasets { totalCount } }"}, timeout=10
    )
    text = response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "internal_error"
    assert "s3cret" not in text and "Traceback" not in text and "RuntimeError" not in text
    reference = error["extensions"]["reference"]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "s3cret" in str(logged[0].exc_info[1])


def test_get_with_a_query_runs_it_but_never_a_mutation(corpus_server):
    ok = requests.get(
        f"{corpus_server.url}/graphql", params={"query": "{ dimensions { code } }"}, timeout=10
    )
    assert ok.status_code == 200 and ok.json()["data"]["dimensions"]
    refused = requests.get(
        f"{corpus_server.url}/graphql",
        params={"query": 'mutation { withdrawVersion(version: "x") { job { id } } }'},
        timeout=10,
    )
    assert refused.status_code == 405
    assert refused.json()["errors"][0]["extensions"]["code"] == "method_not_allowed"


def test_gql_document_with_fragments_and_variables(corpus_server):
    with corpus_server.client() as session:
        answer = session.execute(
            gql(
                """fragment D on Dataset { slug recordCount }
                query($q: String!) { datasets(query: $q, first: 5) { edges { node { ...D } } } }"""
            ),
            variable_values={"q": "disability"},
        )
    assert answer["datasets"]["edges"] and all(
        e["node"]["recordCount"] > 0 for e in answer["datasets"]["edges"]
    )


def test_search_facets_count_every_match_and_highlights_mark_the_words(corpus_server):
    answer = corpus_server.execute(
        """{ datasets(query: "disability", first: 1) { totalCount
            facets { field values { value label count } }
            edges { node { highlights { field snippet } } } } }"""
    )["datasets"]
    facets = {f["field"]: {v["value"]: v["count"] for v in f["values"]} for f in answer["facets"]}
    assert set(facets) == {
        "organization",
        "topic",
        "dimension",
        "place",
        "licence",
        "language",
        "endorsed",
        "source",
    }
    assert facets["source"] == {"local": 4}
    # every survey has a disability column; three are about disability
    assert sum(facets["organization"].values()) == answer["totalCount"] == 4
    assert facets["topic"]["disability"] == 3
    snippets = [h["snippet"] for e in answer["edges"] for h in e["node"]["highlights"]]
    assert any("<mark>" in s.lower() for s in snippets)


def test_get_variables_nested_too_deeply_are_a_bad_request_not_a_crash(corpus_server):
    for variables in ("[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000):
        r = requests.get(
            f"{corpus_server.url}/graphql",
            params={"query": "{ __typename }", "variables": variables},
            headers={"Accept": "application/json"},
            timeout=15,
        )
        assert r.status_code == 400
        assert r.json()["errors"][0]["extensions"]["code"] == "bad_request"


def test_a_query_sent_as_application_graphql(corpus_server):
    answer = requests.post(
        f"{corpus_server.url}/graphql",
        data="query Q($n: Int) { datasets(first: $n) { totalCount } }",
        params={"variables": '{"n": 1}', "operationName": "Q"},
        headers={"Content-Type": "application/graphql"},
        timeout=15,
    )
    assert answer.status_code == 200 and answer.json()["data"]["datasets"]["totalCount"] == 4
