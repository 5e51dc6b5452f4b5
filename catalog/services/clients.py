"""OAuth2 clients, registered by organisation admins (or the ``cgd clients create`` command)."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Organisation, User
from catalog.oauth_models import OAuthClient
from catalog.permissions import authorize, role_in
from catalog.principal import Principal
from catalog.services import audit
from catalog.services.tokens import clean_scopes, digest, new_secret, same_digest
from schema.errors import InvalidInput, NotFound, PermissionDenied, Problem

CONFIDENTIAL_GRANTS = ["authorization_code", "refresh_token", "client_credentials"]
PUBLIC_GRANTS = ["authorization_code", "refresh_token"]
_LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _check_redirect_uri(uri: str) -> Problem | None:
    parts = urlsplit(uri)
    if parts.fragment:
        return Problem(
            "invalid_redirect_uri", "A redirect URI has no fragment.", field="redirect_uris"
        )
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK:
        return None  # native apps on the user's own machine (RFC 8252)
    return Problem(
        "invalid_redirect_uri",
        f"{uri!r}: use https, or http on a loopback address.",
        field="redirect_uris",
    )


def register_client(
    session: Session,
    principal: Principal,
    organisation: Organisation,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: list[str] | str,
    confidential: bool = True,
    owner: User | None = None,
) -> tuple[OAuthClient, str | None]:
    """Register an application for an organisation; returns it and its secret (shown once)."""
    authorize(session, principal, "organisation.admin", organisation.id)
    owner_id = owner.id if owner is not None else principal.user_id
    if owner_id is None:
        raise PermissionDenied(
            "A client needs an owner: the admin who answers for it.", code="owner_required"
        )
    if (
        owner is not None
        and not owner.is_admin
        and role_in(session, Principal(kind="user", user_id=owner.id), organisation.id) is None
    ):
        # Client credentials act through the owner's role: an outsider would give it none.
        raise InvalidInput(
            "The owner of an application must be a member of its organisation.",
            [
                Problem(
                    "owner_not_member",
                    f"{owner.email} is not a member of {organisation.slug}.",
                    field="owner",
                )
            ],
            code="owner_not_member",
        )
    problems = []
    if not (name or "").strip():
        problems.append(Problem("required", "Name the application.", field="name"))
    uris = [u.strip() for u in redirect_uris if u and u.strip()]
    problems += [p for p in map(_check_redirect_uri, uris) if p]
    if not confidential and not uris:
        problems.append(
            Problem("required", "A public client needs a redirect URI.", field="redirect_uris")
        )
    if problems:
        raise InvalidInput("The application is not valid.", problems)
    scope_list = clean_scopes(scopes)
    secret = new_secret("cgds_") if confidential else None
    client = OAuthClient(
        client_id="cgdc_" + secrets.token_urlsafe(16),
        client_secret_hash=digest(secret) if secret else None,
        name=name.strip()[:200],
        organisation_id=organisation.id,
        owner_id=owner_id,
        redirect_uris=uris,
        grant_types=CONFIDENTIAL_GRANTS if confidential else PUBLIC_GRANTS,
        scope=" ".join(scope_list),
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        principal,
        "client.register",
        "oauth_client",
        client.client_id,
        organisation_id=organisation.id,
        scopes=scope_list,
        confidential=confidential,
    )
    return client, secret


def get_client(session: Session, client_id: str) -> OAuthClient | None:
    """An active client by its public id (None when unknown or revoked)."""
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None or client.revoked:
        return None
    return client


def check_secret(client: OAuthClient, secret: str) -> bool:
    return client.is_confidential and same_digest(secret or "", client.client_secret_hash)


def list_clients(
    session: Session, principal: Principal, organisation: Organisation
) -> list[OAuthClient]:
    authorize(session, principal, "organisation.admin", organisation.id)
    return list(
        session.scalars(
            select(OAuthClient)
            .where(OAuthClient.organisation_id == organisation.id)
            .order_by(OAuthClient.created_at.desc())
        )
    )


def revoke_client(session: Session, principal: Principal, client_id: str) -> OAuthClient:
    """Revoke an application; its tokens stop working at once."""
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise NotFound("No such application.", code="client_not_found")
    authorize(session, principal, "organisation.admin", client.organisation_id)
    client.revoked = True
    audit.record(
        session,
        principal,
        "client.revoke",
        "oauth_client",
        client.client_id,
        organisation_id=client.organisation_id,
    )
    return client
