"""REST for partnerships, quality reviews and endorsements, under /api/v1.

Reading partnerships, submitted reviews and endorsements (the badge) is
public.  Writing needs a bearer token: ``org:admin`` of a party to propose,
accept or change a partnership; ``endorsements:write`` and membership of the
reviewing partner to review, endorse, request changes or revoke; site
administrators verify organisations.  The catalogue services decide; this
module only translates JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from api.context import runtime
from api.rest.common import acting, iso, iso_date, json_body, load, register_error_handlers
from api.rest.schemas import (
    AcceptSchema,
    FindingsSchema,
    IncludeEndedSchema,
    PartnershipCreateSchema,
    PartnershipStatusSchema,
    RevokeSchema,
    StartReviewSchema,
    SubmitSchema,
    VerificationSchema,
)
from catalog.models import Organisation
from catalog.partnership_models import (
    QUALITY_CHECKLIST,
    Endorsement,
    FindingRating,
    Partnership,
    QualityItem,
    QualityReview,
)
from catalog.services import datasets as dataset_service
from catalog.services import partnerships as partnership_service
from catalog.services import reviews as review_service
from catalog.services.organisations import get_organisation
from schema.errors import NotFound

bp = Blueprint("rest_partnerships", __name__, url_prefix="/api/v1")


# --- representations -------------------------------------------------------


def organisation_ref(org: Organisation) -> dict[str, Any]:
    return {"slug": org.slug, "name": org.name, "kind": org.kind, "verified": bool(org.verified)}


def partnership_json(p: Partnership) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "status": p.status,
        "in_force": partnership_service.is_in_force(p),
        "topics": list(p.topics or []),
        "places": list(p.places or []),
        "starts_on": iso_date(p.starts_on),
        "ends_on": iso_date(p.ends_on),
        "data_sharing_terms": p.data_sharing_terms,
        "agreement_url": p.agreement_url,
        "created_at": iso(p.created_at),
        "parties": [
            {
                "organisation": organisation_ref(party.organisation),
                "role": party.role,
                "accepted_at": iso(party.accepted_at),
            }
            for party in p.parties
        ],
    }


def review_json(r: QualityReview) -> dict[str, Any]:
    findings = {f.item: f for f in r.findings}
    return {
        "id": r.id,
        "dataset": r.dataset_id,
        "version": r.version_id,
        "organisation": organisation_ref(r.organisation),
        "partnership": r.partnership_id,
        "status": r.status,
        "decision": r.decision,
        "summary": r.summary,
        "created_at": iso(r.created_at),
        "submitted_at": iso(r.submitted_at),
        "findings": [
            {
                "item": item.value,
                "question": QUALITY_CHECKLIST[item],
                "rating": findings[item.value].rating if item.value in findings else None,
                "comment": findings[item.value].comment if item.value in findings else "",
            }
            for item in QualityItem
        ],
    }


def endorsement_json(e: Endorsement) -> dict[str, Any]:
    return {
        "id": e.id,
        "organisation": organisation_ref(e.organisation),
        "dataset": e.dataset_id,
        "version": e.version_id,
        "version_number": e.version_number,
        "endorsed_at": iso(e.endorsed_at),
        "statement": e.statement,
        "review": e.review_id,
        "active": e.active,
        "revoked_at": iso(e.revoked_at),
        "revoke_reason": e.revoke_reason,
    }


register_error_handlers(bp)


# --- reading ---------------------------------------------------------------


@bp.get("/quality-checklist")
def quality_checklist():
    """The checklist every quality review answers, item by item, and the ratings."""
    return jsonify(
        {"items": review_service.checklist(), "ratings": [r.value for r in FindingRating]}
    )


@bp.get("/organisations/<slug>/partnerships")
def organisation_partnerships(slug: str):
    """The organisation's partnerships (ended ones with ?include_ended=true)."""
    include_ended = load(IncludeEndedSchema(), request.args)["include_ended"]
    with runtime().db.session() as session:
        org = get_organisation(session, slug)
        found = partnership_service.partnerships_of(session, org, include_ended=include_ended)
        return jsonify(
            {
                "organisation": organisation_ref(org),
                "partnerships": [partnership_json(p) for p in found],
            }
        )


@bp.get("/partnerships/<partnership_id>")
def get_partnership(partnership_id: str):
    with runtime().db.session() as session:
        return jsonify(
            partnership_json(partnership_service.get_partnership(session, partnership_id))
        )


@bp.get("/datasets/<ref>/endorsements")
def dataset_endorsements(ref: str):
    """The badge: endorsements in force of the published version (who and when) and the
    partnerships in force that cover the dataset."""
    with acting() as (session, principal):
        dataset = dataset_service.get_dataset(session, ref, principal)
        version = dataset.published_version
        endorsements = review_service.endorsements_for(session, dataset)
        covering = partnership_service.partnerships_covering(session, dataset)
        return jsonify(
            {
                "dataset": dataset.id,
                "version": version.id if version else None,
                "version_number": version.number if version else None,
                "endorsed": bool(endorsements),
                "endorsements": [endorsement_json(e) for e in endorsements],
                "partnerships": [partnership_json(p) for p in covering],
            }
        )


