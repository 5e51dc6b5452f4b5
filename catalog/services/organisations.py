from __future__ import annotations

import re

from sqlalchemy import func, select
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
            Problem(
                "invalid_slug", "Use 3-100 lower-case letters, digits and hyphens.", field="slug"
            )
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
    audit.record(
        session, principal, "organisation.create", "organisation", org.id, organisation_id=org.id
    )
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
        if membership.role == Role.ADMIN.value and role != Role.ADMIN.value:
            _keep_an_admin(session, organisation, user)
        membership.role = role
    session.flush()
    audit.record(
        session,
        principal,
        "membership.set",
        "organisation",
        organisation.id,
        organisation_id=organisation.id,
        user_id=user.id,
        role=role,
    )
    return membership


def _keep_an_admin(session: Session, organisation: Organisation, user: User) -> None:
    """Refuse to leave an organisation without an administrator (nobody could manage it)."""
    others = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.organisation_id == organisation.id,
            Membership.role == Role.ADMIN.value,
            Membership.user_id != user.id,
        )
    )
    if not others:
        raise Conflict(
            "An organisation needs at least one administrator: make someone else an "
            "administrator first.",
            code="last_admin",
        )


def get_member(
    session: Session, principal: Principal, organisation: Organisation, user_id: int
) -> User:
    """A member of the organisation, for its admins (who else is a member is theirs to know:
    anyone else gets PermissionDenied before any lookup, so ids reveal nothing)."""
    authorize(session, principal, "organisation.admin", organisation.id)
    user = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.organisation_id == organisation.id)
    )
    if user is None:
        raise NotFound("This person is not a member of the organisation.", code="member_not_found")
    return user


def remove_membership(
    session: Session, principal: Principal, organisation: Organisation, user: User
) -> None:
    """Remove a person from an organisation (organisation admins).

    Their personal tokens keep working only for their other organisations: a token names
    organisations, and every use checks the membership again. The last administrator cannot
    be removed.
    """
    authorize(session, principal, "organisation.admin", organisation.id)
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )
    if membership is None:
        raise NotFound("This person is not a member of the organisation.", code="member_not_found")
    if membership.role == Role.ADMIN.value:
        _keep_an_admin(session, organisation, user)
    session.delete(membership)
    session.flush()
    audit.record(
        session,
        principal,
        "membership.remove",
        "organisation",
        organisation.id,
        organisation_id=organisation.id,
        user_id=user.id,
        role=membership.role,
    )
