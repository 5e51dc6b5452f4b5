"""Repeated query texts: parsed, validated and checked against the limits once, and
still refused or answered by each request's own variables."""

from __future__ import annotations

import pytest

from api.graphql import execution
from api.graphql.execution import Caller
from api.graphql.view import endpoint_of
from catalog.principal import ANONYMOUS

from .conftest import build_app

PAGED = "query($n: Int, $after: String) { organizations(first: $n, after: $after) { totalCount } }"


@pytest.fixture
def endpoint(tmp_path):
    app = build_app(tmp_path, GRAPHQL_MAX_COST=50)
    rt = app.extensions["cgd"]
    caller = Caller(runtime=rt, principal=ANONYMOUS, address="192.0.2.7")
    endpoint = endpoint_of(app)
    yield lambda body: endpoint.run(body, caller)
    rt.close()


@pytest.fixture
def analyses(monkeypatch) -> list:
    """Each call of the real limits analysis, recorded (the analysis itself still runs)."""
    calls: list = []
    real = execution.analyse

    def counted(*args, **kwargs):
        calls.append(args[1].name.value if args[1].name else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(execution, "analyse", counted)
    return calls


def codes(outcome) -> list[str]:
    return [e["extensions"]["code"] for e in outcome.body.get("errors", [])]


def test_a_repeated_query_is_analysed_once_when_only_other_variables_change(endpoint, analyses):
    for after in (None, "b2Zmc2V0OjA=", "b2Zmc2V0OjE="):
        outcome = endpoint({"query": PAGED, "variables": {"n": 5, "after": after}})
        assert codes(outcome) == [] and outcome.body["data"]["organizations"]["totalCount"] == 0
    assert len(analyses) == 1
    assert outcome.headers["X-GraphQL-Cost"] == "1"


def test_the_cached_analysis_follows_the_value_of_a_first_variable(endpoint, analyses):
    # organizations weighs 1 node: any first fits the cost limit of 50, but first is 0..100
    assert codes(endpoint({"query": PAGED, "variables": {"n": 5}})) == []
    assert codes(endpoint({"query": PAGED, "variables": {"n": 500}})) == ["bad_first"]
    assert codes(endpoint({"query": PAGED, "variables": {"n": 5}})) == []
    assert codes(endpoint({"query": PAGED, "variables": {"n": 500}})) == ["bad_first"]
    # true is not 1 (and is refused as a bad variable, not masked as an internal error);
    # a missing variable is not null: each is analysed on its own
    refused = endpoint({"query": PAGED, "variables": {"n": True}})
    assert codes(refused) == ["invalid_query"]
    assert "Int cannot represent non-integer value: True" in refused.body["errors"][0]["message"]
    assert codes(endpoint({"query": PAGED, "variables": {}})) == []
    assert codes(endpoint({"query": PAGED, "variables": {"n": None}})) == []
    assert len(analyses) == 4  # n=5, n=500, missing, null (true is refused before)


def test_a_variable_default_is_the_first_the_limits_read(endpoint):
    with_default = "query($n: Int = 500) { organizations(first: $n) { totalCount } }"
    assert codes(endpoint({"query": with_default})) == ["bad_first"]
    assert codes(endpoint({"query": with_default, "variables": {"n": 3}})) == []


def test_a_refused_query_is_refused_again_with_its_figures_without_a_new_analysis(
    endpoint, analyses
):
    costly = "{ organizations(first: 100) { edges { node { name } } } }"
    first, again = endpoint({"query": costly}), endpoint({"query": costly})
    assert first.body == again.body
    assert again.body["errors"][0]["extensions"] == {
        "code": "query_too_costly",
        "cost": 201,
        "maxCost": 50,
    }
    assert "data" not in again.body and len(analyses) == 1


def test_each_operation_of_a_cached_document_has_its_own_analysis(endpoint, analyses):
    two = """query Small { organizations(first: 1) { edges { node { name } } } }
             query Big { organizations(first: 100) { edges { node { name } } } }"""
    for _ in range(2):
        assert codes(endpoint({"query": two, "operationName": "Small"})) == []
        assert codes(endpoint({"query": two, "operationName": "Big"})) == ["query_too_costly"]
        assert codes(endpoint({"query": two})) == ["operation_not_found"]
    assert analyses == ["Small", "Big"]


def test_syntax_and_validation_errors_are_kept_and_answered_alike(endpoint):
    for _ in range(2):
        assert codes(endpoint({"query": "{ organizations(first: 1) { "})) == ["syntax_error"]
        assert codes(endpoint({"query": "{ noSuchField }"})) == ["validation_failed"]
