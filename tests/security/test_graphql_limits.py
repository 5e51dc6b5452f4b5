"""GraphQL limits attacked over HTTP: depth, cost, aliases and batches are refused before anything runs;
introspection stays allowed."""

from __future__ import annotations

import requests
from graphql import get_introspection_query
from sqlalchemy import func, select

from .leaks import assert_clean


def _post(site, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{site.url}/graphql", json=body, headers=headers, timeout=30)


def _codes(resp) -> list[str]:
    body = resp.json()
    items = body if isinstance(body, list) else [body]
    return [e.get("extensions", {}).get("code") for item in items for e in item.get("errors", [])]


def _refused(resp, code: str) -> None:
    assert_clean(resp, code)
    assert resp.status_code in (200, 400), resp.status_code
    assert code in _codes(resp), resp.text[:400]
    body = resp.json()
    assert not isinstance(body, list) or all(not item.get("data") for item in body)
    if isinstance(body, dict):
        assert not body.get("data"), body


def _partnerships(site) -> int:
    from catalog.partnership_models import Partnership

    with site.runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(Partnership))


NESTED = "datasets(first: {n}) {{ edges {{ node {{ organization {{ {inner} }} }} }} }}"


def _nest(levels: int, first: str = "2") -> str:
    inner = "name"
    for _ in range(levels):
        inner = NESTED.format(n=first, inner=inner)
    return inner


def test_deep_queries_are_refused_also_through_fragments(site):
    _refused(_post(site, {"query": "{ " + _nest(4) + " }"}), "query_too_deep")
    fragments = (
        "fragment A on Organization { datasets(first: 2) { edges { node { organization { ...B } } } } }"
        " fragment B on Organization { datasets(first: 2) { edges { node { organization { ...C } } } } }"
        " fragment C on Organization { datasets(first: 2) { edges { node { organization { name } } } } }"
        ' { organization(slug: "samata") { ...A } }'
    )
    _refused(_post(site, {"query": fragments}), "query_too_deep")
    inline = (
        "{ "
        + _nest(4)
        .replace("organization {", "... on Dataset { organization {")
        .replace("} } } }", "} } } } }")
        + " }"
    )
    resp = _post(site, {"query": inline})
    assert "query_too_deep" in _codes(resp) or "GRAPHQL_VALIDATION_FAILED" in str(resp.json()), (
        resp.text[:300]
    )


def test_cost_counts_first_given_by_a_variable(site):
    query = (
        "query($n: Int) { datasets(first: $n) { edges { node { organization {"
        " datasets(first: $n) { edges { node { organization { datasets(first: $n) { totalCount } } } } } } } } } }"
    )
    _refused(_post(site, {"query": query, "variables": {"n": 100}}), "query_too_costly")
    assert "query_too_costly" not in _codes(_post(site, {"query": query, "variables": {"n": 1}}))


def test_a_reused_fragment_is_costed_every_time_it_is_spread(site):
    frag = (
        "fragment F on Organization { datasets(first: 100) { edges { node { organization {"
        " datasets(first: 100) { edges { node { title } } } } } } } }"
    )
    inline = (
        '{ organization(slug: "samata") { datasets(first: 100) { edges { node { organization {'
        " datasets(first: 100) { edges { node { title } } } } } } } } }"
    )
    assert "query_too_costly" in _codes(_post(site, {"query": inline}))
    spread = frag + ' { organization(slug: "samata") { ...F } }'
    assert "query_too_costly" in _codes(_post(site, {"query": spread}))
    inline_fragment = (
        inline.replace(
            '{ organization(slug: "samata") {', '{ ... on Query { organization(slug: "samata") {'
        )
        + " }"
    )
    assert "query_too_costly" in _codes(_post(site, {"query": inline_fragment}))


def test_aliases_and_batches_of_mutations_are_refused_before_any_runs(site):
    token = site.token("ada", ["org:admin"], ["samata"])
    one = (
        'p{i}: proposePartnership(title: "alias bomb {i}", parties: [{{organization: "samata"}},'
        ' {{organization: "dalit-voice"}}]) {{ __typename }}'
    )
    before = _partnerships(site)
    many = "mutation { " + " ".join(one.format(i=i) for i in range(31)) + " }"
    _refused(_post(site, {"query": many}, token), "too_many_aliases")
    batch = [{"query": "mutation { " + one.format(i=i) + " }"} for i in range(6)]
    resp = _post(site, batch, token)
    assert resp.status_code == 400 and "batch_too_large" in _codes(resp), resp.text[:300]
    deep_mutation = (
        'mutation { proposePartnership(title: "deep", parties: [{organization: "samata"},'
        ' {organization: "dalit-voice"}]) { __typename partnership { id parties { organization { '
        + _nest(3)
        + " } } } } }"
    )
    resp = _post(site, {"query": deep_mutation}, token)
    assert {"query_too_deep", "query_too_costly"} & set(
        _codes(resp)
    ) or "GRAPHQL_VALIDATION_FAILED" in resp.text, resp.text[:300]
    assert _partnerships(site) == before


def test_huge_documents_and_token_floods_are_refused(site):
    _refused(_post(site, {"query": "{ " + "__typename " * 6000 + "}"}), "query_too_large")
    _refused(_post(site, {"query": "{ dimensions { code } }" + "#" * 30_000}), "query_too_large")
    args = ", ".join(f"a{i}: 1" for i in range(3000))
    _refused(
        _post(site, {"query": "{ dimensions @skip(if: false, " + args + ") { code } }"}),
        "query_too_large",
    )


def test_introspection_is_allowed(site):
    resp = _post(site, {"query": get_introspection_query(descriptions=True)})
    assert resp.status_code == 200, resp.text[:300]
    schema = resp.json()["data"]["__schema"]
    names = {t["name"] for t in schema["types"]}
    assert {"Query", "Dataset", "Aggregate"} <= names
    assert "errors" not in resp.json()
    page = requests.get(f"{site.url}/graphql", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_get_cannot_run_mutations_and_deep_variables_are_clean(site):
    token = site.token("ada", ["org:admin"], ["samata"])
    before = _partnerships(site)
    query = (
        'mutation { proposePartnership(title: "via GET", parties: [{organization: "samata"},'
        ' {organization: "dalit-voice"}]) { __typename } }'
    )
    resp = requests.get(
        f"{site.url}/graphql",
        params={"query": query},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )
    assert_clean(resp, "GET mutation")
    assert resp.status_code in (400, 405), resp.status_code
    assert _partnerships(site) == before


def test_a_deep_introspection_query_is_refused(site):
    inner = "name"
    for _ in range(6):
        inner = f"fields {{ type {{ {inner} }} }}"
    resp = _post(site, {"query": "{ __schema { types { " + inner + " } } }"})
    assert_clean(resp, "deep introspection")
    assert resp.json().get("errors"), resp.text[:300]
    assert not (resp.json().get("data") or {}).get("__schema")