@bp.get("/versions/<version_id>/reviews")
def version_reviews(version_id: str):
    """Submitted reviews of a version (drafts too, for their reviewing organisation)."""
    with acting() as (session, principal):
        version = dataset_service.get_version(session, version_id)
        dataset_service.get_dataset(session, version.dataset_id, principal)
        reviews = review_service.reviews_of(session, principal, version)
        return jsonify({"version": version.id, "reviews": [review_json(r) for r in reviews]})


@bp.get("/reviews/<review_id>")
def get_review(review_id: str):
    with acting() as (session, principal):
        review = review_service.get_review(session, review_id)
        if not review_service.review_visible(session, principal, review):
            raise NotFound(f"No review {review_id!r}.", code="review_not_found")
        return jsonify(review_json(review))


# --- writing ---------------------------------------------------------------


@bp.post("/partnerships")
def create_partnership():
    """Propose a partnership (``org:admin`` of one party); active once every party accepts."""
    body = json_body(PartnershipCreateSchema(), empty_ok=True)
    with acting() as (session, principal):
        partnership = partnership_service.create_partnership(
            session,
            principal,
            title=body["title"],
            parties=[
                partnership_service.PartySpec(p["organisation"], p.get("role"))
                for p in body["parties"]
            ],
            topics=body["topics"],
            places=body["places"],
            starts_on=body["starts_on"],
            ends_on=body["ends_on"],
            data_sharing_terms=body["data_sharing_terms"],
            agreement_url=body["agreement_url"],
        )
        return jsonify(partnership_json(partnership)), 201


@bp.post("/partnerships/<partnership_id>/accept")
def accept_partnership(partnership_id: str):
    body = json_body(AcceptSchema(), empty_ok=True)
    with acting() as (session, principal):
        partnership = partnership_service.get_partnership(session, partnership_id)
        partnership = partnership_service.accept_partnership(
            session, principal, partnership, body["organisation"]
        )
        return jsonify(partnership_json(partnership))


@bp.post("/partnerships/<partnership_id>/status")
def partnership_status(partnership_id: str):
    body = json_body(PartnershipStatusSchema(), empty_ok=True)
    with acting() as (session, principal):
        partnership = partnership_service.get_partnership(session, partnership_id)
        partnership = partnership_service.set_partnership_status(
            session, principal, partnership, body["status"], reason=body["reason"]
        )
        return jsonify(partnership_json(partnership))


@bp.post("/organisations/<slug>/verification")
def verify_organisation(slug: str):
    """Site administrators verify an organisation (and a government body's type)."""
    body = json_body(VerificationSchema(), empty_ok=True)
    with acting() as (session, principal):
        org = get_organisation(session, slug)
        partnership_service.verify_organisation(
            session,
            principal,
            org,
            verified=body["verified"],
            government_type=body["government_type"],
            note=body["note"],
        )
        profile = partnership_service.profile_of(session, org)
        return jsonify(
            {
                **organisation_ref(org),
                "government_type": profile.government_type,
                "verified_at": iso(profile.verified_at),
                "verification_note": profile.verification_note,
            }
        )


@bp.post("/versions/<version_id>/reviews")
def start_review(version_id: str):
    """Open (or return the open) draft review of a published version for a partner."""
    body = json_body(StartReviewSchema(), empty_ok=True)
    with acting() as (session, principal):
        version = dataset_service.get_version(session, version_id)
        review = review_service.start_review(
            session, principal, version, organisation_slug=body["organisation"]
        )
        return jsonify(review_json(review)), 201


@bp.put("/reviews/<review_id>/findings")
def record_findings(review_id: str):
    """Record or replace findings: ``{"findings": {item: {"rating", "comment"}}}``."""
    body = json_body(FindingsSchema(), empty_ok=True)
    with acting() as (session, principal):
        review = review_service.get_review(session, review_id)
        review = review_service.record_findings(session, principal, review, body["findings"])
        return jsonify(review_json(review))


@bp.post("/reviews/<review_id>/submit")
def submit_review(review_id: str):
    """Endorse the version or request changes; the endorsement belongs to this version only."""
    body = json_body(SubmitSchema(), empty_ok=True)
    with acting() as (session, principal):
        review = review_service.get_review(session, review_id)
        review, endorsement = review_service.submit_review(
            session,
            principal,
            review,
            decision=body["decision"],
            summary=body["summary"],
            statement=body["statement"],
        )
        out = review_json(review)
        out["endorsement"] = endorsement.id if endorsement is not None else None
        return jsonify(out)


@bp.post("/endorsements/<endorsement_id>/revoke")
def revoke_endorsement(endorsement_id: str):
    body = json_body(RevokeSchema(), empty_ok=True)
    with acting() as (session, principal):
        endorsement = review_service.get_endorsement(session, endorsement_id)
        endorsement = review_service.revoke_endorsement(
            session, principal, endorsement, reason=body["reason"]
        )
        return jsonify(endorsement_json(endorsement))
