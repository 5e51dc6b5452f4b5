"""Queries and mutations of partnerships, quality reviews and endorsements.

Reads are public (submitted reviews; drafts only to their reviewers).  Every
mutation calls a catalogue service with the acting principal: ``org:admin``
of a party for partnerships, ``endorsements:write`` and membership of the
reviewing partner for reviews and endorsements, site administrators to verify.
"""

from __future__ import annotations

import graphene

from api.graphql.core.refs import database_id
from api.graphql.datasets.types import Endorsement
from api.graphql.mutations.schema import findings_by_item, unit_of_work
from api.graphql.mutations.types import FindingInput
from api.graphql.partnerships.types import Partnership, QualityChecklistItem, QualityReview
from catalog.services import datasets as dataset_service
from catalog.services import partnerships as partnership_service
from catalog.services import reviews as review_service
from catalog.services.organisations import get_organisation


class PartnershipQueries(graphene.ObjectType):
    partnerships = graphene.List(
        graphene.NonNull(Partnership),
        required=True,
        organization=graphene.String(required=True, description="Organisation slug"),
        include_ended=graphene.Boolean(default_value=False),
        description="The organisation's partnerships, newest first.",
    )
    partnership = graphene.Field(Partnership, id=graphene.ID(required=True))
    dataset_partnerships = graphene.List(
        graphene.NonNull(Partnership),
        required=True,
        dataset=graphene.String(required=True, description="Dataset id or slug"),
        description="Partnerships in force whose scope covers the dataset.",
    )
    quality_checklist = graphene.List(graphene.NonNull(QualityChecklistItem), required=True)
    quality_reviews = graphene.List(
        graphene.NonNull(QualityReview),
        required=True,
        version=graphene.ID(required=True, description="Version id or global ID"),
        description="Submitted reviews of a version (and your organisation's drafts).",
    )

    @staticmethod
    def resolve_partnerships(root, info, organization, include_ended=False):
        session = info.context.session
        org = get_organisation(session, organization)
        return partnership_service.partnerships_of(session, org, include_ended=include_ended)

    @staticmethod
    def resolve_partnership(root, info, id):
        return partnership_service.get_partnership(info.context.session, id)

    @staticmethod
    def resolve_dataset_partnerships(root, info, dataset):
        ctx = info.context
        found = dataset_service.get_dataset(ctx.session, dataset, ctx.principal)
        return partnership_service.partnerships_covering(ctx.session, found)

    @staticmethod
    def resolve_quality_checklist(root, info):
        return [QualityChecklistItem(**row) for row in review_service.checklist()]

    @staticmethod
    def resolve_quality_reviews(root, info, version):
        ctx = info.context
        found = dataset_service.get_version(ctx.session, database_id(version, "DatasetVersion"))
        dataset_service.get_dataset(ctx.session, found.dataset_id, ctx.principal)
        return review_service.reviews_of(ctx.session, ctx.principal, found)


class PartyInput(graphene.InputObjectType):
    organization = graphene.String(required=True, description="Organisation slug")
    role = graphene.String(description="data_provider, reviewer or member (default: by kind)")


class ProposePartnership(graphene.Mutation):
    """Propose a partnership (``org:admin`` of one party); active once every party accepts."""

    class Arguments:
        title = graphene.String(required=True)
        parties = graphene.List(graphene.NonNull(PartyInput), required=True)
        topics = graphene.List(graphene.NonNull(graphene.String))
        places = graphene.List(graphene.NonNull(graphene.String))
        starts_on = graphene.Date()
        ends_on = graphene.Date()
        data_sharing_terms = graphene.String(default_value="")
        agreement_url = graphene.String()

    partnership = graphene.Field(Partnership, required=True)

    @staticmethod
    def mutate(
        root,
        info,
        title,
        parties,
        topics=None,
        places=None,
        starts_on=None,
        ends_on=None,
        data_sharing_terms="",
        agreement_url=None,
    ):
        with unit_of_work(info) as (ctx, session):
            partnership = partnership_service.create_partnership(
                session,
                ctx.principal,
                title=title,
                parties=[
                    partnership_service.PartySpec(p["organization"], p.get("role")) for p in parties
                ],
                topics=topics,
                places=places,
                starts_on=starts_on,
                ends_on=ends_on,
                data_sharing_terms=data_sharing_terms,
                agreement_url=agreement_url,
            )
            partnership = partnership_service.get_partnership(session, partnership.id)
        return ProposePartnership(partnership=partnership)


class AcceptPartnership(graphene.Mutation):
    """An administrator of a party accepts the partnership for that party."""

    class Arguments:
        id = graphene.ID(required=True)
        organization = graphene.String(required=True)

    partnership = graphene.Field(Partnership, required=True)

    @staticmethod
    def mutate(root, info, id, organization):
        with unit_of_work(info) as (ctx, session):
            found = partnership_service.get_partnership(session, id)
            partnership_service.accept_partnership(session, ctx.principal, found, organization)
        return AcceptPartnership(partnership=found)


