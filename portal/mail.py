"""Outgoing e-mail (password-reset links, invitations).

With ``CGD_SMTP_URL`` set, mail goes by SMTP: ``smtp://user:password@host:587`` (STARTTLS
when the server offers it, required with ``?starttls=required``), ``smtps://host:465``
(TLS from the start). The password may come from ``CGD_SMTP_URL_FILE`` like every secret.
Without it (the zero-set-up default) each message is written as an ``.eml`` file to
``instance/outbox/``, where a developer or an operator without a mail server can read it.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from schema.errors import CGDError

log = logging.getLogger(__name__)
TIMEOUT = 10


class MailNotSent(CGDError):
    def __init__(self, message: str):
        super().__init__(message=message, code="mail_not_sent", status=502)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps)
    starttls: str  # "auto" | "required" | "off"
    username: str | None
    password: str | None


def smtp_settings(url: str) -> SmtpSettings:
    """Parse ``CGD_SMTP_URL``; a wrong one stops start-up with a message naming it."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise CGDError(
            "CGD_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465.",
            code="invalid_config",
        )
    starttls = (parse_qs(parts.query).get("starttls") or ["auto"])[0].lower()
    if starttls not in ("auto", "required", "off"):
        raise CGDError("CGD_SMTP_URL: starttls is auto, required or off.", code="invalid_config")
    tls = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or (465 if tls else 587),
        tls=tls,
        starttls="off" if tls else starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _message(config: dict[str, Any], to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.get("MAIL_FROM") or "cgd-portal <no-reply@localhost>"
    msg["To"] = to
    # One line whatever the text (an organisation's name goes in): a line break would make
    # the header invalid, and the message could not be built at all.
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="cgd-portal")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def _to_outbox(outbox: Path, msg: EmailMessage) -> str:
    """Write the message as a file only its owner reads: it may hold a live reset link.

    Created 0600 (never readable by others, not even between creating and chmod), in a
    folder kept 0700.
    """
    try:
        outbox.mkdir(mode=0o700, exist_ok=True)
        if outbox.stat().st_mode & 0o077:  # made earlier by someone else: close it
            outbox.chmod(0o700)
        path = outbox / f"{uuid.uuid4().hex}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(msg))
    except OSError as exc:
        log.warning("mail not written to the outbox: %s", exc.__class__.__name__)
        raise MailNotSent(f"The e-mail could not be kept ({exc.__class__.__name__}).") from exc
    log.info("mail written to the outbox", extra={"path": str(path)})
    return str(path)


def send(config: dict[str, Any], *, to: str, subject: str, body: str) -> str:
    """Send one plain-text message; returns where it went ("smtp" or the outbox file).

    MailNotSent when the SMTP server cannot be reached or refuses it, or the outbox cannot
    be written.
    """
    msg = _message(config, to, subject, body)
    url = config.get("SMTP_URL")
    if not url:
        return _to_outbox(Path(config["INSTANCE_PATH"]) / "outbox", msg)
    settings = smtp_settings(url)
    context = ssl.create_default_context()
    try:
        if settings.tls:
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=TIMEOUT, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        with client:
            client.ehlo()
            if settings.starttls != "off" and (
                settings.starttls == "required" or client.has_extn("starttls")
            ):
                client.starttls(context=context)
                client.ehlo()
            if settings.username:
                client.login(settings.username, settings.password or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail not sent: %s", exc.__class__.__name__)
        raise MailNotSent(f"The e-mail could not be sent ({exc.__class__.__name__}).") from exc
    return "smtp"


# One thread: messages leave in order, and a slow server never holds up more than the mail.
_SENDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cgd-mail")


def send_later(config: dict[str, Any], *, to: str, subject: str, body: str) -> Future:
    """Send in the background, so that how long a page takes does not tell whether an e-mail
    went out (a forgotten-password form must not reveal who has an account). A failure is
    logged."""
    settings = dict(config)  # as it is now, without naming the keys send() reads

    def run() -> str | None:
        try:
            return send(settings, to=to, subject=subject, body=body)
        except MailNotSent:
            return None  # logged by send()
        except Exception:
            # Nobody reads this future's result: anything else would vanish without a trace.
            log.exception("mail not sent")
            return None

    return _SENDER.submit(run)
