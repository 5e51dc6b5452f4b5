"""A token acts only within its scopes and organisations: REST, GraphQL and the portal, over HTTP."""

from __future__ import annotations

import io

import pytest
import requests

from indexer.synthetic import demo_metadata, generate_survey

from .leaks import assert_clean


def _auth(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _meta(title: str) -> dict:
    meta = demo_metadata()
    meta["title"] = {"en": title}
    return meta


@pytest.fixture(scope="module")
def draft(site):
    """A dataset of samata with an ingested, unpublished version (through the REST API)."""
    writer = site.token("ada", ["datasets:write", "datasets:read-private"], ["samata"])
    resp = site.post(
        "/api/v1/datasets",
        json={"organisation": "samata", "metadata": _meta("Private draft of samata")},
        headers=_auth(writer),
    )
    assert resp.status_code == 201, resp.text
    dataset = resp.json()
    buf = io.BytesIO()
    generate_survey(80, seed=5).write_csv(buf)
    up = site.post(
        f"/api/v1/datasets/{dataset['id']}/versions",
        files={"file": ("survey.csv", buf.getvalue(), "text/csv")},
        headers=_auth(writer),
    )
    assert up.status_code == 202, up.text
    body = up.json()
    return {"dataset": dataset, "version": body["version"]["id"], "job": body["job"]["id"]}


def _error_code(resp) -> str:
    return resp.json()["error"]["code"]


def test_rest_refuses_outside_the_tokens_scopes(site, draft):
    read_only = site.token("ada", ["datasets:read-private"], ["samata"])
    write_only = site.token("ada", ["datasets:write"], ["samata"])
    v = draft["version"]
    cases = [
        (
            read_only,
            "POST",
            "/api/v1/datasets",
            {"json": {"organisation": "samata", "metadata": _meta("x")}},
        ),
        (
            write_only,
            "POST",
            f"/api/v1/versions/{v}/publish",
            {"json": {"approve_free_text": True}},
        ),
        (write_only, "POST", f"/api/v1/versions/{v}/withdraw", {}),
        (
            read_only,
            "POST",
            f"/api/v1/datasets/{draft['dataset']['id']}/versions",
            {"files": {"file": ("a.csv", b"a,b\n1,2\n")}},
        ),
        (write_only, "GET", f"/api/v1/versions/{v}/anonymisation-report", {}),
        (
            write_only,
            "POST",
            "/api/v1/harvest/sources",
            {"json": {"name": "x", "url": "https://example.org", "kind": "ckan"}},
        ),
    ]
    for token, method, path, kw in cases:
        resp = requests.request(method, site.url + path, headers=_auth(token), timeout=30, **kw)
        assert_clean(resp, path)
        assert resp.status_code == 403, (path, resp.status_code, resp.text[:200])
        assert _error_code(resp) in ("insufficient_scope", "forbidden"), resp.text


def test_rest_refuses_outside_the_tokens_organisations(site, draft):
    everything = ["datasets:read-private", "datasets:write", "datasets:publish", "org:admin"]
    outsider = site.token("bea", everything, ["dalit-voice"])
    mine = site.token("ada", everything, ["samata"])
    v, d = draft["version"], draft["dataset"]["id"]
    for method, path, kw in [
        ("GET", f"/api/v1/versions/{v}", {}),
        ("GET", f"/api/v1/versions/{v}/validation-report", {}),
        ("GET", f"/api/v1/versions/{v}/anonymisation-report", {}),
        ("GET", f"/api/v1/jobs/{draft['job']}", {}),
        ("GET", f"/api/v1/datasets/{d}", {}),
        ("POST", f"/api/v1/versions/{v}/publish", {"json": {"approve_free_text": True}}),
        ("POST", f"/api/v1/datasets/{d}/versions", {"files": {"file": ("a.csv", b"a,b\n1,2\n")}}),
        ("POST", "/api/v1/datasets", {"json": {"organisation": "samata", "metadata": _meta("y")}}),
        ("POST", "/api/v1/organisations/samata/verification", {"json": {"verified": True}}),
    ]:
        resp = requests.request(method, site.url + path, headers=_auth(outsider), timeout=30, **kw)
        assert_clean(resp, path)
        assert resp.status_code in (403, 404), (path, resp.status_code, resp.text[:200])
        assert "Private draft of samata" not in resp.text
    # A token bound to samata only cannot act for dalit-voice either.
    resp = site.post(
        "/api/v1/datasets",
        json={"organisation": "dalit-voice", "metadata": _meta("z")},
        headers=_auth(mine),
    )
    assert resp.status_code == 403, resp.text
    # ... while the owner's token does see its draft: the refusals above are about the organisation.
    assert site.get(f"/api/v1/versions/{v}", headers=_auth(mine)).status_code == 200


def test_graphql_mutations_and_private_reads_stay_within_scope_and_organisation(site, draft):
    read_only = site.token("ada", ["datasets:read-private"], ["samata"])
    outsider = site.token(
        "bea", ["datasets:read-private", "datasets:write", "datasets:publish"], ["dalit-voice"]
    )
    create = "mutation($o: String!, $m: JSON!) { createDataset(organization: $o, metadata: $m) { dataset { id } } }"
    publish = (
        "mutation($v: ID!) { publishVersion(version: $v, approveFreeText: true) { job { id } } }"
    )
    for token, query, variables in [
        (read_only, create, {"o": "samata", "m": _meta("gql read-only")}),
        (outsider, create, {"o": "samata", "m": _meta("gql outsider")}),
        (outsider, publish, {"v": draft["version"]}),
        (None, create, {"o": "samata", "m": _meta("gql anonymous")}),
    ]:
        resp = site.graphql(query, variables, token=token)
        assert_clean(resp, query)
        body = resp.json()
        assert body.get("errors"), body
        codes = {e.get("extensions", {}).get("code") for e in body["errors"]}
        assert codes & {
            "insufficient_scope",
            "forbidden",
            "unauthenticated",
            "not_found",
            "organisation_not_granted",
        }, body
        assert not any((body.get("data") or {}).values()), body
    private = site.graphql(
        "query($d: ID) { dataset(id: $d) { title } }", {"d": draft["dataset"]["id"]}, token=outsider
    )
    assert "Private draft of samata" not in private.text
    records = site.graphql(
        "query($d: String!) { records(dataset: $d) { totalCount } }",
        {"d": draft["dataset"]["id"]},
        token=outsider,
    )
    assert_clean(records, "records of a draft")
    assert (
        not (records.json().get("data") or {}).get("records", {})
        or records.json()["data"]["records"]["totalCount"] == 0
    )


def test_a_bearer_token_opens_no_portal_session(site, draft):
    token = site.token(
        "ada",
        ["datasets:read-private", "datasets:write", "datasets:publish", "org:admin"],
        ["samata"],
    )
    for path in (
        "/account",
        "/account/tokens",
        "/orgs/samata/members",
        "/orgs/samata/clients",
        "/publish/",
    ):
        resp = site.get(path, headers=_auth(token))
        assert resp.status_code in (302, 401, 403), (path, resp.status_code)
        if resp.status_code == 302:
            assert "/account/sign-in" in resp.headers["Location"], resp.headers
        assert "ada@example.org" not in resp.text
    resp = site.post(
        "/account/tokens",
        data={"name": "minted by a token", "scopes": "org:admin"},
        headers=_auth(token),
    )
    assert resp.status_code in (302, 400, 401, 403)
    page = site.get(f"/datasets/{draft['dataset']['slug']}")
    assert page.status_code == 404 and "Private draft of samata" not in page.text


def test_revoked_and_garbage_tokens_are_refused_everywhere(site):
    from catalog.principal import Principal
    from catalog.services import tokens as token_service

    token = site.token("ada", ["datasets:write", "datasets:read-private"], ["samata"])
    assert site.get("/api/v1/me", headers=_auth(token)).status_code == 200
    with site.runtime.db.session() as s:
        row = token_service.find_access_token(s, token)
        token_service.revoke_personal_token(
            s, Principal(kind="user", user_id=site.users["ada"]), row.id
        )
    for bad in ("garbage", token + "x", token[:-1], "Bearer", token.upper(), token):
        for path in ("/api/v1/me", "/api/v1/harvest/sources", "/api/3/action/package_list"):
            resp = site.get(path, headers={"Authorization": f"Bearer {bad}"})
            assert_clean(resp, path)
            assert resp.status_code == 401, (bad, path, resp.status_code)
        gql = site.graphql("{ dimensions { code } }", token=bad)
        assert gql.status_code == 401 or gql.json().get("errors"), (bad, gql.text[:200])


def test_an_outsiders_token_sees_no_draft_anywhere_in_the_portal(site, draft):
    outsider = site.token(
        "bea",
        ["datasets:read-private", "datasets:write", "datasets:publish", "org:admin"],
        ["dalit-voice"],
    )
    slug = draft["dataset"]["slug"]
    for path in (
        f"/datasets/{slug}",
        f"/datasets/{slug}/download.csv",
        f"/datasets/{slug}/datapackage.json",
        f"/datasets/{slug}/factsheet",
        f"/datasets/{slug}/dcat.jsonld",
        f"/api/3/action/package_show?id={slug}",
        f"/api/3/action/package_show?id={draft['dataset']['id']}",
        f"/api/v1/datasets/{slug}/endorsements",
    ):
        for token in (outsider, None):
            resp = site.get(path, headers=_auth(token))
            assert_clean(resp, path)
            assert resp.status_code in (403, 404), (path, token is None, resp.status_code)
            assert "Private draft of samata" not in resp.text
    search = site.get("/search", params={"q": "Private draft"}, headers=_auth(outsider))
    assert "Private draft of samata" not in search.text
    listed = site.get("/api/3/action/package_list", headers=_auth(outsider)).json()["result"]
    assert slug not in listed
    import base64

    for gid in (
        base64.b64encode(f"Dataset:{draft['dataset']['id']}".encode()).decode(),
        draft["dataset"]["id"],
    ):
        node = site.graphql(
            "query($i: ID!) { node(id: $i) { id ... on Dataset { title } } }",
            {"i": gid},
            token=outsider,
        )
        assert "Private draft of samata" not in node.text, node.text