class SetPartnershipStatus(graphene.Mutation):
    """Suspend, resume or end a partnership (an administrator of a party)."""

    class Arguments:
        id = graphene.ID(required=True)
        status = graphene.String(required=True, description="active, suspended or ended")
        reason = graphene.String(default_value="")

    partnership = graphene.Field(Partnership, required=True)

    @staticmethod
    def mutate(root, info, id, status, reason=""):
        with unit_of_work(info) as (ctx, session):
            found = partnership_service.get_partnership(session, id)
            partnership_service.set_partnership_status(
                session, ctx.principal, found, status, reason=reason
            )
        return SetPartnershipStatus(partnership=found)


class VerifyOrganization(graphene.Mutation):
    """Site administrators verify an organisation (and a government body's type)."""

    class Arguments:
        organization = graphene.String(required=True)
        verified = graphene.Boolean(default_value=True)
        government_type = graphene.String(description="nso, ministry, local_government or other")
        note = graphene.String(default_value="")

    organization = graphene.Field("api.graphql.organizations.types.Organization", required=True)

    @staticmethod
    def mutate(root, info, organization, verified=True, government_type=None, note=""):
        with unit_of_work(info) as (ctx, session):
            org = get_organisation(session, organization)
            partnership_service.verify_organisation(
                session,
                ctx.principal,
                org,
                verified=verified,
                government_type=government_type,
                note=note,
            )
        return VerifyOrganization(organization=org)


class StartQualityReview(graphene.Mutation):
    """Open (or return the open) draft review of a published version for your partner organisation."""

    class Arguments:
        version = graphene.ID(required=True, description="Version id or global ID")
        organization = graphene.String(description="The reviewing organisation (default: yours).")

    review = graphene.Field(QualityReview, required=True)

    @staticmethod
    def mutate(root, info, version, organization=None):
        with unit_of_work(info) as (ctx, session):
            found = dataset_service.get_version(session, database_id(version, "DatasetVersion"))
            review = review_service.start_review(
                session, ctx.principal, found, organisation_slug=organization
            )
            review = review_service.get_review(session, review.id)
            _ = review.organisation
        return StartQualityReview(review=review)


class RecordQualityFindings(graphene.Mutation):
    """Record or replace findings of a draft review, item by item."""

    class Arguments:
        review = graphene.ID(required=True)
        findings = graphene.List(graphene.NonNull(FindingInput), required=True)

    review = graphene.Field(QualityReview, required=True)

    @staticmethod
    def mutate(root, info, review, findings):
        with unit_of_work(info) as (ctx, session):
            found = review_service.get_review(session, review)
            review_service.record_findings(
                session, ctx.principal, found, findings_by_item(findings)
            )
            _ = found.organisation
        return RecordQualityFindings(review=found)


class SubmitQualityReview(graphene.Mutation):
    """Endorse the version or request changes; the endorsement belongs to this version only."""

    class Arguments:
        review = graphene.ID(required=True)
        decision = graphene.String(required=True, description="endorse or request_changes")
        summary = graphene.String(default_value="")
        statement = graphene.String(
            default_value="", description="Shown with the badge when endorsing."
        )

    review = graphene.Field(QualityReview, required=True)
    endorsement = graphene.Field(Endorsement)

    @staticmethod
    def mutate(root, info, review, decision, summary="", statement=""):
        with unit_of_work(info) as (ctx, session):
            found = review_service.get_review(session, review)
            _review, endorsement = review_service.submit_review(
                session,
                ctx.principal,
                found,
                decision=decision,
                summary=summary,
                statement=statement,
            )
            _ = found.organisation
        return SubmitQualityReview(review=found, endorsement=endorsement)


class RevokeEndorsement(graphene.Mutation):
    """Withdraw an endorsement (a member of the endorsing organisation); say why."""

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    endorsement = graphene.Field(Endorsement, required=True)

    @staticmethod
    def mutate(root, info, id, reason):
        with unit_of_work(info) as (ctx, session):
            found = review_service.get_endorsement(session, id)
            review_service.revoke_endorsement(session, ctx.principal, found, reason=reason)
        return RevokeEndorsement(endorsement=found)


class PartnershipMutations(graphene.ObjectType):
    propose_partnership = ProposePartnership.Field()
    accept_partnership = AcceptPartnership.Field()
    set_partnership_status = SetPartnershipStatus.Field()
    verify_organization = VerifyOrganization.Field()
    start_quality_review = StartQualityReview.Field()
    record_quality_findings = RecordQualityFindings.Field()
    submit_quality_review = SubmitQualityReview.Field()
    revoke_endorsement = RevokeEndorsement.Field()


__all__ = ["PartnershipMutations", "PartnershipQueries"]
