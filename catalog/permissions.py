"""Who may do what: the one place every interface's requests are checked.

Each action names the least membership role in the organisation that owns the
object and the OAuth2 scope a token needs.  A site administrator passes the
role check; a token never acts beyond its scopes or its bound organisations.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Membership, Role
from catalog.principal import Principal
from schema.errors import PermissionDenied

ACTIONS: dict[str, tuple[Role, str | None]] = {
    "dataset.read_private": (Role.MEMBER, "datasets:read-private"),
    "dataset.create": (Role.EDITOR, "datasets:write"),
    "dataset.update": (Role.EDITOR, "datasets:write"),
    "version.upload": (Role.EDITOR, "datasets:write"),
    "version.publish": (Role.PUBLISHER, "datasets:publish"),
    "version.withdraw": (Role.PUBLISHER, "datasets:publish"),
    "endorsement.write": (Role.MEMBER, "endorsements:write"),
    "organisation.admin": (Role.ADMIN, "org:admin"),
}


def role_in(session: Session, principal: Principal, organisation_id: int) -> Role | None:
    """The principal's membership role in an organisation, or None."""
    if principal.user_id is None:
        return None
    role = session.scalar(
        select(Membership.role).where(
            Membership.user_id == principal.user_id,
            Membership.organisation_id == organisation_id,
        )
    )
    return Role(role) if role else None


def can(session: Session, principal: Principal, action: str, organisation_id: int | None) -> bool:
    try:
        authorize(session, principal, action, organisation_id)
    except PermissionDenied:
        return False
    return True


def authorize(
    session: Session, principal: Principal, action: str, organisation_id: int | None
) -> None:
    """Raise PermissionDenied unless ``principal`` may do ``action`` for the organisation."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    min_role, scope = ACTIONS[action]
    if principal.kind == "system":
        return
    if not principal.is_authenticated:
        raise PermissionDenied("Sign in or send a token to do this.", code="unauthenticated")
    if scope and not principal.has_scope(scope):
        raise PermissionDenied(f"This token lacks the scope {scope!r}.", code="insufficient_scope")
    if organisation_id is not None and principal.organisation_ids is not None:
        if organisation_id not in principal.organisation_ids:
            raise PermissionDenied(
                "This token is not granted for that organisation.", code="organisation_not_granted"
            )
    if principal.is_admin:
        return
    if organisation_id is None:
        raise PermissionDenied("Only site administrators may do this.")
    role = role_in(session, principal, organisation_id)
    if role is None or role.rank < min_role.rank:
        raise PermissionDenied(
            f"This needs the {min_role.value} role in the organisation.", code="role_required"
        )


def is_site_admin(principal: Principal) -> bool:
    """Whether the principal may act as a site administrator.

    The system, a site administrator signed in to the portal, or a token of one
    that carries ``org:admin``: a site administrator's token with narrower
    scopes must not carry the site-wide powers.
    """
    if principal.kind == "system":
        return True
    return principal.is_admin and principal.has_scope("org:admin")
