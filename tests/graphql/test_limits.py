"""Every limit, over HTTP: refused before execution with a stable code and its figures."""

from __future__ import annotations

import pytest
import requests

from .conftest import person, personal_token


def post(live, body, headers=None):
    return requests.post(f"{live.url}/graphql", json=body, headers=headers or {}, timeout=15)


def first_error(response) -> dict:
    return response.json()["errors"][0]


def test_first_above_100_is_refused_before_execution(corpus_server):
    r = post(corpus_server, {"query": "{ datasets(first: 101) { totalCount } }"})
    error = first_error(r)
    assert error["extensions"]["code"] == "bad_first" and "data" not in r.json()
    via_variable = post(
        corpus_server,
        {
            "query": "query($n: Int) { organizations(first: $n) { totalCount } }",
            "variables": {"n": 500},
        },
    )
    assert first_error(via_variable)["extensions"]["code"] == "bad_first"


def test_depth_limit(corpus_server):
    deep = "{ organizations(first: 1) { edges { node { datasets(first: 1) { edges { node { organization { datasets(first: 1) { edges { node { slug } } } } } } } } } } }"
    error = first_error(post(corpus_server, {"query": deep}))
    assert error["extensions"]["code"] == "query_too_deep"
    assert error["extensions"]["depth"] == 11 and error["extensions"]["maxDepth"] == 10


def test_cost_multiplies_nested_connections_and_is_refused_with_the_computed_cost(corpus_server):
    query = """{ organizations(first: 100) { edges { node {
        datasets(first: 100) { edges { node { organization { name } } } } } } } }"""
    # organizations 1, edges 100, node 100, datasets 100, edges 100*100, node 100*100,
    # organization 100*100
    expected = 1 + 100 + 100 + 100 + 3 * 100 * 100
    error = first_error(post(corpus_server, {"query": query}))
    assert error["extensions"] == {"code": "query_too_costly", "cost": expected, "maxCost": 20_000}
    fits = post(
        corpus_server,
        {
            "query": query.replace(
                "first: 100) { edges { node { organization",
                "first: 10) { edges { node { organization",
            )
        },
    )
    assert "errors" not in fits.json()


def test_rate_limit_field_reports_this_query_cost(corpus_server):
    answer = corpus_server.execute(
        "{ datasets(first: 100) { edges { node { slug organization { name } } } } rateLimit { cost nodeCount limit remaining } }"
    )["rateLimit"]
    # datasets weighs 2; edges, node and organization 100 each; rateLimit 1
    assert answer["nodeCount"] == 2 + 300 + 1 and answer["cost"] == 4
    assert answer["limit"] == 2000


def test_introspection_is_not_limited_by_depth(corpus_server):
    from graphql import get_introspection_query

    r = post(corpus_server, {"query": get_introspection_query(descriptions=True)})
    assert "errors" not in r.json() and r.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_alias_limit(corpus_server):
    fields = " ".join(f'a{i}: dimension(code: "sex") {{ code }}' for i in range(31))
    error = first_error(post(corpus_server, {"query": "{ " + fields + " }"}))
    assert (
        error["extensions"]["code"] == "too_many_aliases" and error["extensions"]["aliases"] == 31
    )
    ok = " ".join(f'a{i}: dimension(code: "sex") {{ code }}' for i in range(30))
    assert "errors" not in post(corpus_server, {"query": "{ " + ok + " }"}).json()


def test_batch_limit_and_batches_answered_in_order(corpus_server):
    ops = [{"query": f'{{ dimension(code: "{c}") {{ code }} }}'} for c in ("sex", "district")]
    answers = post(corpus_server, ops).json()
    assert [a["data"]["dimension"]["code"] for a in answers] == ["sex", "district"]
    too_many = post(corpus_server, ops * 3)
    assert too_many.status_code == 400
    assert first_error(too_many)["extensions"] == {"code": "batch_too_large", "maxBatch": 5}


def test_query_text_and_token_limits(corpus_server):
    long_text = "{ dimensions { code } }" + " " * 20_001
    assert (
        first_error(post(corpus_server, {"query": long_text}))["extensions"]["code"]
        == "query_too_large"
    )
    many_tokens = "{ " + " ".join("dimensions { code }" for _ in range(1300)) + " }"
    assert (
        first_error(post(corpus_server, {"query": many_tokens}))["extensions"]["code"]
        == "query_too_large"
    )


