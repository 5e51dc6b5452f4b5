"""portal.mail without a mail server: the outbox is private, a subject is always one header
line, and a background send that fails is logged rather than lost."""

from __future__ import annotations

import email
import logging
import os
from email.policy import default as default_policy

import pytest

from portal import mail


def _config(instance) -> dict:
    return {"INSTANCE_PATH": str(instance), "MAIL_FROM": "portal <no-reply@example.org>"}


def test_an_outbox_made_earlier_with_open_permissions_is_closed(tmp_path):
    (tmp_path / "outbox").mkdir(mode=0o755)
    os.chmod(tmp_path / "outbox", 0o755)  # whatever the umask
    where = mail.send(_config(tmp_path), to="bea@example.org", subject="s", body="a link")
    assert oct((tmp_path / "outbox").stat().st_mode & 0o777) == "0o700"
    assert oct(os.stat(where).st_mode & 0o777) == "0o600"


def test_a_name_with_a_line_break_stays_in_the_subject_and_adds_no_header(tmp_path):
    subject = "Invitation to Samata\r\nBcc: someone@example.net\n Collective"
    where = mail.send(_config(tmp_path), to="bea@example.org", subject=subject, body="b")
    with open(where, "rb") as fh:
        message = email.message_from_bytes(fh.read(), policy=default_policy)
    assert message["Subject"] == "Invitation to Samata Bcc: someone@example.net Collective"
    assert message["Bcc"] is None and message.get_all("To") == ["bea@example.org"]


def test_an_outbox_that_cannot_be_written_is_mail_not_sent(tmp_path):
    missing = tmp_path / "no-such-instance"  # the outbox's parent does not exist
    with pytest.raises(mail.MailNotSent):
        mail.send(_config(missing), to="bea@example.org", subject="s", body="b")


def test_a_background_send_that_fails_is_logged_not_lost(tmp_path, caplog):
    missing = tmp_path / "no-such-instance"
    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        done = mail.send_later(_config(missing), to="bea@example.org", subject="s", body="b")
        assert done.result(timeout=30) is None  # the future itself never raises
    assert any(r.name == "portal.mail" and "not" in r.getMessage() for r in caplog.records)
