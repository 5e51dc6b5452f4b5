"""Rate limits over HTTP: every machine interface and the sign-in answer 429 with a Retry-After."""

from __future__ import annotations

import re

import pytest
import requests

from ..federation.nodes import LiveServer
from .leaks import assert_clean
from .site import PASSWORD, Site
from .test_headers import assert_strict

LIMITS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_API": "4/minute",
    "RATELIMIT_TOKEN_ENDPOINT": "3/minute",
    "RATELIMIT_SIGN_IN": "3/minute",
    "GRAPHQL_POINTS_ANONYMOUS": 4,
    "GRAPHQL_POINTS_AUTHENTICATED": 8,
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    from portal.app import create_app

    from ..conftest import app_config

    server = LiveServer()
    root = tmp_path_factory.mktemp("limited")
    app = create_app(app_config(root, BASE_URL=server.url, **LIMITS), start_jobs=False)
    server.wsgi = app
    site = Site(server=server, app=app)
    site.add_org("samata", "Samata Collective")
    site.add_user("ada", "samata")
    yield site
    site.close()


def _until_429(send, budget: int) -> requests.Response:
    for _ in range(budget + 3):
        resp = send()
        assert_clean(resp, "rate limited route")
        if resp.status_code == 429:
            return resp
    raise AssertionError(f"no 429 after {budget + 3} requests (last {resp.status_code})")


def _assert_limited(resp) -> None:
    assert resp.status_code == 429
    assert_strict(resp, "429")
    retry = resp.headers.get("Retry-After", "")
    assert re.fullmatch(r"\d+", retry) and 0 < int(retry) <= 3600, resp.headers
    body = resp.json() if "json" in resp.headers.get("Content-Type", "") else None
    if body is not None:
        err = body.get("error") or (body.get("errors") or [{}])[0].get("extensions", {})
        assert "rate" in str(err).lower(), body


def _session_headers(i: int) -> dict:
    return {}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me",
        "/api/v1/quality-checklist",
        "/api/v1/harvest/sources",
        "/api/3/action/package_search",
        "/api/3/action/organization_list",
    ],
)
def test_every_api_route_is_limited_per_token_and_per_address(limited, path):
    token = limited.token("ada", ["datasets:write"], ["samata"])
    _assert_limited(
        _until_429(lambda: limited.get(path, headers={"Authorization": f"Bearer {token}"}), 4)
    )
    _assert_limited(_until_429(lambda: limited.get(path), 4))


def test_token_endpoint_is_limited(limited):
    _assert_limited(
        _until_429(
            lambda: limited.post("/oauth/token", data={"grant_type": "client_credentials"}), 3
        )
    )


def test_sign_in_attempts_are_limited(limited):
    s = requests.Session()
    page = s.get(limited.url + "/account/sign-in", timeout=30)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def attempt():
        return s.post(
            limited.url + "/account/sign-in",
            data={"email": "ada@example.org", "password": PASSWORD + "x", "csrf_token": csrf},
            allow_redirects=False,
            timeout=30,
        )

    resp = _until_429(attempt, 3)
    assert resp.status_code == 429 and resp.headers.get("Retry-After", "").isdigit(), resp.headers


def test_graphql_points_are_limited(limited):
    resp = _until_429(lambda: limited.graphql("{ dimensions { code } }"), 4)
    assert resp.headers.get("Retry-After", "").isdigit(), resp.headers
    assert "rate" in resp.text.lower()


def test_spoofed_forwarding_headers_and_garbage_tokens_do_not_reset_the_budget(limited):
    counter = iter(range(10_000))

    def spoofed():
        i = next(counter)
        return limited.get(
            "/api/3/action/package_list",
            headers={
                "X-Forwarded-For": f"203.0.113.{i % 250}",
                "X-Real-IP": f"198.51.100.{i % 250}",
                "Forwarded": f"for=192.0.2.{i % 250}",
            },
        )

    _assert_limited(_until_429(spoofed, 4))
    for i in range(3):
        resp = limited.get(
            "/api/3/action/package_list", headers={"Authorization": f"Bearer garbage-{i}"}
        )
        assert resp.status_code in (401, 429), resp.status_code
