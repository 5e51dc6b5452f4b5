"""OAuth2 endpoints attacked over HTTP: redirect URI tricks, PKCE downgrade, unauthenticated introspection
and revocation, unsupported grants, client secrets guessed."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import urlsplit

import pytest
import requests

from catalog.principal import Principal
from catalog.services import clients as client_service
from catalog.services import organisations

from .leaks import assert_clean
from .test_csrf import signed_in

REDIRECT = "https://app.example/callback"


@pytest.fixture(scope="module")
def client_app(site):
    with site.runtime.db.session() as s:
        org = organisations.get_organisation(s, "samata")
        client, secret = client_service.register_client(
            s,
            Principal(kind="user", user_id=site.users["ada"]),
            org,
            name="samata sync",
            redirect_uris=[REDIRECT],
            scopes=["datasets:read-private", "datasets:write"],
        )
        return {"id": client.client_id, "secret": secret}


def _basic(cid: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        REDIRECT + ".evil.example",
        REDIRECT + "/../../evil",
        REDIRECT + "@evil.example",
        "https://app.example@evil.example/callback",
        "https://app.example/callback?next=https://evil.example",
        "https://app.example/callback#@evil.example",
        "https://APP.example/callback",
        "http://app.example/callback",
        "//evil.example/callback",
        "javascript:alert(1)",
        "https://app.example/callbacks",
        "https://app.example/callback\\@evil.example",
        'https://evil.example/"quoted"',
        "https://app.example/callb\u00e4ck",
        "https://app.example/callback\r\nSet-Cookie: x=1",
    ],
)
def test_authorize_never_redirects_to_an_unregistered_uri(site, client_app, redirect_uri):
    session = signed_in(site, "ada")
    _verifier, challenge = _pkce()
    resp = session.get(
        site.url + "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_app["id"],
            "redirect_uri": redirect_uri,
            "scope": "datasets:write",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert_clean(resp, redirect_uri)
    location = resp.headers.get("Location", "")
    if resp.is_redirect:
        assert location.startswith(REDIRECT) and urlsplit(location).netloc == "app.example", (
            location
        )
        assert "code=" not in location
    else:
        assert resp.status_code == 400, resp.status_code
        assert "evil.example" not in location


@pytest.mark.parametrize(
    "override",
    [
        {"response_type": 'code"'},
        {"response_type": "code\\"},
        {"response_type": "t\u00f6ken"},
        {"scope": 'datasets:write "x\\'},
        {"scope": "\u00e4"},
        {"client_id": 'no"such\\client'},
        {"code_challenge_method": 'S256"'},
        {"state": '"\\\u00e4'},
    ],
)
def test_hostile_authorize_parameters_get_a_clean_oauth_error(site, client_app, override):
    session = signed_in(site, "ada")
    _verifier, challenge = _pkce()
    params = {
        "response_type": "code",
        "client_id": client_app["id"],
        "redirect_uri": REDIRECT,
        "scope": "datasets:write",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **override,
    }
    resp = session.get(
        site.url + "/oauth/authorize", params=params, allow_redirects=False, timeout=30
    )
    assert_clean(resp, str(override))
    if resp.is_redirect:
        assert resp.headers["Location"].startswith(REDIRECT + "?error="), resp.headers["Location"]
    elif "state" not in override:
        assert resp.status_code == 400, (override, resp.status_code)
    for grant in ('client_credentials"', "x\\y", "\u00e4"):
        token = site.post(
            "/oauth/token",
            data={"grant_type": grant, "scope": override.get("scope", "")},
            headers=_basic(client_app["id"], client_app["secret"]),
        )
        assert_clean(token, grant)
        assert token.status_code == 400


def test_pkce_is_required_and_plain_is_refused(site, client_app):
    session = signed_in(site, "ada")
    base = {
        "response_type": "code",
        "client_id": client_app["id"],
        "redirect_uri": REDIRECT,
        "scope": "datasets:write",
        "state": "s2",
    }
    for extra in ({}, {"code_challenge": "a" * 50, "code_challenge_method": "plain"}):
        resp = session.get(
            site.url + "/oauth/authorize",
            params={**base, **extra},
            allow_redirects=False,
            timeout=30,
        )
        assert_clean(resp, str(extra))
        if resp.is_redirect:
            assert (
                "error=" in resp.headers["Location"] and "code=" not in resp.headers["Location"]
            ), resp.headers
        else:
            assert resp.status_code == 400


def test_the_consent_form_needs_its_csrf_token(site, client_app):
    session = signed_in(site, "ada")
    _verifier, challenge = _pkce()
    params = {
        "response_type": "code",
        "client_id": client_app["id"],
        "redirect_uri": REDIRECT,
        "scope": "datasets:write",
        "state": "s3",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = session.get(site.url + "/oauth/authorize", params=params, timeout=30)
    assert page.status_code == 200
    resp = session.post(
        site.url + "/oauth/authorize",
        params=params,
        data={"decision": "allow", "organisations": str(site.orgs["samata"])},
        allow_redirects=False,
        timeout=30,
    )
    assert resp.status_code == 400 and "code=" not in resp.headers.get("Location", "")


def test_introspection_and_revocation_need_client_authentication(site, client_app):
    token = site.token("ada", ["datasets:write"], ["samata"])
    resp = site.post("/oauth/introspect", data={"token": token})
    assert_clean(resp, "introspect")
    assert resp.status_code in (400, 401), resp.text[:200]
    assert '"active": true' not in resp.text.replace('"active":true', '"active": true')
    wrong = site.post(
        "/oauth/introspect", data={"token": token}, headers=_basic(client_app["id"], "wrong-secret")
    )
    assert wrong.status_code == 401
    revoke = site.post("/oauth/revoke", data={"token": token})
    assert revoke.status_code in (400, 401)
    assert site.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_token_endpoint_refuses_unsupported_grants_and_bad_secrets_cleanly(site, client_app):
    cases = [
        (
            {"grant_type": "password", "username": "ada@example.org", "password": "x"},
            _basic(client_app["id"], client_app["secret"]),
        ),
        ({"grant_type": "implicit"}, _basic(client_app["id"], client_app["secret"])),
        ({"grant_type": "client_credentials"}, _basic(client_app["id"], client_app["secret"][:-1])),
        (
            {"grant_type": "client_credentials", "scope": "org:admin"},
            _basic(client_app["id"], client_app["secret"]),
        ),
        (
            {
                "grant_type": "authorization_code",
                "code": "guessed",
                "redirect_uri": REDIRECT,
                "code_verifier": "x" * 50,
            },
            _basic(client_app["id"], client_app["secret"]),
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "guessed"},
            _basic(client_app["id"], client_app["secret"]),
        ),
        ({"grant_type": "client_credentials"}, {"Authorization": "Basic !!!notbase64"}),
        (
            {"grant_type": "client_credentials"},
            {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": client_app["id"],
                "client_secret": "' OR 1=1 --",
            },
            {},
        ),
    ]
    for data, headers in cases:
        resp = site.post("/oauth/token", data=data, headers=headers)
        assert_clean(resp, str(data))
        assert resp.status_code in (400, 401), (data, resp.status_code, resp.text[:200])
        body = resp.json()
        assert body.get("error") and "access_token" not in body, body
    ok = site.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(client_app["id"], client_app["secret"]),
    )
    assert ok.status_code == 200 and ok.json()["access_token"]
    assert "org:admin" not in ok.json().get("scope", "")
    assert re.fullmatch(r"no-store", ok.headers.get("Cache-Control", ""), re.I), ok.headers


def test_metadata_document_is_public_and_clean(site):
    resp = requests.get(site.url + "/.well-known/oauth-authorization-server", timeout=30)
    doc = resp.json()
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "password" not in doc.get("grant_types_supported", [])
    assert "implicit" not in " ".join(doc.get("response_types_supported", []))
