"""Browser sessions are server-side: a row per signed-in browser, found by the hash of the
random secret in the cookie; sign-out deletes it, and sessions end when idle or too old."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from catalog.models import User
from catalog.services import accounts
from catalog.session_models import UserSession
from schema.errors import InvalidInput
from tests.accounts.world import PASSWORD, World, csrf_token, person, sign_in

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _world(app) -> World:
    world = World.of(app)
    world.add_org("samata", "Samata Collective")
    world.add_user("bea", org="samata")
    return world


@pytest.fixture
def world(make_app):
    return _world(make_app())


@pytest.fixture
def world_on_both(make_app, database_url):
    return _world(make_app(database_url))


def _sign_in(client, email: str = "bea@example.org"):
    resp = sign_in(client, email, headers={"User-Agent": BROWSER})
    assert resp.status_code == 302, resp.data[:300]
    return resp


def _sign_out(client):
    page = client.get("/account/tokens")
    resp = client.post("/account/sign-out", data={"csrf_token": csrf_token(page.data)})
    assert resp.status_code == 302


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _browser_with(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _secret(client) -> str:
    with client.session_transaction() as sess:
        return sess["_user_id"]


def _rows(world, label: str = "bea") -> list[UserSession]:
    with world.runtime.db.session() as s:
        return accounts.list_sessions(s, world.users[label])


def _signed_in(client) -> bool:
    resp = client.get("/account")
    assert resp.status_code in (200, 302), resp.status_code
    return resp.status_code == 200


def test_a_session_cookie_copied_before_sign_out_is_dead_afterwards(world_on_both):
    world = world_on_both
    client = world.app.test_client()
    _sign_in(client)
    stolen = _cookie(client)
    assert _signed_in(_browser_with(world.app, stolen))  # the copy works while signed in
    _sign_out(client)
    assert _rows(world) == []
    assert not _signed_in(_browser_with(world.app, stolen))
    assert not _signed_in(client)


def test_the_cookie_carries_only_a_random_secret_and_the_catalogue_only_its_hash(world):
    client = world.app.test_client()
    resp = _sign_in(client)
    assert not any("remember_token" in c for c in resp.headers.getlist("Set-Cookie"))
    secret = _secret(client)
    assert secret != str(world.users["bea"]) and len(secret) >= 40
    [row] = _rows(world)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.user_id == world.users["bea"] and row.user_agent == BROWSER
    created = row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC)
    expires = row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC)
    assert expires - created == timedelta(days=14)


def test_each_sign_in_gets_a_new_secret_and_ends_the_browsers_earlier_session(world):
    client = world.app.test_client()
    _sign_in(client)
    first_cookie, first_secret = _cookie(client), _secret(client)
    _sign_in(client)
    assert _secret(client) != first_secret
    assert len(_rows(world)) == 1
    assert not _signed_in(_browser_with(world.app, first_cookie))
    assert _signed_in(client)


def test_a_forged_or_pre_upgrade_cookie_naming_a_user_id_does_not_sign_in(world):
    client = world.app.test_client()
    client.get("/account/sign-in")
    with client.session_transaction() as sess:
        sess["_user_id"] = str(world.users["bea"])  # what the cookie held before server sessions
        sess["_fresh"] = True
    assert not _signed_in(client)


def test_a_session_idle_longer_than_the_limit_ends_and_its_row_goes(make_app):
    world = _world(make_app(SESSION_IDLE_HOURS=1))
    client = world.app.test_client()
    _sign_in(client)
    assert _signed_in(client)
    with world.runtime.db.session() as s:
        s.execute(
            update(UserSession).values(
                last_seen_at=datetime.now(UTC) - timedelta(hours=1, minutes=1)
            )
        )
    assert not _signed_in(client)
    assert _rows(world) == []


def test_a_session_older_than_the_absolute_limit_ends_however_active(world):
    client = world.app.test_client()
    _sign_in(client)
    with world.runtime.db.session() as s:
        s.execute(update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert not _signed_in(client)
    assert _rows(world) == []


def test_last_seen_is_written_at_most_once_a_minute(world):
    client = world.app.test_client()
    _sign_in(client)
    [row] = _rows(world)
    for _ in range(3):
        assert _signed_in(client)
    [same] = _rows(world)
    assert same.last_seen_at == row.last_seen_at
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)
    with world.runtime.db.session() as s:
        s.execute(update(UserSession).values(last_seen_at=two_minutes_ago))
    assert _signed_in(client)
    [touched] = _rows(world)
    seen = touched.last_seen_at.replace(tzinfo=touched.last_seen_at.tzinfo or UTC)
    assert seen > two_minutes_ago + timedelta(minutes=1)


def test_revoking_a_persons_sessions_signs_out_their_other_browsers(world):
    laptop, phone = world.app.test_client(), world.app.test_client()
    _sign_in(laptop)
    _sign_in(phone)
    assert len(_rows(world)) == 2
    with world.runtime.db.session() as s:
        ended = accounts.revoke_sessions(
            s, person(world.users["bea"]), world.users["bea"], keep=_secret(laptop)
        )
    assert ended == 1
    assert _signed_in(laptop) and not _signed_in(phone)


def test_a_disabled_person_is_signed_out_at_their_next_request(world):
    client = world.app.test_client()
    _sign_in(client)
    with world.runtime.db.session() as s:
        s.get(User, world.users["bea"]).active = False
    assert not _signed_in(client)
    assert _rows(world) == []
    with world.runtime.db.session() as s:
        s.get(User, world.users["bea"]).active = True
    assert not _signed_in(client)  # enabling the account again does not revive the session


def test_session_services_expire_by_the_clock_on_both_databases(world_on_both):
    world = world_on_both
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with world.runtime.db.session() as s:
        user = s.get(User, world.users["bea"])
        raw = accounts.start_session(
            s, user, user_agent="x\x00y" + "z" * 300, max_age=timedelta(days=14), now=t0
        )
    [row] = _rows(world)
    assert row.user_agent == "xy" + "z" * 198
    idle = timedelta(days=2)
    with world.runtime.db.session() as s:
        # Active every day: still alive on day 13, gone at day 14 (the absolute limit).
        for day in range(1, 14):
            now = t0 + timedelta(days=day)
            assert accounts.session_user(s, raw, idle=idle, now=now).id == world.users["bea"]
        assert accounts.session_user(s, raw, idle=idle, now=t0 + timedelta(days=14)) is None
    assert _rows(world) == []
    with world.runtime.db.session() as s:
        user = s.get(User, world.users["bea"])
        raw = accounts.start_session(s, user, now=t0)
        assert accounts.session_user(s, raw, idle=idle, now=t0 + timedelta(days=1, hours=23))
        # Idle from day 1:23 on, so ends two days later.
        late = t0 + timedelta(days=3, hours=23)
        assert accounts.session_user(s, raw, idle=idle, now=late) is None
        assert accounts.session_user(s, "not-a-secret", idle=idle, now=t0) is None
        assert accounts.end_session(s, "not-a-secret") is False
    with world.runtime.db.session() as s:
        assert s.scalars(select(UserSession)).all() == []


def test_starting_a_session_clears_the_persons_expired_ones(world):
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with world.runtime.db.session() as s:
        user = s.get(User, world.users["bea"])
        accounts.start_session(s, user, now=t0)
        accounts.start_session(s, user, now=t0 + timedelta(days=1))
        accounts.start_session(s, user, now=t0 + timedelta(days=2, hours=12))
    assert len(_rows(world)) == 2  # the first had been idle 2.5 days, the second 1.5


def test_a_non_positive_session_limit_is_refused_at_start(make_app):
    with pytest.raises(InvalidInput) as err:
        make_app(SESSION_IDLE_HOURS=0)
    assert err.value.code == "invalid_config"


def test_changing_the_password_signs_out_the_other_browsers_but_not_this_one(world):
    laptop, phone = world.app.test_client(), world.app.test_client()
    _sign_in(laptop)
    _sign_in(phone)
    stolen = _cookie(phone)
    bea = person(world.users["bea"])
    with world.runtime.db.session() as s:
        with pytest.raises(InvalidInput) as wrong:
            accounts.change_password(s, bea, current="not it", new="a new long password")
        assert wrong.value.problems[0].code == "invalid_credentials"
        with pytest.raises(InvalidInput) as weak:
            accounts.change_password(s, bea, current=PASSWORD, new="short")
        assert weak.value.problems[0].code == "weak_password"
    assert len(_rows(world)) == 2  # refused changes end nothing
    with world.runtime.db.session() as s:
        ended = accounts.change_password(
            s, bea, current=PASSWORD, new="a new long password", keep_session=_secret(laptop)
        )
    assert ended == 1
    assert _signed_in(laptop)
    assert not _signed_in(phone) and not _signed_in(_browser_with(world.app, stolen))
    with world.runtime.db.session() as s:
        assert accounts.authenticate(s, "bea@example.org", "a new long password")


def _security_post(client, url: str, data: dict | None = None):
    page = client.get("/account/security")
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(page.data)})


def test_the_security_page_changes_the_password_and_signs_out_the_other_browsers(world):
    laptop, phone = world.app.test_client(), world.app.test_client()
    _sign_in(laptop)
    _sign_in(phone)
    page = laptop.get("/account/security")
    assert page.status_code == 200
    assert page.data.count(b"<tr><td>Firefox 128 on Linux") == 2
    assert page.data.count(b"this browser") == 1
    form = {"current_password": PASSWORD, "new_password": "another long password"}
    mismatch = _security_post(
        laptop, "/account/security", {**form, "confirm_password": "something else"}
    )
    assert mismatch.status_code == 400 and b"The two new passwords differ." in mismatch.data
    wrong = _security_post(
        laptop,
        "/account/security",
        {**form, "current_password": "not it", "confirm_password": form["new_password"]},
    )
    assert wrong.status_code == 400 and b"The current password is wrong." in wrong.data
    assert _signed_in(phone)  # refused changes sign nobody out
    done = _security_post(
        laptop, "/account/security", {**form, "confirm_password": form["new_password"]}
    )
    assert done.status_code == 200 and b"Browsers signed out: 1." in done.data
    assert _signed_in(laptop) and not _signed_in(phone)
    with world.runtime.db.session() as s:
        assert accounts.authenticate(s, "bea@example.org", "another long password")


def test_a_person_signs_out_one_other_browser_or_all_others_but_never_someone_elses(world):
    world.add_user("cai", org="samata")
    laptop, phone, tablet = (world.app.test_client() for _ in range(3))
    for client in (laptop, phone, tablet):
        _sign_in(client)
    other = world.app.test_client()
    _sign_in(other, "cai@example.org")
    mine = hashlib.sha256(_secret(laptop).encode()).hexdigest()
    phone_row = next(
        r.id
        for r in _rows(world)
        if r.secret_hash == hashlib.sha256(_secret(phone).encode()).hexdigest()
    )
    assert any(r.secret_hash == mine for r in _rows(world))
    # Someone else cannot end bea's session, and learns nothing from the id.
    assert _security_post(other, f"/account/sessions/{phone_row}/end").status_code == 404
    assert _signed_in(phone)
    assert _security_post(laptop, f"/account/sessions/{phone_row}/end").status_code == 302
    assert not _signed_in(phone) and _signed_in(tablet) and _signed_in(laptop)
    assert _security_post(laptop, "/account/sessions/end-others").status_code == 302
    assert not _signed_in(tablet) and _signed_in(laptop) and _signed_in(other)
    assert len(_rows(world)) == 1


def test_the_security_forms_need_a_signed_in_person_and_the_csrf_token(world):
    anonymous = world.app.test_client()
    assert anonymous.get("/account/security").status_code == 302
    client = world.app.test_client()
    _sign_in(client)
    resp = client.post(
        "/account/security",
        data={
            "current_password": PASSWORD,
            "new_password": "another long password",
            "confirm_password": "another long password",
        },
    )
    assert resp.status_code == 400
    with world.runtime.db.session() as s:
        assert accounts.authenticate(s, "bea@example.org", PASSWORD)


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (BROWSER, "Firefox 128 on Linux"),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome 131 on Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari 17 on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge 131 on Windows",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        # A token with no version after it (was an IndexError: a 500 on the security page).
        ("Mozilla/5.0 (X11; Linux x86_64) Firefox/", "Firefox on Linux"),
    ],
)
def test_the_security_page_names_browsers_a_person_recognises(world, agent, label):
    from portal.views.auth import _browser_label

    with world.app.test_request_context("/?lang=en"):
        assert _browser_label(agent) == label
