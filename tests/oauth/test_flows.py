"""OAuth2 over HTTP: authorisation code + PKCE (S256 only) with consent, client credentials,
refresh rotation with reuse detection, revocation (RFC 7009), introspection (RFC 7662),
metadata (RFC 8414)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from sqlalchemy import select

from catalog.oauth_models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from tests.accounts.world import PASSWORD, csrf_token

from .conftest import REDIRECT


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def _signed_in(live, label: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{live.url}/account/sign-in")
    resp = browser.post(
        f"{live.url}/account/sign-in",
        data={
            "email": f"{label}@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
        allow_redirects=False,
    )
    assert resp.status_code == 302, resp.text
    return browser


def _authorize_url(
    live,
    client_id: str,
    challenge: str | None,
    *,
    method: str | None = "S256",
    scope: str = "datasets:write datasets:read-private",
    state: str = "xyz",
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
    }
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    return f"{live.url}/oauth/authorize?{urlencode(params)}"


def _consent(
    live, browser, url: str, org_ids: list[int], decision: str = "allow"
) -> requests.Response:
    page = browser.get(url)
    assert page.status_code == 200, page.text
    return browser.post(
        url,
        data={"csrf_token": csrf_token(page.text), "decision": decision, "organisations": org_ids},
        allow_redirects=False,
    )


def _code_flow(
    live,
    label: str = "ada",
    client: str = "samata-app",
    orgs: tuple[str, ...] = ("samata",),
    scope: str = "datasets:write datasets:read-private",
) -> dict:
    client_id, secret = live.clients[client]
    verifier, challenge = _pkce()
    browser = _signed_in(live, label)
    resp = _consent(
        live,
        browser,
        _authorize_url(live, client_id, challenge, scope=scope),
        [live.org_id(o) for o in orgs],
    )
    assert resp.status_code == 302, resp.text
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    data = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    auth = (client_id, secret) if secret else None
    token = requests.post(f"{live.url}/oauth/token", data=data, auth=auth)
    assert token.status_code == 200, token.text
    return {**token.json(), "_code": query["code"][0], "_verifier": verifier}


def _me(live, access: str) -> requests.Response:
    return requests.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {access}"})


def test_authorisation_code_with_pkce_gives_a_token_bound_to_the_chosen_organisation(live_any):
    live = live_any
    token = _code_flow(live)
    assert token["token_type"].lower() == "bearer"
    assert set(token["scope"].split()) == {"datasets:write", "datasets:read-private"}
    assert token["refresh_token"]
    me = _me(live, token["access_token"]).json()
    assert me["kind"] == "token"
    assert me["organisations"] == ["samata"]
    assert me["scopes"] == ["datasets:read-private", "datasets:write"]
    # The token acts: it may create a dataset for the granted organisation, and for no other.
    from tests.accounts.world import metadata

    auth = {"Authorization": f"Bearer {token['access_token']}"}
    own = requests.post(
        f"{live.url}/api/v1/datasets",
        headers=auth,
        json={"organisation": "samata", "metadata": metadata("Made through OAuth")},
    )
    assert own.status_code == 201, own.text
    other = requests.post(
        f"{live.url}/api/v1/datasets",
        headers=auth,
        json={"organisation": "dalit-voice", "metadata": metadata("Not ours")},
    )
    assert other.status_code == 403 and other.json()["error"]["code"] == "organisation_not_granted"
    # Only hashes are stored: neither the code nor the tokens appear in the catalogue.
    with live.runtime.db.session() as s:
        rows = s.scalars(select(OAuthToken)).all()
        stored = {r.access_token_hash for r in rows} | {r.refresh_token_hash for r in rows}
        codes = {c.code_hash for c in s.scalars(select(OAuthAuthorizationCode))}
    assert token["access_token"] not in stored and token["refresh_token"] not in stored
    assert token["_code"] not in codes
    assert hashlib.sha256(token["access_token"].encode()).hexdigest() in stored


def test_consent_page_lists_the_scopes_and_the_persons_organisations(live):
    client_id, _ = live.clients["samata-app"]
    _, challenge = _pkce()
    browser = _signed_in(live, "ada")
    page = browser.get(_authorize_url(live, client_id, challenge))
    assert page.status_code == 200
    assert "samata-app" in page.text
    assert "datasets:write" in page.text and "datasets:read-private" in page.text
    assert "datasets:publish" not in page.text.split('id="requested-scopes"')[1].split("</ul>")[0]
    assert "Samata Collective" in page.text and "Dalit Voice" not in page.text


def test_a_person_cannot_grant_an_organisation_they_do_not_belong_to(live):
    client_id, _ = live.clients["samata-app"]
    _, challenge = _pkce()
    browser = _signed_in(live, "ada")
    resp = _consent(
        live, browser, _authorize_url(live, client_id, challenge), [live.org_id("dalit-voice")]
    )
    assert resp.status_code == 403
    assert "code=" not in resp.headers.get("Location", "")


def test_denying_consent_redirects_with_access_denied(live):
    client_id, _ = live.clients["samata-app"]
    _, challenge = _pkce()
    browser = _signed_in(live, "ada")
    resp = _consent(live, browser, _authorize_url(live, client_id, challenge), [], decision="deny")
    assert resp.status_code == 302
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["error"] == ["access_denied"]


def test_authorize_sends_a_signed_out_person_to_sign_in_first(live):
    client_id, _ = live.clients["samata-app"]
    _, challenge = _pkce()
    resp = requests.get(_authorize_url(live, client_id, challenge), allow_redirects=False)
    assert resp.status_code == 302
    assert "/account/sign-in?next=" in resp.headers["Location"]


def test_plain_pkce_and_missing_pkce_are_refused(live):
    client_id, _ = live.clients["samata-app"]
    verifier, _ = _pkce()
    browser = _signed_in(live, "ada")
    plain = browser.get(
        _authorize_url(live, client_id, verifier, method="plain"), allow_redirects=False
    )
    missing = browser.get(_authorize_url(live, client_id, None, method=None), allow_redirects=False)
    for resp in (plain, missing):
        # Either an error page or an error redirect; never a consent form that could yield a code.
        assert resp.status_code in (302, 400), resp.status_code
        if resp.status_code == 302:
            assert "error=invalid_request" in resp.headers["Location"]
        else:
            assert "csrf_token" not in resp.text


def test_a_wrong_verifier_or_a_replayed_code_gets_no_token(live):
    client_id, _ = live.clients["samata-app"]
    verifier, challenge = _pkce()
    browser = _signed_in(live, "ada")
    resp = _consent(
        live, browser, _authorize_url(live, client_id, challenge), [live.org_id("samata")]
    )
    code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
    }
    wrong = requests.post(f"{live.url}/oauth/token", data={**data, "code_verifier": _pkce()[0]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt spent the code: a stolen code is worth one try only.
    again = requests.post(f"{live.url}/oauth/token", data={**data, "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_code_is_single_use(live):
    token = _code_flow(live)
    client_id, _ = live.clients["samata-app"]
    replay = requests.post(
        f"{live.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": token["_code"],
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": token["_verifier"],
        },
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_client_credentials_acts_for_the_clients_organisation(live):
    client_id, secret = live.clients["samata-sync"]
    resp = requests.post(
        f"{live.url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "datasets:write"},
        auth=(client_id, secret),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "refresh_token" not in body
    me = _me(live, body["access_token"]).json()
    assert me["organisations"] == ["samata"] and me["scopes"] == ["datasets:write"]
    bad = requests.post(
        f"{live.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "wrong-secret"),
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    public_id, _ = live.clients["samata-app"]
    public = requests.post(
        f"{live.url}/oauth/token", data={"grant_type": "client_credentials", "client_id": public_id}
    )
    assert public.status_code in (400, 401)
    # The client secret is stored hashed.
    with live.runtime.db.session() as s:
        row = s.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
        assert row.client_secret_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_client_credentials_cannot_ask_for_more_than_the_client_was_registered_with(live):
    from catalog.services import clients as client_service
    from catalog.services import organisations
    from tests.accounts.world import person

    with live.runtime.db.session() as s:
        org = organisations.get_organisation(s, "samata")
        client, secret = client_service.register_client(
            s,
            person(live.users["ada"]),
            org,
            name="narrow",
            redirect_uris=[],
            scopes=["datasets:read-private"],
        )
        client_id = client.client_id
    resp = requests.post(
        f"{live.url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "datasets:publish"},
        auth=(client_id, secret),
    )
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_scope"


def _refresh(live, refresh_token: str, client: str = "samata-app") -> requests.Response:
    client_id, _ = live.clients[client]
    return requests.post(
        f"{live.url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
        },
    )


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(live_any):
    live = live_any
    first = _code_flow(live)
    second = _refresh(live, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _me(live, second["access_token"]).status_code == 200
    assert _me(live, first["access_token"]).status_code == 401  # rotated out
    # Someone replays the first refresh token: it is refused and the whole family dies.
    replay = _refresh(live, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert _me(live, second["access_token"]).status_code == 401
    assert _refresh(live, second["refresh_token"]).status_code == 400


def test_refresh_keeps_the_granted_organisations_and_scopes(live):
    first = _code_flow(live, scope="datasets:read-private")
    second = _refresh(live, first["refresh_token"]).json()
    me = _me(live, second["access_token"]).json()
    assert me["organisations"] == ["samata"] and me["scopes"] == ["datasets:read-private"]


def test_revocation_ends_access_and_refresh(live):
    token = _code_flow(live)
    client_id, _ = live.clients["samata-app"]
    resp = requests.post(
        f"{live.url}/oauth/revoke",
        data={
            "token": token["access_token"],
            "token_type_hint": "access_token",
            "client_id": client_id,
        },
    )
    assert resp.status_code == 200
    assert _me(live, token["access_token"]).status_code == 401
    assert _refresh(live, token["refresh_token"]).status_code == 400
    # An unknown token is not an error (RFC 7009 2.2).
    unknown = requests.post(
        f"{live.url}/oauth/revoke", data={"token": "nope", "client_id": client_id}
    )
    assert unknown.status_code == 200


def test_another_client_cannot_revoke_a_token(live):
    token = _code_flow(live)
    other_id, other_secret = live.clients["dalit-sync"]
    refused = requests.post(
        f"{live.url}/oauth/revoke",
        data={"token": token["access_token"]},
        auth=(other_id, other_secret),
    )
    assert refused.status_code < 500, refused.text
    assert _me(live, token["access_token"]).status_code == 200
    # the same token is revocable by the client it was issued to, so it was the client that was refused
    owner_id, _ = live.clients["samata-app"]
    own = requests.post(
        f"{live.url}/oauth/revoke", data={"token": token["access_token"], "client_id": owner_id}
    )
    assert own.status_code == 200
    assert _me(live, token["access_token"]).status_code == 401


def test_introspection(live_any):
    live = live_any
    token = _code_flow(live)
    sync_id, sync_secret = live.clients["samata-sync"]
    active = requests.post(
        f"{live.url}/oauth/introspect",
        data={"token": token["access_token"]},
        auth=(sync_id, sync_secret),
    )
    assert active.status_code == 200
    body = active.json()
    assert body["active"] is True
    assert set(body["scope"].split()) == {"datasets:write", "datasets:read-private"}
    assert body["sub"] == str(live.users["ada"]) and body["token_type"] == "Bearer"
    assert body["exp"] > body["iat"]
    # A client of another organisation learns nothing about the token.
    other_id, other_secret = live.clients["dalit-sync"]
    hidden = requests.post(
        f"{live.url}/oauth/introspect",
        data={"token": token["access_token"]},
        auth=(other_id, other_secret),
    )
    assert hidden.status_code == 200 and hidden.json() == {"active": False}
    anonymous = requests.post(f"{live.url}/oauth/introspect", data={"token": token["access_token"]})
    assert anonymous.status_code == 401
    requests.post(
        f"{live.url}/oauth/revoke",
        data={"token": token["access_token"], "client_id": token_client(live)},
    )
    revoked = requests.post(
        f"{live.url}/oauth/introspect",
        data={"token": token["access_token"]},
        auth=(sync_id, sync_secret),
    )
    assert revoked.json() == {"active": False}


def token_client(live) -> str:
    return live.clients["samata-app"][0]


def test_metadata_document(live):
    meta = requests.get(f"{live.url}/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == live.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "client_credentials",
        "refresh_token",
    }
    assert meta["token_endpoint"] == f"{live.url}/oauth/token"
    assert meta["authorization_endpoint"] == f"{live.url}/oauth/authorize"
    assert meta["revocation_endpoint"] and meta["introspection_endpoint"]
    assert "org:admin" in meta["scopes_supported"]


def test_a_revoked_client_loses_its_tokens(live):
    from catalog.services import clients as client_service
    from tests.accounts.world import person

    client_id, secret = live.clients["samata-sync"]
    access = requests.post(
        f"{live.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    ).json()["access_token"]
    assert _me(live, access).status_code == 200
    with live.runtime.db.session() as s:
        client_service.revoke_client(s, person(live.users["ada"]), client_id)
    assert _me(live, access).status_code == 401


def test_a_confidential_client_uses_pkce_too_and_authenticates_to_refresh(live):
    token = _code_flow(live, client="samata-sync")
    client_id, secret = live.clients["samata-sync"]
    unauthenticated = _refresh(live, token["refresh_token"], client="samata-sync")
    assert (
        unauthenticated.status_code == 401 and unauthenticated.json()["error"] == "invalid_client"
    )
    refreshed = requests.post(
        f"{live.url}/oauth/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    # Another client cannot spend this client's refresh token.
    other_id, other_secret = live.clients["dalit-sync"]
    stolen = requests.post(
        f"{live.url}/oauth/token",
        auth=(other_id, other_secret),
        data={"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]},
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
