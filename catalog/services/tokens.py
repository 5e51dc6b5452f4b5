"""Access tokens: personal access tokens and OAuth2 tokens, stored hashed.

A token is a 256-bit random string shown once; the catalogue keeps its sha256.
Every token carries its scopes and the organisations it may act for; the
principal built from it is checked by catalog.permissions like any other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Membership, Organisation, User, as_utc
from catalog.oauth_models import OAuthClient, OAuthToken
from catalog.principal import SCOPES, Principal
from catalog.services import audit
from schema.errors import InvalidInput, NotFound, PermissionDenied, Problem

PERSONAL_PREFIX = "cgdp_"
MAX_PERSONAL_DAYS = 366
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_DAYS = 30
# Writing last_used_at on every request would turn reads into writes.
_LAST_USED_GRANULARITY = timedelta(minutes=5)


def digest(value: str) -> str:
    """The stored form of a token, code or secret (sha256, hex)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_digest(value: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(digest(value), stored)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def clean_scopes(scopes: list[str] | str | None, field: str = "scopes") -> list[str]:
    """The requested scopes, validated against catalog.principal.SCOPES, in canonical order."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    wanted = set(scopes or [])
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise InvalidInput(
            "Unknown scope.",
            [Problem("invalid_scope", f"Unknown scope {s!r}.", field=field) for s in unknown],
            code="invalid_scope",
        )
    return [s for s in SCOPES if s in wanted]


def organisations_of(session: Session, user_id: int) -> dict[int, str]:
    """The organisations a person belongs to, with their role."""
    rows = session.execute(
        select(Membership.organisation_id, Membership.role).where(Membership.user_id == user_id)
    )
    return {int(org_id): str(role) for org_id, role in rows}


def grantable_organisations(session: Session, user: User, wanted: list[int]) -> list[int]:
    """Check that a person may bind a token to ``wanted`` organisations (their own; any for admins)."""
    wanted = sorted({int(o) for o in wanted})
    if user.is_admin:
        known = set(session.scalars(select(Organisation.id).where(Organisation.id.in_(wanted))))
    else:
        known = set(organisations_of(session, user.id))
    missing = [o for o in wanted if o not in known]
    if missing:
        raise InvalidInput(
            "A token can only act for organisations you belong to.",
            [
                Problem(
                    "organisation_not_member",
                    f"Not a member of organisation {o}.",
                    field="organisations",
                )
                for o in missing
            ],
            code="organisation_not_member",
        )
    return wanted


def _acting_user(session: Session, principal: Principal) -> User:
    # Only a person signed in to the portal mints tokens; a token cannot mint tokens.
    if principal.kind != "user" or principal.user_id is None:
        raise PermissionDenied("Sign in to the portal to manage tokens.", code="session_required")
    user = session.get(User, principal.user_id)
    if user is None or not user.active:
        raise PermissionDenied("This account is not active.", code="inactive_account")
    return user


def create_personal_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    scopes: list[str] | str,
    organisation_ids: list[int],
    expires_in_days: int = 90,
) -> tuple[OAuthToken, str]:
    """Create a personal access token for scripts; returns the row and the value (shown once)."""
    user = _acting_user(session, principal)
    problems = []
    if not (name or "").strip():
        problems.append(Problem("required", "Name the token.", field="name"))
    if not 1 <= int(expires_in_days) <= MAX_PERSONAL_DAYS:
        problems.append(
            Problem(
                "invalid_expiry",
                f"Expire in 1 to {MAX_PERSONAL_DAYS} days.",
                field="expires_in_days",
            )
        )
    if not organisation_ids:
        problems.append(
            Problem("required", "Choose at least one organisation.", field="organisations")
        )
    if problems:
        raise InvalidInput("The token is not valid.", problems)
    scope_list = clean_scopes(scopes)
    if not scope_list:
        raise InvalidInput(
            "Choose at least one scope.", [Problem("required", "Choose a scope.", field="scopes")]
        )
    orgs = grantable_organisations(session, user, organisation_ids)
    raw = new_secret(PERSONAL_PREFIX)
    now = datetime.now(UTC)
    token = OAuthToken(
        kind="personal",
        name=name.strip()[:200],
        access_token_hash=digest(raw),
        user_id=user.id,
        scope=" ".join(scope_list),
        organisation_ids=orgs,
        grant_type="personal",
        issued_at=now,
        expires_at=now + timedelta(days=int(expires_in_days)),
    )
    session.add(token)
    session.flush()
    audit.record(
        session, principal, "token.create", "token", token.id, scopes=scope_list, organisations=orgs
    )
    return token, raw


def list_personal_tokens(session: Session, principal: Principal) -> list[OAuthToken]:
    user = _acting_user(session, principal)
    return list(
        session.scalars(
            select(OAuthToken)
            .where(OAuthToken.user_id == user.id, OAuthToken.kind == "personal")
            .order_by(OAuthToken.issued_at.desc())
        )
    )


def revoke_personal_token(session: Session, principal: Principal, token_id: int) -> OAuthToken:
    user = _acting_user(session, principal)
    token = session.get(OAuthToken, token_id)
    if token is None or token.user_id != user.id or token.kind != "personal":
        raise NotFound("No such token.", code="token_not_found")
    revoke(session, token, family=False)
    audit.record(session, principal, "token.revoke", "token", token.id)
    return token


def find_access_token(session: Session, raw: str) -> OAuthToken | None:
    return session.scalar(select(OAuthToken).where(OAuthToken.access_token_hash == digest(raw)))


def find_refresh_token(session: Session, raw: str) -> OAuthToken | None:
    return session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == digest(raw)))


def principal_for_access_token(session: Session, raw: str) -> Principal | None:
    """The principal a bearer token acts as, or None when the token is unknown, expired or revoked."""
    token = find_access_token(session, raw)
    if token is None or not token.active or token.user_id is None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    if token.client_id is not None:
        client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == token.client_id))
        if client is None or client.revoked:
            return None
    now = datetime.now(UTC)
    if token.last_used_at is None or now - as_utc(token.last_used_at) > _LAST_USED_GRANULARITY:
        token.last_used_at = now
    return Principal(
        kind="token",
        user_id=user.id,
        is_admin=user.is_admin,
        scopes=frozenset(token.scopes),
        organisation_ids=frozenset(int(o) for o in token.organisation_ids or []),
        client_id=token.client_id or f"pat:{token.id}",
        label=token.name,
    )


def save_oauth_token(
    session: Session,
    token: dict[str, Any],
    *,
    client: OAuthClient,
    user_id: int,
    organisation_ids: list[int],
    grant_type: str,
    family_id: str | None = None,
) -> OAuthToken:
    """Store a token authlib has issued (only hashes of its values)."""
    now = datetime.now(UTC)
    refresh = token.get("refresh_token")
    row = OAuthToken(
        kind="oauth",
        name=client.name,
        access_token_hash=digest(token["access_token"]),
        refresh_token_hash=digest(refresh) if refresh else None,
        client_id=client.client_id,
        grant_type=grant_type,
        user_id=user_id,
        scope=token.get("scope", ""),
        organisation_ids=sorted(organisation_ids),
        issued_at=now,
        expires_at=now + timedelta(seconds=int(token.get("expires_in") or ACCESS_TOKEN_SECONDS)),
        refresh_expires_at=now + timedelta(days=REFRESH_TOKEN_DAYS) if refresh else None,
    )
    if family_id:
        row.family_id = family_id
    session.add(row)
    session.flush()
    return row


def redeem_refresh_token(session: Session, raw: str) -> OAuthToken | None:
    """The token a refresh value belongs to, if it may be used now.

    A refresh token is single-use: presenting one already used means it
    leaked, so the whole family (every token descended from the same grant)
    is revoked.
    """
    token = find_refresh_token(session, raw)
    if token is None:
        return None
    if token.refresh_used:
        revoke_family(session, token.family_id)
        audit.record(
            session,
            Principal(kind="system", label="oauth2"),
            "token.refresh_reuse",
            "token",
            token.id,
            family=token.family_id,
        )
        return None
    if token.revoked_at is not None or token.refresh_expired:
        return None
    return token


def mark_refreshed(session: Session, token: OAuthToken) -> None:
    """The old token of a rotation: its refresh value is spent and its access token ends."""
    token.refresh_used = True
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)


def revoke(session: Session, token: OAuthToken, *, family: bool = True) -> None:
    """Revoke one token; an OAuth2 token takes its refresh family with it (RFC 7009 2.1)."""
    if family and token.kind == "oauth":
        revoke_family(session, token.family_id)
    elif token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)


def revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .execution_options(synchronize_session="fetch")
    )
