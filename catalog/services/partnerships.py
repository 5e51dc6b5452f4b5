"""Partnerships between organisations, and verification of organisations.

A partnership is proposed by an administrator of one party and becomes active
once an administrator of every other party has accepted it (a site
administrator registering an agreement made on paper makes it active at once).
Government bodies take the reviewer role by default; any other party may be
designated reviewer by the agreement itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Dataset, Organisation, OrganisationKind
from catalog.partnership_models import (
    GovernmentBodyType,
    OrganisationProfile,
    Partnership,
    PartnershipParty,
    PartnershipStatus,
    PartyRole,
)
from catalog.permissions import authorize, can
from catalog.principal import Principal
from catalog.services import audit
from catalog.services.organisations import get_organisation
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem


def _is_site_admin(principal: Principal) -> bool:
    return principal.kind == "system" or principal.is_admin


# -- organisations: government body type and verification -----------------------


def profile_of(session: Session, organisation: Organisation) -> OrganisationProfile:
    """The organisation's profile row (created empty on first use)."""
    profile = session.get(OrganisationProfile, organisation.id)
    if profile is None:
        profile = OrganisationProfile(organisation_id=organisation.id, verification_note="")
        session.add(profile)
        session.flush()
    return profile


def verify_organisation(
    session: Session,
    principal: Principal,
    organisation: Organisation,
    *,
    verified: bool = True,
    government_type: str | None = None,
    note: str = "",
) -> Organisation:
    """Mark an organisation verified (or not); site administrators only.

    Only a verified organisation's reviews can endorse: verification is how the
    site vouches that "Central Bureau of Statistics" really is the NSO.
    """
    if not _is_site_admin(principal):
        raise PermissionDenied(
            "Only site administrators verify organisations.", code="admin_required"
        )
    profile = profile_of(session, organisation)
    if government_type is not None:
        if organisation.kind != OrganisationKind.GOVERNMENT.value:
            raise InvalidInput(
                "Only a government organisation has a government body type.",
                [Problem("invalid_choice", "Not a government body.", field="government_type")],
            )
        if government_type not in {t.value for t in GovernmentBodyType}:
            raise InvalidInput(
                f"Unknown government body type {government_type!r}.",
                [
                    Problem(
                        "invalid_choice",
                        "Use nso, ministry, local_government or other.",
                        field="government_type",
                    )
                ],
            )
        profile.government_type = government_type
    organisation.verified = verified
    profile.verified_by_id = principal.user_id if verified else None
    profile.verified_at = datetime.now(UTC) if verified else None
    profile.verification_note = note
    audit.record(
        session,
        principal,
        "organisation.verify" if verified else "organisation.unverify",
        "organisation",
        organisation.id,
        organisation_id=organisation.id,
        government_type=profile.government_type,
        note=note,
    )
    return organisation


# -- partnerships -----------------------------------------------------------------


@dataclass(frozen=True)
class PartySpec:
    """One party of a partnership to create: an organisation slug and its role (None: by kind)."""

    organisation: str
    role: str | None = None


def _default_role(org: Organisation) -> str:
    if org.kind == OrganisationKind.GOVERNMENT.value:
        return PartyRole.REVIEWER.value
    return PartyRole.DATA_PROVIDER.value


def _clean_list(values: Iterable[Any] | None, field: str, problems: list[Problem]) -> list[str]:
    out = []
    for v in values or []:
        if not isinstance(v, str) or not v.strip():
            problems.append(
                Problem("invalid_value", "Give codes as non-empty strings.", field=field)
            )
            continue
        out.append(v.strip())
    return sorted(set(out))


