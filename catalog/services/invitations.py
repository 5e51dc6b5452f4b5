"""Invitations: an organisation admin invites an e-mail address to join with a role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Membership, Organisation, Role, User
from catalog.oauth_models import Invitation
from catalog.permissions import authorize
from catalog.principal import Principal
from catalog.services import audit
from catalog.services.tokens import digest, new_secret
from catalog.services.users import EMAIL_RE
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem

INVITATION_DAYS = 14


def invite(
    session: Session, principal: Principal, organisation: Organisation, *, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite someone; returns the invitation and its secret (to put in the link)."""
    authorize(session, principal, "organisation.admin", organisation.id)
    email = (email or "").strip().lower()
    problems = []
    if not EMAIL_RE.match(email):
        problems.append(Problem("invalid_email", "Enter a valid e-mail address.", field="email"))
    if role not in {r.value for r in Role}:
        problems.append(Problem("invalid_choice", f"Unknown role {role!r}.", field="role"))
    if problems:
        raise InvalidInput("The invitation is not valid.", problems)
    raw = new_secret("cgdi_")
    invitation = Invitation(
        organisation_id=organisation.id,
        email=email,
        role=role,
        token_hash=digest(raw),
        invited_by_id=principal.user_id,
        expires_at=datetime.now(UTC) + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        principal,
        "invitation.create",
        "organisation",
        organisation.id,
        organisation_id=organisation.id,
        email=email,
        role=role,
    )
    return invitation, raw


def get_invitation(session: Session, raw: str) -> Invitation:
    """An open invitation by its secret."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == digest(raw or ""))
    )
    if invitation is None or invitation.accepted_at is not None or invitation.expired:
        raise NotFound("This invitation is unknown, used or expired.", code="invitation_not_found")
    return invitation


def accept(session: Session, principal: Principal, raw: str) -> Membership:
    """The signed-in person, whose e-mail the invitation names, joins the organisation."""
    invitation = get_invitation(session, raw)
    if principal.kind != "user" or principal.user_id is None:
        raise PermissionDenied("Sign in to accept the invitation.", code="session_required")
    user = session.get(User, principal.user_id)
    if user is None or user.email.lower() != invitation.email:
        raise PermissionDenied(
            "This invitation is for another e-mail address.", code="invitation_other_email"
        )
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == invitation.organisation_id
        )
    )
    if membership is not None and Role(membership.role).rank >= Role(invitation.role).rank:
        raise Conflict("You are already a member with this role or higher.", code="already_member")
    if membership is None:
        membership = Membership(
            user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role
        )
        session.add(membership)
    else:
        membership.role = invitation.role
    invitation.accepted_at = datetime.now(UTC)
    invitation.accepted_by_id = user.id
    session.flush()
    audit.record(
        session,
        principal,
        "invitation.accept",
        "organisation",
        invitation.organisation_id,
        organisation_id=invitation.organisation_id,
        role=invitation.role,
    )
    return membership


def list_invitations(
    session: Session, principal: Principal, organisation: Organisation
) -> list[Invitation]:
    authorize(session, principal, "organisation.admin", organisation.id)
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.organisation_id == organisation.id, Invitation.accepted_at.is_(None))
            .order_by(Invitation.created_at.desc())
        )
    )


def list_members(
    session: Session, principal: Principal, organisation: Organisation
) -> list[tuple[User, str]]:
    authorize(session, principal, "organisation.admin", organisation.id)
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id)
        .order_by(User.email)
    )
    return [(u, r) for u, r in rows]
