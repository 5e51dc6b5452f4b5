"""Signing in: password check with lock-out after repeated failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Membership, Organisation, User
from catalog.principal import ANONYMOUS, Principal
from catalog.services import audit
from catalog.services.users import create_user, hash_password, verify_password
from schema.errors import CGDError

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
# Verified against when the e-mail is unknown, so both paths take as long.
_DUMMY_HASH = hash_password("not-a-password-anyone-has")


class SignInFailed(CGDError):
    def __init__(
        self, message: str = "Wrong e-mail or password.", code: str = "invalid_credentials"
    ):
        super().__init__(message=message, code=code, status=401)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def authenticate(session: Session, email: str, password: str) -> User:
    """The person with this e-mail and password; after MAX_FAILURES wrong tries the account locks."""
    user = session.scalar(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    )
    if user is None:
        verify_password(User(password_hash=_DUMMY_HASH), password or "")
        raise SignInFailed()
    now = datetime.now(UTC)
    locked_until = _aware(user.locked_until)
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
