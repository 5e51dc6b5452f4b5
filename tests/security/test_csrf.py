"""Every state-changing HTML form route refuses a POST without a valid CSRF token (real HTTP, signed in)."""

from __future__ import annotations

import json
import re

import requests
from sqlalchemy import func, select

from catalog.models import Dataset
from indexer.synthetic import demo_metadata

from .routes import rules, urls_for
from .site import PASSWORD
from .test_headers import assert_strict

#: Machine interfaces: bearer tokens or client authentication, no session cookies.
EXEMPT = ("/api/", "/graphql", "/oauth/token", "/oauth/introspect", "/oauth/revoke")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(site, label: str) -> requests.Session:
    s = requests.Session()
    page = s.get(site.url + "/account/sign-in", timeout=30)
    r = s.post(
        site.url + "/account/sign-in",
        data={
            "email": f"{label}@example.org",
            "password": PASSWORD,
            "csrf_token": CSRF_RE.search(page.text).group(1),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text[:300]
    return s


def _sign_out(site, session: requests.Session) -> requests.Response:
    """Sign out with the CSRF token of a signed-in page."""
    token = CSRF_RE.search(session.get(site.url + "/account/tokens", timeout=30).text).group(1)
    return session.post(
        site.url + "/account/sign-out",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def form_post_urls(site) -> list[str]:
    slug = site.published["demo"]["slug"]
    urls = []
    for rule in rules(site.app, "POST"):
        if rule.rule.startswith(EXEMPT):
            continue
        urls += urls_for(rule, slug)
    return urls


def _token_count(site) -> int:
    from sqlalchemy import func, select

    from catalog.oauth_models import OAuthToken

    with site.runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(OAuthToken))


def test_every_form_route_refuses_a_post_without_or_with_a_forged_token(site):
    session = signed_in(site, "ada")
    other = signed_in(site, "bea")
    foreign = CSRF_RE.search(other.get(site.url + "/account/tokens", timeout=30).text).group(1)
    urls = form_post_urls(site)
    assert any(u.startswith("/account/sign-out") for u in urls)
    assert len(urls) >= 12, urls
    before = _token_count(site)
    for url in urls:
        for extra in ({}, {"csrf_token": "forged"}, {"csrf_token": foreign}):
            data = {
                "name": "csrf probe",
                "scopes": "datasets:write",
                "email": "x@example.org",
                **extra,
            }
            resp = session.post(site.url + url, data=data, allow_redirects=False, timeout=30)
            assert resp.status_code == 400, (url, extra, resp.status_code)
            assert "csrf" in resp.text.lower(), (url, resp.text[:200])
            assert "Traceback" not in resp.text
            assert_strict(resp, url)
        # A JSON body is no way around it either.
        resp = session.post(site.url + url, json={"name": "x"}, allow_redirects=False, timeout=30)
        assert resp.status_code == 400, (url, "json", resp.status_code)
    assert _token_count(site) == before
    # Still signed in: the sign-out without a token did nothing.
    assert session.get(site.url + "/account", allow_redirects=False, timeout=30).status_code == 200


def test_a_cross_site_form_with_the_victims_cookies_is_refused(site):
    session = signed_in(site, "ada")
    before = _token_count(site)
    resp = session.post(
        site.url + "/account/tokens",
        data={"name": "attacker", "scopes": "datasets:write"},
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/page"},
        allow_redirects=False,
        timeout=30,
    )
    assert resp.status_code == 400
    assert _token_count(site) == before


def test_a_valid_token_is_accepted_so_the_refusals_above_are_about_csrf(site):
    session = signed_in(site, "ada")
    assert _sign_out(site, session).status_code == 302
    assert session.get(site.url + "/account", allow_redirects=False, timeout=30).status_code == 302


def test_graphql_mutations_cannot_ride_on_a_session_cookie_from_another_site(site):
    session = signed_in(site, "ada")
    meta = demo_metadata()
    meta["title"] = {"en": "csrf via graphql"}
    mutation = 'mutation($m: JSON!) { createDataset(organization: "samata", metadata: $m) { dataset { id } } }'
    op = {"query": mutation, "variables": {"m": meta}}

    with site.runtime.db.session() as s:
        before = s.scalar(select(func.count()).select_from(Dataset))
    attempts = [
        {"data": json.dumps(op), "headers": {"Content-Type": "text/plain"}},
        {"data": {"query": mutation, "variables": json.dumps(op["variables"])}},
        {"files": {"operations": (None, json.dumps(op)), "map": (None, "{}")}},
        {"data": json.dumps(op), "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ]
    for kw in attempts:
        headers = {"Origin": "https://evil.example", **kw.pop("headers", {})}
        resp = session.post(site.url + "/graphql", headers=headers, timeout=30, **kw)
        assert resp.status_code < 500, resp.status_code
        assert '"createDataset":{"dataset"' not in resp.text.replace(" ", ""), resp.text[:300]
    with site.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == before
    # The same operation as a same-site JSON request does run: the refusals above are real.
    ok = session.post(site.url + "/graphql", json=op, timeout=30)
    assert ok.json().get("data", {}).get("createDataset", {}).get("dataset"), ok.text[:300]


def test_a_session_cookie_copied_before_sign_out_is_dead_afterwards(site):
    session = signed_in(site, "bea")
    stolen = dict(session.cookies)
    assert _sign_out(site, session).status_code == 302
    replay = requests.get(site.url + "/account", cookies=stolen, allow_redirects=False, timeout=30)
    assert replay.status_code == 302, "the old session cookie still opens the account"