def test_points_per_hour_are_spent_then_refused_and_a_token_has_its_own_larger_budget(fresh_server):
    live = fresh_server(
        RATELIMIT_ENABLED=True, GRAPHQL_POINTS_ANONYMOUS=3, GRAPHQL_POINTS_AUTHENTICATED=10
    )
    small = {"query": "{ rateLimit { remaining used limit } }"}
    seen = [post(live, small).json()["data"]["rateLimit"]["remaining"] for _ in range(3)]
    assert seen == [2, 1, 0]
    refused = post(live, small)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert first_error(refused)["extensions"]["code"] == "rate_limited"
    assert refused.json().get("data") is None

    from catalog.principal import system
    from catalog.services import organisations

    with live.runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata")
    reader = person(live.runtime, "analyst@example.org", "samata", "member")
    token = personal_token(live.runtime, reader, ["samata"], ["datasets:read-private"])
    answer = post(live, small, {"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json()["data"]["rateLimit"] == {"remaining": 9, "used": 1, "limit": 10}
    assert answer.headers["X-RateLimit-Limit"] == "10" and answer.headers["X-GraphQL-Cost"] == "1"


def test_expensive_query_costs_more_points(fresh_server):
    live = fresh_server(RATELIMIT_ENABLED=True, GRAPHQL_POINTS_ANONYMOUS=100)
    q = "{ organizations(first: 100) { edges { node { datasets(first: 50) { edges { node { slug } } } } } } rateLimit { cost remaining } }"
    # 1 + 100 + 100 + 100 + 100*50*2 + 1 = 10302 nodes -> 104 points, more than the 100 left
    r = post(live, {"query": q})
    assert r.status_code == 429
    assert (
        first_error(r)["extensions"]["cost"] == 104
        and first_error(r)["extensions"]["remaining"] == 100
    )
    cheaper = post(live, {"query": q.replace("first: 50", "first: 40")})
    # 1 + 300 + 100*40*2 + 1 = 8302 nodes -> 84 points
    assert cheaper.json()["data"]["rateLimit"] == {"cost": 84, "remaining": 16}


def test_budget_is_shared_through_redis_by_every_process(fresh_server):
    from ..conftest import require_service

    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
        error = None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        error = str(exc)
    require_service("Redis", error)
    import uuid

    config = {
        "RATELIMIT_ENABLED": True,
        "GRAPHQL_POINTS_ANONYMOUS": 4,
        "GRAPHQL_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "GRAPHQL_RATELIMIT_KEY_PREFIX": f"cgd-test-{uuid.uuid4().hex}",
    }
    one, two = fresh_server(**config), fresh_server(**config)
    small = {"query": "{ rateLimit { remaining } }"}
    r1 = [post(one, small).json()["data"]["rateLimit"]["remaining"] for _ in range(2)]
    r2 = [post(two, small).json()["data"]["rateLimit"]["remaining"] for _ in range(2)]
    assert r1 + r2 == [3, 2, 1, 0]
    assert post(one, small).status_code == 429


@pytest.mark.parametrize("body", [[], "not an object", {"query": 5}])
def test_malformed_requests_are_400_with_a_code(corpus_server, body):
    r = post(corpus_server, body)
    assert r.status_code == 400 and first_error(r)["extensions"]["code"] == "bad_request"


def test_a_crowded_selection_set_is_refused_before_validation(corpus_server):
    crowded = "{ dimensions { " + "code " * 2400 + "} }"
    error = first_error(post(corpus_server, {"query": crowded}))
    assert error["extensions"]["code"] == "query_too_large"
    assert "at most 200" in error["message"]
    fits = post(corpus_server, {"query": "{ dimensions { " + "code " * 150 + "} }"})
    assert "errors" not in fits.json()


def test_the_token_limit_has_its_own_code(corpus_server):
    many = "{" + "".join(f"a{i}:rateLimit{{cost}}" for i in range(900)) + "}"  # 5,400 tokens
    error = first_error(post(corpus_server, {"query": many}))
    assert error["extensions"]["code"] == "query_too_large" and "tokens" in error["message"]


def test_node_of_an_id_naming_nothing_is_null(corpus_server):
    for bad in ("garbage", "VXNlcjox", ""):  # not base64; "User:1", a type not in the schema
        answer = post(
            corpus_server,
            {"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": bad}},
        )
        assert answer.json() == {"data": {"node": None}}, bad


def test_a_column_filtered_twice_keeps_what_both_filters_accept(corpus_server):
    slug = corpus_server.extras["corpus"]["siraha-disability"]["result"]["slug"]
    query = """query($d: String!, $f: [RecordFilter!]) {
        records(dataset: $d, filter: $f, first: 1) { totalCount } }"""

    def total(*filters):
        value = [{"column": "sex", "values": v} for v in filters]
        return corpus_server.execute(query, {"d": slug, "f": value})["records"]["totalCount"]

    females = total(["female"])
    assert 0 < females < total(["female", "male"])
    assert total(["female", "male"], ["female"]) == females
    assert total(["male"], ["female"]) == 0
