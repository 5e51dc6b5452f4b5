"""People in the browser: sign-up, sign-in with lock-out, sign-out, CSRF on every form,
invitations by organisation admins, personal access tokens, and who acts in each request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.context import current_principal
from catalog.models import Membership, User
from catalog.oauth_models import Invitation, OAuthToken
from catalog.services.accounts import MAX_FAILURES
from tests.accounts.world import PASSWORD, World, bearer, csrf_token, sign_in


@pytest.fixture
def world(make_app):
    app = make_app()
    world = World.of(app)
    world.add_org("samata", "Samata Collective")
    world.add_org("dalit-voice", "Dalit Voice")
    return world


def _post_form(client, url: str, data: dict, page_url: str | None = None):
    page = client.get(page_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf_token": csrf_token(page.data)})


def test_sign_up_hashes_the_password_with_argon2_and_signs_in(world):
    client = world.app.test_client()
    resp = _post_form(
        client,
        "/account/sign-up",
        {"email": "Newcomer@Example.org", "password": "a long enough pass", "name": "Newcomer"},
    )
    assert resp.status_code == 302
    page = client.get("/account")
    assert page.status_code == 200 and b"newcomer@example.org" in page.data
    with world.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.email == "newcomer@example.org"))
        assert user.password_hash.startswith("$argon2id$")
        assert "a long enough pass" not in user.password_hash


def test_sign_up_refuses_a_weak_password_and_a_taken_email(world):
    world.add_user("taken")
    client = world.app.test_client()
    weak = _post_form(client, "/account/sign-up", {"email": "x@example.org", "password": "short"})
    assert weak.status_code == 400 and b"at least 10 characters" in weak.data
    taken = _post_form(
        client, "/account/sign-up", {"email": "taken@example.org", "password": "long enough pass"}
    )
    assert taken.status_code == 400 and b"exists" in taken.data


def test_every_form_needs_its_csrf_token(world):
    world.add_user("ada", org="samata", role="admin")
    client = world.app.test_client()
    for url in ("/account/sign-in", "/account/sign-up"):
        resp = client.post(url, data={"email": "ada@example.org", "password": PASSWORD})
        assert resp.status_code == 400, url
    assert sign_in(client, "ada@example.org").status_code == 302
    for url in (
        "/account/sign-out",
        "/account/tokens",
        "/orgs/samata/members",
        "/orgs/samata/clients",
    ):
        resp = client.post(url, data={"name": "x", "email": "y@example.org", "role": "member"})
        assert resp.status_code == 400, url
    assert (
        client.get("/account").status_code == 200
    )  # still signed in: the bare sign-out did nothing


def test_wrong_password_then_lock_out_after_repeated_failures(world):
    world.add_user("ada")
    client = world.app.test_client()
    for _ in range(MAX_FAILURES):
        resp = sign_in(client, "ada@example.org", "wrong password!")
        assert resp.status_code == 401 and b"Wrong e-mail or password" in resp.data
    # Now even the right password is refused for a while.
    locked = sign_in(client, "ada@example.org")
    assert locked.status_code == 401 and b"locked" in locked.data
    assert client.get("/account").status_code == 302
    with world.runtime.db.session() as s:
        assert s.get(User, world.users["ada"]).locked_until is not None


def test_an_unknown_email_fails_like_a_wrong_password(world):
    resp = sign_in(world.app.test_client(), "nobody@example.org")
    assert resp.status_code == 401 and b"Wrong e-mail or password" in resp.data


def test_sign_out_ends_the_session(world):
    world.add_user("ada")
    client = world.app.test_client()
    sign_in(client, "ada@example.org")
    resp = _post_form(client, "/account/sign-out", {}, page_url="/account")
    assert resp.status_code == 302
    assert client.get("/account").status_code == 302


def test_sign_in_never_redirects_to_another_site(world):
    world.add_user("ada")
    for target in (
        "https://evil.example/",
        "//evil.example/x",
        "javascript:alert(1)",
        "/account/tokens",
    ):
        client = world.app.test_client()
        page = client.get("/account/sign-in")
        resp = client.post(
            f"/account/sign-in?next={target}",
            data={
                "email": "ada@example.org",
                "password": PASSWORD,
                "csrf_token": csrf_token(page.data),
            },
        )
        assert resp.status_code == 302
        assert resp.headers["Location"] == (
            "/account/tokens" if target == "/account/tokens" else "/account"
        )


def test_an_admin_invites_and_only_the_invited_person_joins_with_the_role(world):
    world.add_user("ada", org="samata", role="admin")
    world.add_user("eve")
    admin = world.app.test_client()
    sign_in(admin, "ada@example.org")
    resp = _post_form(
        admin, "/orgs/samata/members", {"email": "newcomer@example.org", "role": "editor"}
    )
    assert resp.status_code == 201
    link = re.search(rb'id="invitation-link">([^<]+)<', resp.data).group(1).decode()
    base = world.app.config["BASE_URL"].rstrip("/")
    assert link.startswith(f"{base}/invitations/")  # the public address, not the request's Host
    path = link.removeprefix(base)
    with world.runtime.db.session() as s:
        stored = s.scalar(select(Invitation)).token_hash
    assert path.rsplit("/", 1)[1] not in stored  # only the hash is kept

    # Someone else who got the link cannot use it.
    eve = world.app.test_client()
    sign_in(eve, "eve@example.org")
    assert _post_form(eve, path, {}).status_code == 403

    newcomer = world.app.test_client()
    _post_form(
        newcomer,
        "/account/sign-up",
        {"email": "newcomer@example.org", "password": "long enough pass"},
    )
    page = newcomer.get(path)
    assert b"Samata Collective" in page.data and b"editor" in page.data
    assert _post_form(newcomer, path, {}).status_code == 302
    with world.runtime.db.session() as s:
        uid = s.scalar(select(User.id).where(User.email == "newcomer@example.org"))
        role = s.scalar(select(Membership.role).where(Membership.user_id == uid))
    assert role == "editor"
    assert newcomer.get(path).status_code == 404  # used up
    members = admin.get("/orgs/samata/members")
    assert b"newcomer@example.org" in members.data


def test_only_organisation_admins_manage_members_and_applications(world):
    world.add_user("ed", org="samata", role="publisher")
    world.add_user("bea", org="dalit-voice", role="admin")
    for label in ("ed", "bea"):
        client = world.app.test_client()
        sign_in(client, f"{label}@example.org")
        assert client.get("/orgs/samata/members").status_code == 403
        assert client.get("/orgs/samata/clients").status_code == 403


def test_an_admin_registers_an_application_and_sees_its_secret_once(world):
    world.add_user("ada", org="samata", role="admin")
    client = world.app.test_client()
    sign_in(client, "ada@example.org")
    resp = _post_form(
        client,
        "/orgs/samata/clients",
        {
            "name": "Kobo sync",
            "kind": "confidential",
            "redirect_uris": "",
            "scopes": ["datasets:write", "datasets:publish"],
        },
    )
    assert resp.status_code == 201
    secret = re.search(rb'id="new-client-secret">([^<]+)<', resp.data).group(1)
    listing = client.get("/orgs/samata/clients")
    assert b"Kobo sync" in listing.data and secret not in listing.data
    bad = _post_form(
        client,
        "/orgs/samata/clients",
        {"name": "Web app", "kind": "public", "redirect_uris": "http://example.org/cb"},
    )
    assert bad.status_code == 400 and b"loopback" in bad.data


def test_personal_access_token_with_scopes_organisations_and_expiry(world):
    world.add_user("ada", org="samata", role="admin")
    client = world.app.test_client()
    sign_in(client, "ada@example.org")
    resp = _post_form(
        client,
        "/account/tokens",
        {
            "name": "laptop script",
            "scopes": ["datasets:write"],
            "organisations": [str(world.org_id("samata"))],
            "expires_in_days": "7",
        },
    )
    assert resp.status_code == 201
    value = re.search(rb'id="new-token">([^<]+)<', resp.data).group(1).decode()
    assert value.startswith("cgdp_")
    assert value.encode() not in client.get("/account/tokens").data
    api = world.app.test_client()
    me = api.get("/api/v1/me", headers=bearer(value)).get_json()
    assert me["organisations"] == ["samata"] and me["scopes"] == ["datasets:write"]
    with world.runtime.db.session() as s:
        token = s.scalar(select(OAuthToken))
        assert token.access_token_hash != value and len(token.access_token_hash) == 64
        days = (token.expires_at - token.issued_at).days
    assert days == 7
    # An organisation the person does not belong to, an unknown scope, a too-long expiry: refused.
    for bad in (
        {"organisations": [str(world.org_id("dalit-voice"))], "scopes": ["datasets:write"]},
        {"organisations": [str(world.org_id("samata"))], "scopes": ["datasets:everything"]},
        {
            "organisations": [str(world.org_id("samata"))],
            "scopes": ["datasets:write"],
            "expires_in_days": "1000",
        },
    ):
        resp = _post_form(client, "/account/tokens", {"name": "bad", "expires_in_days": "7", **bad})
        assert resp.status_code == 400, bad
    # Revoked from the page: it stops working at once.
    with world.runtime.db.session() as s:
        token_id = s.scalar(select(OAuthToken.id))
    _post_form(client, f"/account/tokens/{token_id}/revoke", {}, page_url="/account/tokens")
    assert api.get("/api/v1/me", headers=bearer(value)).status_code == 401


def test_an_expired_personal_token_is_refused(world):
    from datetime import UTC, datetime, timedelta

    world.add_user("ada", org="samata", role="admin")
    value = world.token("ada", ["datasets:write"], ["samata"], days=1)
    with world.runtime.db.session() as s:
        s.scalar(select(OAuthToken)).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    resp = world.app.test_client().get("/api/v1/me", headers=bearer(value))
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_token"
    assert "invalid_token" in resp.headers["WWW-Authenticate"]


def test_the_hook_sets_the_principal_for_graphql_from_a_token_or_the_session(world):
    world.add_user("ada", org="samata", role="admin")
    value = world.token("ada", ["datasets:read-private"], ["samata"])
    with world.app.test_request_context("/graphql", method="POST", headers=bearer(value)):
        world.app.preprocess_request()
        principal = current_principal()
        assert principal.kind == "token" and principal.scopes == frozenset(
            {"datasets:read-private"}
        )
        assert principal.organisation_ids == frozenset({world.org_id("samata")})
    client = world.app.test_client()
    sign_in(client, "ada@example.org")
    seen = {}

    with client.session_transaction() as sess:
        cookie_session = dict(sess)
    with world.app.test_request_context("/graphql", method="POST"):
        from flask import session

        session.update(cookie_session)
        world.app.preprocess_request()
        seen["graphql"] = current_principal()
    with world.app.test_request_context("/api/v1/me"):
        from flask import session

        session.update(cookie_session)
        world.app.preprocess_request()
        seen["rest"] = current_principal()
    assert seen["graphql"].kind == "user" and seen["graphql"].user_id == world.users["ada"]
    assert seen["rest"].kind == "anonymous"  # the REST API takes tokens only (no CSRF exposure)


def test_cli_creates_an_admin_and_a_client(world, tmp_path):
    from click.testing import CliRunner

    from portal.cli import main

    env = {
        "CGD_INSTANCE_PATH": world.app.config["INSTANCE_PATH"],
        "CGD_DATABASE_URL": world.app.config["DATABASE_URL"],
    }
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "root@example.org",
            "--admin",
            "--password",
            "a long admin password",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    world.add_user("ada", org="samata", role="admin")
    out = runner.invoke(
        main,
        [
            "clients",
            "create",
            "--org",
            "samata",
            "--name",
            "Kobo sync",
            "--owner",
            "ada@example.org",
            "--scope",
            "datasets:write",
            "--scope",
            "datasets:publish",
        ],
        env=env,
    )
    assert out.exit_code == 0, out.output
    client_id = re.search(r"client_id: (\S+)", out.output).group(1)
    secret = re.search(r"client_secret: (\S+)", out.output).group(1)
    token = world.app.test_client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": _basic(client_id, secret)},
    )
    assert token.status_code == 200, token.data
    assert token.get_json()["scope"] == "datasets:write datasets:publish"
    refused = runner.invoke(
        main,
        [
            "clients",
            "create",
            "--org",
            "samata",
            "--name",
            "x",
            "--owner",
            "nobody@example.org",
            "--scope",
            "datasets:write",
        ],
        env=env,
    )
    assert refused.exit_code != 0


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_an_admin_changes_a_members_role_and_others_cannot(world):
    world.add_user("ada", org="samata", role="admin")
    world.add_user("ed", org="samata", role="editor")
    admin = world.app.test_client()
    sign_in(admin, "ada@example.org")
    url = f"/orgs/samata/members/{world.users['ed']}/role"
    assert (
        _post_form(admin, url, {"role": "publisher"}, page_url="/orgs/samata/members").status_code
        == 302
    )
    with world.runtime.db.session() as s:
        role = s.scalar(select(Membership.role).where(Membership.user_id == world.users["ed"]))
    assert role == "publisher"
    assert (
        _post_form(admin, url, {"role": "owner"}, page_url="/orgs/samata/members").status_code
        == 400
    )
    editor = world.app.test_client()
    sign_in(editor, "ed@example.org")
    page = editor.get("/account")
    resp = editor.post(
        f"/orgs/samata/members/{world.users['ed']}/role",
        data={"role": "admin", "csrf_token": csrf_token(page.data)},
    )
    assert resp.status_code == 403


def test_a_site_admins_token_is_site_admin_only_with_org_admin_scope():
    from catalog.permissions import is_site_admin
    from catalog.principal import ANONYMOUS, Principal, system

    assert is_site_admin(system())
    assert is_site_admin(Principal(kind="user", user_id=1, is_admin=True))
    assert not is_site_admin(Principal(kind="user", user_id=2))
    assert not is_site_admin(ANONYMOUS)
    narrow = Principal(kind="token", user_id=1, is_admin=True, scopes=frozenset({"datasets:write"}))
    wide = Principal(kind="token", user_id=1, is_admin=True, scopes=frozenset({"org:admin"}))
    assert not is_site_admin(narrow) and is_site_admin(wide)


def test_an_admin_removes_a_member_whose_access_to_the_organisation_ends(world):
    world.add_user("ada", org="samata", role="admin")
    world.add_user("ed", org="samata", role="editor")
    world.add_user("ed2", org="dalit-voice", role="admin")
    admin, editor = world.app.test_client(), world.app.test_client()
    sign_in(admin, "ada@example.org")
    sign_in(editor, "ed@example.org")
    # A member who is not an admin cannot remove anyone.
    page = editor.get("/account")
    resp = editor.post(
        f"/orgs/samata/members/{world.users['ada']}/remove",
        data={"csrf_token": csrf_token(page.data)},
    )
    assert resp.status_code == 403
    # ... and learns nothing about which ids exist: an unknown id is refused the same way.
    for action in ("remove", "role"):
        probe = editor.post(
            f"/orgs/samata/members/999999/{action}",
            data={"csrf_token": csrf_token(page.data), "role": "admin"},
        )
        assert probe.status_code == 403, action
    # Someone outside the organisation is not found there.
    outsider = f"/orgs/samata/members/{world.users['ed2']}/remove"
    assert _post_form(admin, outsider, {}, page_url="/orgs/samata/members").status_code == 404
    url = f"/orgs/samata/members/{world.users['ed']}/remove"
    assert _post_form(admin, url, {}, page_url="/orgs/samata/members").status_code == 302
    with world.runtime.db.session() as s:
        assert s.scalar(select(Membership).where(Membership.user_id == world.users["ed"])) is None
    assert b"ed@example.org" not in admin.get("/orgs/samata/members").data
    assert editor.get("/orgs/samata/members").status_code == 403


def test_the_last_administrator_can_be_neither_removed_nor_demoted(world):
    world.add_user("ada", org="samata", role="admin")
    admin = world.app.test_client()
    sign_in(admin, "ada@example.org")
    me = world.users["ada"]
    removed = _post_form(
        admin, f"/orgs/samata/members/{me}/remove", {}, page_url="/orgs/samata/members"
    )
    assert removed.status_code == 409 and b"at least one administrator" in removed.data
    demoted = _post_form(
        admin,
        f"/orgs/samata/members/{me}/role",
        {"role": "editor"},
        page_url="/orgs/samata/members",
    )
    assert demoted.status_code == 409
    with world.runtime.db.session() as s:
        role = s.scalar(select(Membership.role).where(Membership.user_id == me))
    assert role == "admin"
    # With a second administrator, the first may step down.
    world.add_user("bo", org="samata", role="admin")
    assert (
        _post_form(
            admin,
            f"/orgs/samata/members/{me}/role",
            {"role": "editor"},
            page_url="/orgs/samata/members",
        ).status_code
        == 302
    )
