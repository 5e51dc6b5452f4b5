"""Signing in: password check with lock-out after repeated failures, and the server-side
record of each signed-in browser session (catalog.session_models.UserSession)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from catalog.models import Membership, Organisation, User, as_utc
from catalog.principal import ANONYMOUS, Principal
from catalog.services import audit
from catalog.services.tokens import digest
from catalog.services.users import MIN_PASSWORD, create_user, hash_password, verify_password
from catalog.session_models import PasswordReset, UserSession
from schema.errors import CGDError, InvalidInput, NotFound, PermissionDenied, Problem

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Browser sessions: the absolute and idle limits (the portal's config may choose others), and
# how stale last_seen_at may get before a request writes it (reads stay reads).
SESSION_MAX_AGE = timedelta(days=14)
SESSION_IDLE = timedelta(days=2)
SESSION_TOUCH_EVERY = timedelta(minutes=1)
_USER_AGENT_CHARS = 200
# Verified against when the e-mail is unknown, so both paths take as long.
_DUMMY_HASH = hash_password("not-a-password-anyone-has")


class SignInFailed(CGDError):
    def __init__(
        self, message: str = "Wrong e-mail or password.", code: str = "invalid_credentials"
    ):
        super().__init__(message=message, code=code, status=401)


def authenticate(session: Session, email: str, password: str) -> User:
    """The person with this e-mail and password; after MAX_FAILURES wrong tries the account locks."""
    user = session.scalar(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    )
    if user is None:
        verify_password(User(password_hash=_DUMMY_HASH), password or "")
        raise SignInFailed()
    now = datetime.now(UTC)
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise SignInFailed(
            "Too many failed sign-ins: this account is locked for a while.", code="account_locked"
        )
    if not verify_password(user, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
            audit.record(session, ANONYMOUS, "user.locked", "user", user.id)
        raise SignInFailed()
    if not user.active:
        raise SignInFailed("This account is disabled.", code="inactive_account")
    user.failed_logins = 0
    user.locked_until = None
    return user


def sign_up(session: Session, *, email: str, password: str, name: str = "") -> User:
    """Anyone may open an account; it belongs to no organisation until invited."""
    return create_user(session, ANONYMOUS, email=email, password=password, name=name)


def memberships(session: Session, principal: Principal) -> list[tuple[Organisation, str]]:
    """The organisations the acting person belongs to, with their role."""
    if principal.user_id is None:
        return []
    rows = session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == principal.user_id)
        .order_by(Organisation.name)
    )
    return [(org, role) for org, role in rows]


# --- browser sessions --------------------------------------------------------


def _user_agent_summary(user_agent: str | None) -> str:
    """The browser's User-Agent, printable characters only and cut to what the column holds."""
    text = "".join(ch for ch in (user_agent or "") if ch.isprintable())
    return text.strip()[:_USER_AGENT_CHARS]


def _expired(row: UserSession, now: datetime, idle: timedelta) -> bool:
    return as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + idle <= now


def start_session(
    session: Session,
    user: User,
    *,
    user_agent: str | None = "",
    max_age: timedelta = SESSION_MAX_AGE,
    idle: timedelta = SESSION_IDLE,
    now: datetime | None = None,
) -> str:
    """Record a new signed-in browser for this person; returns the secret (shown only to the cookie).

    A new secret every time, so a session identifier planted before sign-in is worth nothing
    afterwards. The person's sessions that have already expired are removed on the way.
    """
    now = now or datetime.now(UTC)
    raw = secrets.token_urlsafe(32)
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.expires_at <= now, UserSession.last_seen_at <= now - idle),
        )
    )
    session.add(
        UserSession(
            user_id=user.id,
            secret_hash=digest(raw),
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
            user_agent=_user_agent_summary(user_agent),
        )
    )
    session.flush()
    return raw


def session_user(
    session: Session,
    raw: str | None,
    *,
    idle: timedelta = SESSION_IDLE,
    now: datetime | None = None,
) -> User | None:
    """The active person signed in with this session secret, else None.

    An expired session (past its absolute limit, or idle too long) or one whose person was
    disabled is deleted, so it cannot come back. last_seen_at is written at most once per
    SESSION_TOUCH_EVERY, so most requests only read.
    """
    if not raw or not isinstance(raw, str):
        return None
    row = session.scalar(select(UserSession).where(UserSession.secret_hash == digest(raw)))
    if row is None:
        return None
    now = now or datetime.now(UTC)
    user = session.get(User, row.user_id)
    if user is None or not user.active or _expired(row, now, idle):
        session.delete(row)
        return None
    if now - as_utc(row.last_seen_at) >= SESSION_TOUCH_EVERY:
        row.last_seen_at = now
    return user


def end_session(session: Session, raw: str | None) -> bool:
    """Sign this browser out: its session row goes, so every copy of its cookie stops working."""
    if not raw or not isinstance(raw, str):
        return False
    result = session.execute(delete(UserSession).where(UserSession.secret_hash == digest(raw)))
    return bool(result.rowcount)


