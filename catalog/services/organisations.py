from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Membership, Organisation, OrganisationKind, Role, User
from catalog.permissions import authorize
from catalog.principal import Principal
from catalog.services import audit
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$")


def get_organisation(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"No organisation with slug {slug!r}.", code="organisation_not_found")
    return org


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def create_organisation(
    session: Session,
    principal: Principal,
    *,
    slug: str,
    name: str,
    kind: str = OrganisationKind.CSO.value,
    description: str = "",
    website: str | None = None,
) -> Organisation:
    """Create an organisation (site administrators only)."""
    if not (principal.kind == "system" or principal.is_admin):
        raise PermissionDenied("Only site administrators may create organisations.")
    problems = []
    if not SLUG_RE.match(slug or ""):
        problems.append(
            Problem("invalid_slug", "Use 3-100 lower-case letters, digits and hyphens.", field="slug")
        )
    if not (name or "").strip():
        problems.append(Problem("required", "A name is required.", field="name"))
    if kind not in {k.value for k in OrganisationKind}:
        problems.append(
            Problem("invalid_choice", f"Unknown organisation kind {kind!r}.", field="kind")
        )
    if problems:
        raise InvalidInput("The organisation is not valid.", problems)
    if session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise Conflict(f"The slug {slug!r} is taken.", code="slug_taken")
    org = Organisation(
        slug=slug, name=name.strip(), kind=kind, description=description, website=website
    )
    session.add(org)
    session.flush()
    audit.record(session, principal, "organisation.create", "organisation", org.id, organisation_id=org.id)
    return org


def set_membership(
    session: Session, principal: Principal, organisation: Organisation, user: User, role: str
) -> Membership:
    """Add a person to an organisation or change their role (organisation admins)."""
    authorize(session, principal, "organisation.admin", organisation.id)
    role = Role(role).value
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    audit.record(
        session, principal, "membership.set", "organisation", organisation.id,
        organisation_id=organisation.id, user_id=user.id, role=role,
    )
    return membership
