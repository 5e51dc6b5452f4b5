from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import User
from catalog.permissions import is_site_admin
from catalog.principal import Principal
from catalog.services import audit
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem

_hasher = PasswordHasher()
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFound(f"No user with e-mail {email!r}.", code="user_not_found")
    return user


def create_user(
    session: Session,
    principal: Principal,
    *,
    email: str,
    password: str,
    name: str = "",
    is_admin: bool = False,
) -> User:
    """Create a person's account. Anyone may sign up; only admins create admins."""
    if is_admin and not is_site_admin(principal):
        raise PermissionDenied("Only site administrators may create administrators.")
    email = (email or "").strip().lower()
    problems = []
    if not EMAIL_RE.match(email):
        problems.append(Problem("invalid_email", "Enter a valid e-mail address.", field="email"))
    if len(password or "") < MIN_PASSWORD:
        problems.append(
            Problem("weak_password", f"Use at least {MIN_PASSWORD} characters.", field="password")
        )
    if problems:
        raise InvalidInput("The account is not valid.", problems)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Conflict("An account with this e-mail exists.", code="email_taken")
    user = User(
        email=email, name=name.strip(), password_hash=hash_password(password), is_admin=is_admin
    )
    session.add(user)
    session.flush()
    audit.record(session, principal, "user.create", "user", user.id, is_admin=is_admin)
    return user
