"""Quality reviews of dataset versions by partners, and the endorsements they give.

Who may review: a person (or a token with ``endorsements:write``) who belongs
to a *verified* organisation that is the reviewing party of a partnership in
force covering the dataset's organisation and topic/place scope.  The check is
``authorize(..., "endorsement.write", reviewing_org)`` plus that partnership
test, here and nowhere else.

An endorsement is bound to one dataset version; publishing a new version
leaves the dataset unendorsed until that version is reviewed.  Endorsing or
revoking queues a ``reindex_dataset`` job so the search document's
``endorsed`` flag follows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from catalog.models import Dataset, DatasetVersion, Organisation, VersionStatus
from catalog.partnership_models import (
    QUALITY_CHECKLIST,
    Endorsement,
    FindingRating,
    Partnership,
    QualityFinding,
    QualityItem,
    QualityReview,
    ReviewDecision,
    ReviewStatus,
)
from catalog.permissions import authorize, can
from catalog.principal import Principal
from catalog.services import audit, jobs
from catalog.services import partnerships as partnership_service
from catalog.services.organisations import get_organisation
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem


def checklist() -> list[dict[str, str]]:
    """The quality checklist, in order: ``[{"item", "question"}]``."""
    return [{"item": item.value, "question": text} for item, text in QUALITY_CHECKLIST.items()]


def _reviewing_partnership(
    session: Session, principal: Principal, dataset: Dataset, organisation: Organisation
) -> Partnership:
    """The partnership under which ``organisation`` may review ``dataset``, or raise."""
    authorize(session, principal, "endorsement.write", organisation.id)
    if organisation.id == dataset.organisation_id:
        raise PermissionDenied("An organisation cannot review its own data.", code="own_data")
    if not organisation.verified:
        raise PermissionDenied(
            f"{organisation.name} is not verified by the site administrators yet.",
            code="organisation_not_verified",
        )
    for partnership, party in partnership_service.reviewer_parties(session, dataset):
        if party.organisation_id == organisation.id:
            return partnership
    raise PermissionDenied(
        f"{organisation.name} has no partnership in force that lets it review this dataset.",
        code="not_a_partner",
    )


def _reviewer_organisation(
    session: Session, principal: Principal, dataset: Dataset, organisation_slug: str | None
) -> Organisation:
    if organisation_slug:
        return get_organisation(session, organisation_slug)
    # Pick the principal's one reviewing organisation when they did not say which.
    parties = partnership_service.reviewer_parties(session, dataset)
    for _partnership, party in parties:
        if can(session, principal, "endorsement.write", party.organisation_id):
            return party.organisation
    if not principal.is_authenticated or parties:
        # the precise reason: not signed in, the token's scope or organisations, the role
        authorize(
            session,
            principal,
            "endorsement.write",
            parties[0][1].organisation_id if parties else None,
        )
    raise PermissionDenied(
        "You belong to no partner organisation that may review this dataset.", code="not_a_partner"
    )


def get_review(session: Session, review_id: str) -> QualityReview:
    review = session.scalar(
        select(QualityReview)
        .options(selectinload(QualityReview.findings))
        .where(QualityReview.id == review_id)
    )
    if review is None:
        raise NotFound(f"No review {review_id!r}.", code="review_not_found")
    return review


def start_review(
    session: Session,
    principal: Principal,
    version: DatasetVersion,
    *,
    organisation_slug: str | None = None,
) -> QualityReview:
    """Open (or return the open) draft review of a published version for a partner."""
    dataset = version.dataset
    if version.status != VersionStatus.PUBLISHED.value:
        raise Conflict(
            f"Version {version.number} is {version.status}; only the published version is reviewed.",
            code="invalid_state",
        )
    org = _reviewer_organisation(session, principal, dataset, organisation_slug)
    partnership = _reviewing_partnership(session, principal, dataset, org)
    existing = session.scalar(
        select(QualityReview).where(
            QualityReview.version_id == version.id,
            QualityReview.organisation_id == org.id,
            QualityReview.status == ReviewStatus.DRAFT.value,
        )
    )
    if existing is not None:
        return existing
    review = QualityReview(
        version_id=version.id,
        dataset_id=dataset.id,
        organisation_id=org.id,
        partnership_id=partnership.id,
        reviewer_id=principal.user_id,
        status=ReviewStatus.DRAFT.value,
        summary="",
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        principal,
        "review.start",
        "quality_review",
        review.id,
        organisation_id=org.id,
        dataset_id=dataset.id,
        version_id=version.id,
        partnership_id=partnership.id,
    )
    audit.record(
        session,
        principal,
        "review.start",
        "dataset_version",
        version.id,
        organisation_id=dataset.organisation_id,
        review_id=review.id,
        reviewer_organisation_id=org.id,
    )
    return review


def _check_can_edit(
    session: Session, principal: Principal, review: QualityReview
) -> DatasetVersion:
    version = session.get(DatasetVersion, review.version_id)
    org = session.get(Organisation, review.organisation_id)
    _reviewing_partnership(session, principal, version.dataset, org)
    if review.status != ReviewStatus.DRAFT.value:
        raise Conflict("This review is submitted; start a new one.", code="invalid_state")
    return version


def record_findings(
    session: Session,
    principal: Principal,
    review: QualityReview,
    findings: dict[str, dict[str, Any]],
) -> QualityReview:
    """Record or replace findings: ``{item: {"rating": ..., "comment": ...}}``."""
    _check_can_edit(session, principal, review)
    items = {i.value for i in QualityItem}
    ratings = {r.value for r in FindingRating}
    problems = []
    for item, finding in findings.items():
        if item not in items:
            problems.append(
                Problem("unknown_item", f"{item!r} is not on the checklist.", field=item)
            )
            continue
        rating = (finding or {}).get("rating")
        if rating not in ratings:
            problems.append(
                Problem(
                    "invalid_choice", f"Rate with one of {', '.join(sorted(ratings))}.", field=item
                )
            )
        comment = (finding or {}).get("comment") or ""
        if (
            rating in (FindingRating.DOES_NOT_MEET.value, FindingRating.PARTLY_MEETS.value)
            and not comment.strip()
        ):
            problems.append(Problem("comment_required", "Say what falls short.", field=item))
    if problems:
        raise InvalidInput("The findings are not valid.", problems)
    by_item = {f.item: f for f in review.findings}
    for item, finding in findings.items():
        row = by_item.get(item)
        if row is None:
            review.findings.append(
                QualityFinding(
                    item=item, rating=finding["rating"], comment=finding.get("comment") or ""
                )
            )
        else:
            row.rating = finding["rating"]
            row.comment = finding.get("comment") or ""
    session.flush()
    audit.record(
        session,
        principal,
        "review.findings",
        "quality_review",
        review.id,
        organisation_id=review.organisation_id,
        findings={k: v["rating"] for k, v in findings.items()},
    )
    return review


def submit_review(
    session: Session,
    principal: Principal,
    review: QualityReview,
    *,
    decision: str,
    summary: str = "",
    statement: str = "",
) -> tuple[QualityReview, Endorsement | None]:
    """Submit the review: endorse the version, or request changes.

    Endorsing needs a finding on every checklist item and none "does not meet". Returns the
    review and the endorsement it made (None when it requested changes).
    """
    version = _check_can_edit(session, principal, review)
    if decision not in {d.value for d in ReviewDecision}:
        raise InvalidInput(
            f"Unknown decision {decision!r}.",
            [Problem("invalid_choice", "Use endorse or request_changes.", field="decision")],
        )
    rated = {f.item: f.rating for f in review.findings}
    problems = []
    if decision == ReviewDecision.ENDORSE.value:
        for item in QualityItem:
            if item.value not in rated:
                problems.append(
                    Problem("finding_missing", "Rate this item before endorsing.", field=item.value)
                )
            elif rated[item.value] == FindingRating.DOES_NOT_MEET.value:
                problems.append(
                    Problem(
                        "item_not_met",
                        "An item that is not met blocks endorsement.",
                        field=item.value,
                    )
                )
    elif not (summary or "").strip():
        problems.append(Problem("required", "Say which changes are needed.", field="summary"))
    if problems:
        raise InvalidInput("The review cannot be submitted.", problems, code="review_incomplete")
    if version.status != VersionStatus.PUBLISHED.value:
        raise Conflict("The version is no longer the published one.", code="invalid_state")

    now = datetime.now(UTC)
    review.status = ReviewStatus.SUBMITTED.value
    review.decision = decision
    review.summary = summary.strip()
    review.submitted_at = now
    review.reviewer_id = principal.user_id or review.reviewer_id
    dataset = version.dataset
    audit.record(
        session,
        principal,
        "review.submit",
        "quality_review",
        review.id,
        organisation_id=review.organisation_id,
        decision=decision,
        version_id=version.id,
    )
    audit.record(
        session,
        principal,
        "review.submit",
        "dataset_version",
        version.id,
        organisation_id=dataset.organisation_id,
        decision=decision,
        review_id=review.id,
    )
    endorsement = None
    if decision == ReviewDecision.ENDORSE.value:
        endorsement = _endorse(session, principal, review, version, statement, now)
    return review, endorsement


def _endorse(
    session: Session,
    principal: Principal,
    review: QualityReview,
    version: DatasetVersion,
    statement: str,
    now: datetime,
) -> Endorsement:
    endorsement = session.scalar(
        select(Endorsement).where(
            Endorsement.version_id == version.id,
            Endorsement.organisation_id == review.organisation_id,
        )
    )
    if endorsement is None:
        endorsement = Endorsement(
            version_id=version.id,
            dataset_id=version.dataset_id,
            organisation_id=review.organisation_id,
            version_number=version.number,
        )
        session.add(endorsement)
    endorsement.review_id = review.id
    endorsement.endorsed_by_id = principal.user_id
    endorsement.endorsed_at = now
    endorsement.statement = statement.strip()
    endorsement.revoked_at = None
    endorsement.revoked_by_id = None
    endorsement.revoke_reason = None
    session.flush()
    for org_id in (review.organisation_id, version.dataset.organisation_id):
        audit.record(
            session,
            principal,
            "endorsement.create",
            "endorsement",
            endorsement.id,
            organisation_id=org_id,
            version_id=version.id,
            dataset_id=version.dataset_id,
            review_id=review.id,
        )
    _queue_reindex(session, principal, version)
    return endorsement


def get_endorsement(session: Session, endorsement_id: str) -> Endorsement:
    endorsement = session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise NotFound(f"No endorsement {endorsement_id!r}.", code="endorsement_not_found")
    return endorsement


def revoke_endorsement(
    session: Session, principal: Principal, endorsement: Endorsement, *, reason: str
) -> Endorsement:
    """Withdraw an endorsement (a member of the endorsing organisation, or a site admin)."""
    authorize(session, principal, "endorsement.write", endorsement.organisation_id)
    if endorsement.revoked_at is not None:
        raise Conflict("This endorsement is already revoked.", code="invalid_state")
    if not (reason or "").strip():
        raise InvalidInput(
            "Say why the endorsement is revoked.",
            [Problem("required", "A reason is required.", field="reason")],
        )
    endorsement.revoked_at = datetime.now(UTC)
    endorsement.revoked_by_id = principal.user_id
    endorsement.revoke_reason = reason.strip()
    version = session.get(DatasetVersion, endorsement.version_id)
    for org_id in (endorsement.organisation_id, version.dataset.organisation_id):
        audit.record(
            session,
            principal,
            "endorsement.revoke",
            "endorsement",
            endorsement.id,
            organisation_id=org_id,
            version_id=version.id,
            reason=endorsement.revoke_reason,
        )
    _queue_reindex(session, principal, version)
    return endorsement


def _queue_reindex(session: Session, principal: Principal, version: DatasetVersion) -> None:
    dataset = version.dataset
    if dataset.published_version_id == version.id:
        jobs.enqueue(
            session,
            principal,
            "reindex_dataset",
            {"dataset_id": dataset.id},
            organisation_id=dataset.organisation_id,
        )


# -- reading -----------------------------------------------------------------------


def endorsements_for(
    session: Session,
    dataset: Dataset,
    *,
    version: DatasetVersion | None = None,
    include_revoked: bool = False,
) -> list[Endorsement]:
    """Endorsements of the dataset's published version (or of ``version``), oldest first.

    This is what the dataset page shows as the badge: who endorsed and when.
    """
    version_id = version.id if version is not None else dataset.published_version_id
    if version_id is None:
        return []
    stmt = (
        select(Endorsement)
        .options(selectinload(Endorsement.organisation))
        .where(Endorsement.version_id == version_id)
        .order_by(Endorsement.endorsed_at)
    )
    if not include_revoked:
        stmt = stmt.where(Endorsement.revoked_at.is_(None))
    return list(session.scalars(stmt))


def is_endorsed(version: DatasetVersion | None) -> bool:
    """Whether this version carries an endorsement in force (for the search document)."""
    if version is None:
        return False
    session = object_session(version)
    if session is None:
        return False
    return (
        session.scalar(
            select(Endorsement.id)
            .where(Endorsement.version_id == version.id, Endorsement.revoked_at.is_(None))
            .limit(1)
        )
        is not None
    )


def reviews_of(
    session: Session, principal: Principal, version: DatasetVersion
) -> list[QualityReview]:
    """Reviews of a version: submitted ones are public; drafts only to their reviewers."""
    reviews = session.scalars(
        select(QualityReview)
        .options(selectinload(QualityReview.findings), selectinload(QualityReview.organisation))
        .where(QualityReview.version_id == version.id)
        .order_by(QualityReview.created_at)
    ).all()
    return [
        r
        for r in reviews
        if r.status == ReviewStatus.SUBMITTED.value
        or can(session, principal, "endorsement.write", r.organisation_id)
    ]


def review_visible(session: Session, principal: Principal, review: QualityReview) -> bool:
    return review.status == ReviewStatus.SUBMITTED.value or can(
        session, principal, "endorsement.write", review.organisation_id
    )
