"""Forgotten passwords: a single-use, one-hour link by e-mail (a real SMTP server on
loopback, aiosmtpd), the same answer for unknown addresses, and every session ended."""

from __future__ import annotations

import email
import re
import socket
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from catalog.services import accounts
from catalog.session_models import PasswordReset
from schema.errors import CGDError
from tests.accounts.world import PASSWORD, World, csrf_token, sign_in

LINK = re.compile(r"https?://\S+/account/reset-password/\S+")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An SMTP server's handler that keeps what it receives."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []

    def arrived(self) -> list[email.message.EmailMessage]:
        """What arrived, once the portal's background sender is idle (mail goes out after
        the page is answered, so that timing reveals nothing). A method, not a property:
        aiosmtpd inspects the handler's attributes in its own event loop."""
        from portal import mail

        mail._SENDER.submit(lambda: None).result(timeout=30)  # queued before: sent by now
        return self.received

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"portal" and auth_data.password == b"s3cret-for-tests"
    return AuthResult(success=ok)


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


def _world(app) -> World:
    world = World.of(app)
    world.add_org("samata", "Samata Collective")
    world.add_user("bea", org="samata")
    return world


@pytest.fixture
def world(make_app, smtp):
    controller, _ = smtp
    url = f"smtp://portal:s3cret-for-tests@127.0.0.1:{controller.port}"
    return _world(make_app(SMTP_URL=url, BASE_URL="https://data.example.org"))


def _post(client, url: str, data: dict, page: str):
    form = client.get(page)
    assert form.status_code == 200, form.status_code
    return client.post(url, data={**data, "csrf_token": csrf_token(form.data)})


def _forgot(client, address: str):
    return _post(
        client, "/account/forgot-password", {"email": address}, page="/account/forgot-password"
    )


def _sign_in(client, password: str):
    return sign_in(client, "bea@example.org", password)


def test_a_reset_link_by_email_changes_the_password_once_and_ends_every_session(world, smtp):
    _, mailbox = smtp
    other_browser = world.app.test_client()
    assert _sign_in(other_browser, PASSWORD).status_code == 302
    client = world.app.test_client()
    sent = _forgot(client, "  BEA@example.org ")
    assert sent.status_code == 200 and b"If an account uses this address" in sent.data
    assert len(mailbox.arrived()) == 1
    message = mailbox.arrived()[0]
    assert message["To"] == "bea@example.org" and message["Subject"] == "Reset your password"
    body = message.get_content()
    link = LINK.search(body).group(0)
    # The link names the configured public address, whatever Host the request carried.
    assert link.startswith("https://data.example.org/account/reset-password/")
    path = link.removeprefix("https://data.example.org")
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    differ = _post(
        client,
        path,
        {"new_password": "a fresh long password", "confirm_password": "something else"},
        page=path,
    )
    assert differ.status_code == 400 and b"The two new passwords differ." in differ.data
    weak = _post(client, path, {"new_password": "short", "confirm_password": "short"}, page=path)
    assert weak.status_code == 400
    done = _post(
        client,
        path,
        {"new_password": "a fresh long password", "confirm_password": "a fresh long password"},
        page=path,
    )
    assert done.status_code == 302 and "reset=done" in done.headers["Location"]
    assert b"Your password is changed" in client.get(done.headers["Location"]).data
    # The other browser is signed out; the old password is dead, the new one works.
    assert other_browser.get("/account").status_code == 302
    assert _sign_in(world.app.test_client(), PASSWORD).status_code == 401
    assert _sign_in(world.app.test_client(), "a fresh long password").status_code == 302
    # The link worked once.
    assert client.get(path).status_code == 400
    assert b"This link is not valid" in client.get(path).data