def create_partnership(
    session: Session,
    principal: Principal,
    *,
    title: str,
    parties: list[PartySpec],
    topics: Iterable[str] | None = None,
    places: Iterable[str] | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    data_sharing_terms: str = "",
    agreement_url: str | None = None,
) -> Partnership:
    """Propose a partnership; the proposer must administer one of the parties.

    The proposing party counts as having accepted.  A site administrator's
    partnership is active straight away (it records an agreement already signed).
    """
    problems: list[Problem] = []
    if not (title or "").strip():
        problems.append(Problem("required", "A title is required.", field="title"))
    if len(parties) < 2:
        problems.append(
            Problem("too_few_parties", "A partnership needs two or more parties.", field="parties")
        )
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(
            Problem("invalid_dates", "The end date is before the start date.", field="ends_on")
        )
    topic_codes = _clean_list(topics, "topics", problems)
    place_codes = _clean_list(places, "places", problems)
    orgs: list[tuple[Organisation, str]] = []
    seen: set[int] = set()
    for spec in parties:
        try:
            org = get_organisation(session, spec.organisation)
        except NotFound:
            problems.append(
                Problem(
                    "organisation_not_found",
                    f"No organisation {spec.organisation!r}.",
                    field="parties",
                )
            )
            continue
        if org.id in seen:
            problems.append(
                Problem("duplicate_party", f"{org.slug} is named twice.", field="parties")
            )
            continue
        seen.add(org.id)
        role = spec.role or _default_role(org)
        if role not in {r.value for r in PartyRole}:
            problems.append(
                Problem("invalid_choice", f"Unknown party role {role!r}.", field="parties")
            )
            continue
        orgs.append((org, role))
    if orgs and not any(role == PartyRole.REVIEWER.value for _, role in orgs):
        problems.append(
            Problem(
                "no_reviewer",
                "Name the government or designated party that reviews.",
                field="parties",
            )
        )
    if problems:
        raise InvalidInput("The partnership is not valid.", problems)

    proposer: Organisation | None = None
    if not _is_site_admin(principal):
        for org, _ in orgs:
            if can(session, principal, "organisation.admin", org.id):
                proposer = org
                break
        if proposer is None:
            # Raise the precise reason (scope, token binding or role) for the first party.
            authorize(session, principal, "organisation.admin", orgs[0][0].id)
            raise PermissionDenied("Administer one of the parties to propose a partnership.")

    now = datetime.now(UTC)
    partnership = Partnership(
        title=title.strip(),
        topics=topic_codes,
        places=place_codes,
        starts_on=starts_on,
        ends_on=ends_on,
        data_sharing_terms=data_sharing_terms,
        agreement_url=agreement_url,
        created_by_id=principal.user_id,
        status=PartnershipStatus.ACTIVE.value
        if proposer is None
        else PartnershipStatus.PROPOSED.value,
    )
    for org, role in orgs:
        accepted = proposer is None or org.id == proposer.id
        partnership.parties.append(
            PartnershipParty(
                organisation=org,
                role=role,
                accepted_at=now if accepted else None,
                accepted_by_id=principal.user_id if accepted else None,
            )
        )
    session.add(partnership)
    session.flush()
    for org, role in orgs:
        audit.record(
            session,
            principal,
            "partnership.create",
            "partnership",
            partnership.id,
            organisation_id=org.id,
            role=role,
            status=partnership.status,
        )
    return partnership


def get_partnership(session: Session, partnership_id: str) -> Partnership:
    partnership = session.scalar(
        select(Partnership)
        .options(selectinload(Partnership.parties).selectinload(PartnershipParty.organisation))
        .where(Partnership.id == partnership_id)
    )
    if partnership is None:
        raise NotFound(f"No partnership {partnership_id!r}.", code="partnership_not_found")
    return partnership


def _party(partnership: Partnership, organisation_id: int) -> PartnershipParty | None:
    return next((p for p in partnership.parties if p.organisation_id == organisation_id), None)


def accept_partnership(
    session: Session, principal: Principal, partnership: Partnership, organisation_slug: str
) -> Partnership:
    """An administrator of a party accepts; when every party has, the partnership is active."""
    org = get_organisation(session, organisation_slug)
    party = _party(partnership, org.id)
    if party is None:
        raise NotFound(f"{org.slug} is not a party to this partnership.", code="not_a_party")
    authorize(session, principal, "organisation.admin", org.id)
    if partnership.status != PartnershipStatus.PROPOSED.value:
        raise Conflict(f"The partnership is {partnership.status}.", code="invalid_state")
    if party.accepted_at is None:
        party.accepted_at = datetime.now(UTC)
        party.accepted_by_id = principal.user_id
    if all(p.accepted_at for p in partnership.parties):
        partnership.status = PartnershipStatus.ACTIVE.value
    audit.record(
        session,
        principal,
        "partnership.accept",
        "partnership",
        partnership.id,
        organisation_id=org.id,
        status=partnership.status,
    )
    return partnership