def revoke_sessions(
    session: Session, principal: Principal, user_id: int, *, keep: str | None = None
) -> int:
    """End all of a person's browser sessions (but ``keep``, the caller's own, if given).

    For a password change (the other browsers are signed out) and for disabling an account.
    Returns how many sessions ended.
    """
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        query = query.where(UserSession.secret_hash != digest(keep))
    ended = session.execute(query).rowcount or 0
    audit.record(session, principal, "user.sessions_revoked", "user", user_id, count=ended)
    return ended


def _check_new_password(new: str) -> None:
    """InvalidInput (field "new") when a new password is shorter than MIN_PASSWORD."""
    if len(new or "") < MIN_PASSWORD:
        raise InvalidInput(
            "The new password is not valid.",
            [Problem("weak_password", f"Use at least {MIN_PASSWORD} characters.", field="new")],
        )


def change_password(
    session: Session,
    principal: Principal,
    *,
    current: str,
    new: str,
    keep_session: str | None = None,
) -> int:
    """The acting person changes their password; their other browser sessions end.

    ``keep_session`` is the secret of the browser making the change (it stays signed in).
    Returns how many other sessions ended.
    """
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    if user is None or principal.kind != "user":
        raise PermissionDenied("Sign in to change your password.", code="session_required")
    if not verify_password(user, current or ""):
        raise InvalidInput(
            "The current password is wrong.",
            [Problem("invalid_credentials", "The current password is wrong.", field="current")],
        )
    _check_new_password(new)
    user.password_hash = hash_password(new)
    audit.record(session, principal, "user.password_change", "user", user.id)
    return revoke_sessions(session, principal, user.id, keep=keep_session)


def list_sessions(session: Session, user_id: int) -> list[UserSession]:
    """A person's recorded browser sessions, most recently seen first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_own_session(session: Session, principal: Principal, session_id: int) -> None:
    """The acting person signs out one of their browsers (from the account security page)."""
    if principal.kind != "user" or principal.user_id is None:
        raise PermissionDenied("Sign in to manage your sessions.", code="session_required")
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != principal.user_id:
        # Someone else's session id is answered like a missing one: ids reveal nothing.
        raise NotFound("No such session.", code="session_not_found")
    session.delete(row)
    audit.record(session, principal, "user.session_end", "user", principal.user_id)


# --- password reset by e-mail ---------------------------------------------------

RESET_VALID_FOR = timedelta(hours=1)
#: At most this many unused reset links per person in RESET_VALID_FOR (a mailbox-flooding brake).
MAX_OPEN_RESETS = 3


def request_password_reset(
    session: Session, email: str, *, now: datetime | None = None
) -> tuple[User, str] | None:
    """A reset link's secret for the active person with this e-mail, or None.

    None also when the person already has MAX_OPEN_RESETS unused links, so the caller answers
    every request alike and sends nothing: the page never tells whether an address has an
    account. The secret is kept only as its sha256.
    """
    now = now or datetime.now(UTC)
    user = session.scalar(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    )
    if user is None or not user.active:
        return None
    open_links = session.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
    )
    if open_links >= MAX_OPEN_RESETS:
        return None
    raw = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            user_id=user.id,
            secret_hash=digest(raw),
            created_at=now,
            expires_at=now + RESET_VALID_FOR,
        )
    )
    audit.record(session, ANONYMOUS, "user.password_reset_requested", "user", user.id)
    return user, raw


def _open_reset(session: Session, raw: str | None, now: datetime) -> PasswordReset:
    row = None
    if raw and isinstance(raw, str):
        row = session.scalar(select(PasswordReset).where(PasswordReset.secret_hash == digest(raw)))
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= now:
        raise InvalidInput(
            "This password-reset link is not valid: it was used, it expired, or it is wrong.",
            code="invalid_reset_link",
        )
    return row


def _open_reset_user(
    session: Session, raw: str | None, now: datetime
) -> tuple[PasswordReset, User]:
    """An unused, unexpired reset link and the active person it is for (InvalidInput otherwise)."""
    row = _open_reset(session, raw, now)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise InvalidInput("This account is disabled.", code="inactive_account")
    return row, user


def check_password_reset(session: Session, raw: str | None, *, now: datetime | None = None) -> User:
    """The person an unused, unexpired reset link is for (InvalidInput otherwise)."""
    return _open_reset_user(session, raw, now or datetime.now(UTC))[1]


def reset_password(
    session: Session, raw: str | None, new: str, *, now: datetime | None = None
) -> User:
    """Set a new password with a reset link: the link and its siblings are used up, every
    browser session of the person ends, and a sign-in lock-out is lifted."""
    now = now or datetime.now(UTC)
    row, user = _open_reset_user(session, raw, now)
    _check_new_password(new)
    # Claim the link with a conditional update: of two submits racing with one link, only the
    # one whose update finds it still unused goes on (the other's transaction sees 0 rows).
    claimed = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise InvalidInput(
            "This password-reset link is not valid: it was used, it expired, or it is wrong.",
            code="invalid_reset_link",
        )
    user.password_hash = hash_password(new)
    user.failed_logins = 0
    user.locked_until = None
    session.execute(
        delete(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.id != row.id)
    )
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    principal = Principal(kind="user", user_id=user.id, label=user.email)
    audit.record(session, principal, "user.password_reset", "user", user.id)
    return user