def test_unknown_and_known_addresses_get_the_same_answer_and_only_the_known_get_mail(world, smtp):
    _, mailbox = smtp
    client = world.app.test_client()
    unknown = _forgot(client, "nobody@example.org")
    known = _forgot(client, "bea@example.org")
    assert unknown.status_code == known.status_code == 200
    strip = re.compile(rb'name="csrf_token" value="[^"]+"')
    assert strip.sub(b"", unknown.data) == strip.sub(b"", known.data)
    assert [m["To"] for m in mailbox.arrived()] == ["bea@example.org"]


def test_open_links_are_capped_and_an_expired_or_forged_link_is_refused(world, smtp):
    _, mailbox = smtp
    client = world.app.test_client()
    for _ in range(accounts.MAX_OPEN_RESETS + 2):
        assert _forgot(client, "bea@example.org").status_code == 200
    assert len(mailbox.arrived()) == accounts.MAX_OPEN_RESETS
    assert client.get("/account/reset-password/forged-token").status_code == 400
    raw = LINK.search(mailbox.arrived()[0].get_content()).group(0).rsplit("/", 1)[1]
    later = datetime.now(UTC) + accounts.RESET_VALID_FOR + timedelta(seconds=1)
    with world.runtime.db.session() as s:
        with pytest.raises(CGDError) as err:
            accounts.reset_password(s, raw, "a fresh long password", now=later)
        assert err.value.code == "invalid_reset_link"
    with world.runtime.db.session() as s:
        stored = s.scalars(select(PasswordReset.secret_hash)).all()
    assert raw not in stored and len(stored) == accounts.MAX_OPEN_RESETS  # only hashes kept


def test_without_a_mail_server_the_message_goes_to_the_outbox(make_app, tmp_path):
    from portal import mail

    world = _world(make_app(INSTANCE_PATH=str(tmp_path / "instance")))
    assert _forgot(world.app.test_client(), "bea@example.org").status_code == 200
    mail._SENDER.submit(lambda: None).result(timeout=30)
    files = list((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert len(files) == 1 and oct(files[0].stat().st_mode & 0o777) == "0o600"
    message = email.message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert LINK.search(message.get_content())


def test_an_unreachable_mail_server_tells_nobody_and_the_send_fails_cleanly(make_app, caplog):
    from portal import mail

    world = _world(make_app(SMTP_URL=f"smtp://127.0.0.1:{_free_port()}"))
    resp = _forgot(world.app.test_client(), "bea@example.org")
    assert resp.status_code == 200 and b"If an account uses this address" in resp.data
    mail._SENDER.submit(lambda: None).result(timeout=30)
    with pytest.raises(mail.MailNotSent):
        mail.send(world.app.config, to="bea@example.org", subject="s", body="b")


def test_a_wrong_smtp_url_stops_start_up(make_app):
    with pytest.raises(CGDError) as err:
        make_app(SMTP_URL="mailto:someone@example.org")
    assert err.value.code == "invalid_config"


def test_an_invitation_is_sent_by_email_with_the_public_link(world, smtp):
    _, mailbox = smtp
    world.add_user("ada", org="samata", role="admin")
    client = world.app.test_client()
    page = client.get("/account/sign-in")
    client.post(
        "/account/sign-in",
        data={
            "email": "ada@example.org",
            "password": PASSWORD,
            "csrf_token": csrf_token(page.data),
        },
    )
    resp = _post(
        client,
        "/orgs/samata/members",
        {"email": "newcomer@example.org", "role": "editor"},
        page="/orgs/samata/members",
    )
    assert resp.status_code == 201 and b"It was also sent to them by e-mail." in resp.data
    (message,) = mailbox.arrived()
    assert message["To"] == "newcomer@example.org"
    assert "Samata Collective" in message["Subject"]
    assert "https://data.example.org/invitations/" in message.get_content()
    assert "as editor." in message.get_content()
    # Roles are named as people read them, not by their code.
    _post(
        client,
        "/orgs/samata/members",
        {"email": "second@example.org", "role": "admin"},
        page="/orgs/samata/members",
    )
    assert "as administrator." in mailbox.arrived()[-1].get_content()