_TRANSITIONS = {
    PartnershipStatus.PROPOSED.value: {PartnershipStatus.ENDED.value},
    PartnershipStatus.ACTIVE.value: {
        PartnershipStatus.SUSPENDED.value,
        PartnershipStatus.ENDED.value,
    },
    PartnershipStatus.SUSPENDED.value: {
        PartnershipStatus.ACTIVE.value,
        PartnershipStatus.ENDED.value,
    },
    PartnershipStatus.ENDED.value: set(),
}


def set_partnership_status(
    session: Session,
    principal: Principal,
    partnership: Partnership,
    status: str,
    *,
    reason: str = "",
) -> Partnership:
    """Suspend, resume or end a partnership (an administrator of any party, or a site admin)."""
    if status not in _TRANSITIONS.get(partnership.status, set()):
        raise Conflict(
            f"A {partnership.status} partnership cannot become {status}.", code="invalid_state"
        )
    if not _is_site_admin(principal):
        allowed = [
            p
            for p in partnership.parties
            if can(session, principal, "organisation.admin", p.organisation_id)
        ]
        if not allowed:
            authorize(
                session, principal, "organisation.admin", partnership.parties[0].organisation_id
            )
            raise PermissionDenied("Administer one of the parties to change the partnership.")
    if status == PartnershipStatus.ACTIVE.value and not all(
        p.accepted_at for p in partnership.parties
    ):
        raise Conflict("Every party must accept first.", code="invalid_state")
    old = partnership.status
    partnership.status = status
    for party in partnership.parties:
        audit.record(
            session,
            principal,
            "partnership.status",
            "partnership",
            partnership.id,
            organisation_id=party.organisation_id,
            old=old,
            new=status,
            reason=reason,
        )
    return partnership


def is_in_force(partnership: Partnership, today: date | None = None) -> bool:
    """Active, and today within the agreement's dates."""
    today = today or datetime.now(UTC).date()
    if partnership.status != PartnershipStatus.ACTIVE.value:
        return False
    if partnership.starts_on and today < partnership.starts_on:
        return False
    return not (partnership.ends_on and today > partnership.ends_on)


def covers(partnership: Partnership, dataset: Dataset) -> bool:
    """Whether the dataset's organisation provides data under this partnership and the
    dataset falls inside its scope (empty topics or places mean all)."""
    party = _party(partnership, dataset.organisation_id)
    if party is None or party.role != PartyRole.DATA_PROVIDER.value:
        return False
    meta = dataset.metadata_ or {}
    if partnership.topics and not set(partnership.topics) & set(meta.get("topics") or []):
        return False
    places = set((meta.get("coverage") or {}).get("places") or [])
    return not (partnership.places and not set(partnership.places) & places)


def partnerships_of(
    session: Session, organisation: Organisation, *, include_ended: bool = False
) -> list[Partnership]:
    """Every partnership the organisation is a party to (for its page), newest first."""
    stmt = (
        select(Partnership)
        .join(PartnershipParty)
        .options(selectinload(Partnership.parties).selectinload(PartnershipParty.organisation))
        .where(PartnershipParty.organisation_id == organisation.id)
        .order_by(Partnership.created_at.desc())
    )
    if not include_ended:
        stmt = stmt.where(Partnership.status != PartnershipStatus.ENDED.value)
    return list(session.scalars(stmt).unique())


def partnerships_covering(session: Session, dataset: Dataset) -> list[Partnership]:
    """Partnerships in force whose scope covers the dataset (for the dataset page)."""
    stmt = (
        select(Partnership)
        .join(PartnershipParty)
        .options(selectinload(Partnership.parties).selectinload(PartnershipParty.organisation))
        .where(
            PartnershipParty.organisation_id == dataset.organisation_id,
            Partnership.status == PartnershipStatus.ACTIVE.value,
        )
    )
    return [p for p in session.scalars(stmt).unique() if is_in_force(p) and covers(p, dataset)]


def reviewer_parties(
    session: Session, dataset: Dataset
) -> list[tuple[Partnership, PartnershipParty]]:
    """(partnership, reviewing party) pairs entitled to review the dataset now."""
    out = []
    for partnership in partnerships_covering(session, dataset):
        for party in partnership.parties:
            if (
                party.role == PartyRole.REVIEWER.value
                and party.organisation_id != dataset.organisation_id
            ):
                out.append((partnership, party))
    return out
