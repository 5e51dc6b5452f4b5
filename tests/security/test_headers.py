"""Strict security headers on every route of the url_map, over real HTTP; cookies HttpOnly and SameSite."""

from __future__ import annotations

import re

import pytest

from .routes import rules, urls_for
from .site import PASSWORD

SLOW = ("factsheet.pdf",)  # checked once each below, not per language


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = [w.lower() for w in words[1:]]
    return out


def assert_strict(resp, url: str) -> None:
    h = resp.headers
    csp = h.get("Content-Security-Policy")
    assert csp, f"{url}: no Content-Security-Policy"
    d = _directives(csp)
    scripts = d.get("script-src", d.get("default-src"))
    assert scripts is not None, f"{url}: CSP has no script-src nor default-src"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, f"{url}: {csp}"
    assert "*" not in scripts and "data:" not in scripts and "http:" not in scripts, f"{url}: {csp}"
    assert d.get("object-src") == ["'none'"] or d.get("default-src") == ["'none'"], f"{url}: {csp}"
    frame_ok = d.get("frame-ancestors") in (["'none'"], ["'self'"])
    assert frame_ok and h.get("X-Frame-Options") in ("DENY", "SAMEORIGIN"), f"{url}: framing"
    assert h.get("X-Content-Type-Options") == "nosniff", url
    assert h.get("Referrer-Policy") in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ), url


def _all_get_urls(site) -> list[str]:
    slug = site.published["demo"]["slug"]
    urls = []
    for rule in rules(site.app, "GET"):
        urls += urls_for(rule, slug)
    return sorted(set(urls))


def test_every_get_route_has_strict_headers_anonymous_and_signed_in(site):
    import requests

    signed_in = requests.Session()
    page = signed_in.get(site.url + "/account/sign-in", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = signed_in.post(
        site.url + "/account/sign-in",
        data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302, r.text[:300]
    checked = 0
    for url in _all_get_urls(site):
        anon = site.get(url)
        assert anon.status_code < 500, f"{url}: {anon.status_code}"
        assert_strict(anon, url)
        if not url.endswith(SLOW):
            mine = signed_in.get(site.url + url, allow_redirects=False, timeout=30)
            assert mine.status_code < 500, f"{url} signed in: {mine.status_code}"
            assert_strict(mine, url)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/no/such/page"),
        ("GET", "/api/v1/no-such-thing"),
        ("DELETE", "/"),
        ("PUT", "/graphql"),
        ("POST", "/search"),
        ("GET", "/static/../portal/app.py"),
        ("GET", "/datasets/%2e%2e%2fcatalog.sqlite3"),
    ],
)
def test_error_responses_have_strict_headers_too(site, method, path):
    import requests

    resp = requests.request(method, site.url + path, timeout=30, allow_redirects=False)
    assert 400 <= resp.status_code < 500, (path, resp.status_code)
    assert_strict(resp, path)


def test_hsts_on_every_route_when_served_over_https(site):
    client = site.app.test_client()
    slug = site.published["demo"]["slug"]
    checked = 0
    for rule in rules(site.app, "GET"):
        for url in urls_for(rule, slug):
            if url.endswith(SLOW):
                continue
            resp = client.get(url, base_url="https://portal.example")
            hsts = resp.headers.get("Strict-Transport-Security", "")
            max_age = re.search(r"max-age=(\d+)", hsts)
            assert max_age and int(max_age.group(1)) >= 15552000, f"{url}: {hsts!r}"
            checked += 1
    assert checked > 50, checked
    plain = client.get("/", base_url="http://portal.example")
    assert "Strict-Transport-Security" not in plain.headers


def _cookie_flags(resp) -> list[str]:
    return resp.raw.headers.getlist("Set-Cookie") if hasattr(resp.raw, "headers") else []


def test_cookies_are_httponly_and_samesite(site):
    import requests

    s = requests.Session()
    headers = []
    page = s.get(site.url + "/account/sign-in?lang=ne", timeout=30)
    headers += _cookie_flags(page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(
        site.url + "/account/sign-in",
        data={"email": "bea@example.org", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302
    headers += _cookie_flags(r)
    assert len(headers) >= 2, headers
    for header in headers:
        lowered = header.lower()
        assert "httponly" in lowered, header
        assert re.search(r"samesite=(lax|strict)", lowered), header


def test_session_cookie_is_secure_when_configured(tmp_path):
    from portal.app import create_app

    from ..conftest import app_config

    app = create_app(app_config(tmp_path, SESSION_COOKIE_SECURE=True), start_jobs=False)
    try:
        client = app.test_client()
        resp = client.get("/account/sign-in?lang=en", base_url="https://portal.example")
        cookies = resp.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies), cookies
    finally:
        app.extensions["cgd"].close()


def test_hsts_behind_a_trusted_tls_proxy_and_not_from_an_untrusted_header(tmp_path):
    from portal.app import create_app

    from ..conftest import app_config

    proxied = create_app(app_config(tmp_path / "p", TRUSTED_PROXIES=1), start_jobs=False)
    direct = create_app(app_config(tmp_path / "d"), start_jobs=False)
    try:
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        resp = proxied.test_client().get("/", headers=forwarded)
        assert "max-age=" in resp.headers.get("Strict-Transport-Security", ""), resp.headers
        resp = direct.test_client().get("/", headers=forwarded)
        assert "Strict-Transport-Security" not in resp.headers
    finally:
        proxied.extensions["cgd"].close()
        direct.extensions["cgd"].close()


def test_head_and_options_answers_have_strict_headers(site):
    import requests

    slug = site.published["demo"]["slug"]
    for url in (
        "/",
        "/search",
        f"/datasets/{slug}",
        "/graphql",
        "/api/v1/me",
        "/api/3/action/package_list",
        "/catalog.ttl",
        f"/datasets/{slug}/download.csv",
        "/account/sign-in",
        "/static/css/portal.css",
    ):
        for method in ("HEAD", "OPTIONS"):
            resp = requests.request(method, site.url + url, timeout=30, allow_redirects=False)
            assert resp.status_code < 500, (method, url, resp.status_code)
            assert_strict(resp, f"{method} {url}")
