"""Smaller attacks over HTTP: reflected markup, JSONP, CORS with credentials, tokens in URLs, Host header."""

from __future__ import annotations

import re

import pytest

PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(1)>'


def test_reflected_markup_is_escaped_in_every_html_page(site):
    slug = site.published["demo"]["slug"]
    for path, params in [
        ("/search", {"q": PAYLOAD}),
        ("/search", {"q": "water", "topic": PAYLOAD, "place": PAYLOAD, "organisation": PAYLOAD}),
        (f"/datasets/{slug}", {"by": PAYLOAD, "by2": PAYLOAD, "measure": PAYLOAD, "lang": PAYLOAD}),
        ("/account/sign-in", {"next": PAYLOAD}),
        ("/coverage", {"dimension": PAYLOAD, "place": PAYLOAD}),
        ("/topics/" + PAYLOAD, {}),
        ("/organisations/" + PAYLOAD, {}),
        ("/datasets/" + PAYLOAD, {}),
        ("/graphql", {"query": PAYLOAD}),
    ]:
        resp = site.get(path, params=params, headers={"Accept": "text/html"})
        assert resp.status_code < 500, (path, resp.status_code)
        assert "<script>alert(1)" not in resp.text and "<img src=x" not in resp.text, (path, params)


def test_no_jsonp_callbacks(site):
    for path in ("/api/3/action/package_list", "/api/3/action/package_search", "/catalog.jsonld"):
        resp = site.get(path, params={"callback": "alert", "jsonp": "alert"})
        assert resp.status_code < 500
        assert not resp.text.lstrip().startswith("alert"), path
        assert "javascript" not in resp.headers.get("Content-Type", ""), path


def test_cors_never_shares_credentials_with_another_origin(site):
    token = site.token("ada", ["datasets:read-private"], ["samata"])
    for path in (
        "/api/v1/me",
        "/graphql",
        "/api/3/action/package_list",
        "/account",
        "/catalog.jsonld",
    ):
        for method in ("GET", "OPTIONS"):
            resp = (
                site.get(path, headers={"Origin": "https://evil.example"})
                if method == "GET"
                else __import__("requests").options(
                    site.url + path,
                    headers={
                        "Origin": "https://evil.example",
                        "Access-Control-Request-Method": "POST",
                        "Access-Control-Request-Headers": "authorization",
                    },
                    timeout=30,
                )
            )
            allow = resp.headers.get("Access-Control-Allow-Origin")
            creds = resp.headers.get("Access-Control-Allow-Credentials", "").lower()
            assert allow in (None, "*"), (path, method, allow)
            assert creds != "true", (path, method)
    me = site.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"}
    )
    assert me.headers.get("Access-Control-Allow-Origin") in (None, "*")


def test_tokens_in_the_url_are_not_accepted(site):
    token = site.token("ada", ["datasets:read-private", "datasets:write"], ["samata"])
    who = site.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    anon = site.get("/api/v1/me").json() if site.get("/api/v1/me").status_code == 200 else None
    for params in ({"access_token": token}, {"token": token}):
        resp = site.get("/api/v1/me", params=params)
        assert resp.status_code in (200, 400, 401)
        if resp.status_code == 200:
            assert resp.json() == anon != who, params


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1@evil.example"])
def test_links_come_from_the_configured_base_url_not_the_host_header(site, host):
    slug = site.published["demo"]["slug"]
    for path in (
        "/catalog.jsonld",
        "/catalog.ttl",
        f"/datasets/{slug}/datapackage.json",
        "/api/3/action/package_search",
    ):
        resp = site.get(path, headers={"Host": host})
        assert resp.status_code < 500, (path, resp.status_code)
        assert "evil.example" not in resp.text, path
    for path in ("/account", "/catalog", "/topics/water", f"/datasets/{slug}/dcat.jsonld"):
        for accept in ("text/turtle", "application/ld+json", "text/html"):
            resp = site.get(path, headers={"Host": host, "Accept": accept})
            assert resp.status_code < 500, (path, resp.status_code)
            assert "evil.example" not in resp.headers.get("Location", ""), (path, resp.headers)
            assert "evil.example" not in resp.text, path


def test_server_header_does_not_advertise_versions_of_the_app(site):
    resp = site.get("/")
    assert "cgd" not in resp.headers.get("Server", "").lower()
    assert not re.search(r"flask|python/\d", resp.headers.get("X-Powered-By", ""), re.I)


def test_metrics_and_health_do_not_echo_requests_or_configuration(site):
    marker = "zqxmarker4711"
    site.get("/search", params={"q": marker})
    site.get(f"/datasets/{marker}")
    site.graphql("query($q: String!) { datasets(query: $q) { totalCount } }", {"q": marker})
    for path in ("/metrics", "/healthz", "/readyz"):
        resp = site.get(path)
        assert resp.status_code in (200, 401, 403, 404, 503), (path, resp.status_code)
        assert marker not in resp.text, path
        assert site.app.config["SECRET_KEY"] not in resp.text
        assert "sqlite:///" not in resp.text and "postgresql" not in resp.text.lower(), path


def test_downloads_are_attachments_of_their_own_type(site):
    slug = site.published["demo"]["slug"]
    for path, media in (
        (f"/datasets/{slug}/download.csv", "text/csv"),
        (f"/datasets/{slug}/download.json", "application/json"),
        (f"/datasets/{slug}/datapackage.zip", "application/zip"),
        (f"/datasets/{slug}/factsheet.pdf", "application/pdf"),
    ):
        resp = site.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Content-Type"].startswith(media), (path, resp.headers["Content-Type"])
        if not path.endswith(".pdf"):
            assert resp.headers.get("Content-Disposition", "").startswith("attachment"), (
                path,
                resp.headers,
            )
        assert resp.headers.get("X-Content-Type-Options") == "nosniff"
