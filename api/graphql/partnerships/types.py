"""Types of the partnerships domain: partnerships, their parties, quality reviews and findings."""

from __future__ import annotations

import graphene

from catalog.partnership_models import QUALITY_CHECKLIST, QualityItem
from catalog.services import partnerships as partnership_service


class QualityChecklistItem(graphene.ObjectType):
    """One item of the quality checklist every review answers."""

    item = graphene.String(required=True)
    question = graphene.String(required=True)


class PartnershipParty(graphene.ObjectType):
    """An organisation in a partnership and what it does there."""

    organization = graphene.Field("api.graphql.organizations.types.Organization", required=True)
    role = graphene.String(required=True, description="data_provider, reviewer or member")
    accepted_at = graphene.DateTime(description="When the party accepted; null while proposed.")

    @staticmethod
    def resolve_organization(root, info):
        return root.organisation


class Partnership(graphene.ObjectType):
    """An agreement between organisations (a CSO and a statistics office, say) to share and
    review data within a scope of topics and places."""

    id = graphene.ID(required=True)
    title = graphene.String(required=True)
    status = graphene.String(required=True, description="proposed, active, suspended or ended")
    in_force = graphene.Boolean(required=True, description="Active and within its dates today.")
    topics = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="[] = every topic"
    )
    places = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="[] = every place"
    )
    starts_on = graphene.Date()
    ends_on = graphene.Date()
    data_sharing_terms = graphene.String(required=True)
    agreement_url = graphene.String()
    parties = graphene.List(graphene.NonNull(PartnershipParty), required=True)

    @staticmethod
    def resolve_in_force(root, info):
        return partnership_service.is_in_force(root)

    @staticmethod
    def resolve_topics(root, info):
        return list(root.topics or [])

    @staticmethod
    def resolve_places(root, info):
        return list(root.places or [])


class QualityFinding(graphene.ObjectType):
    """The reviewer's finding on one checklist item (rating null while not yet rated)."""

    item = graphene.String(required=True)
    question = graphene.String(required=True)
    rating = graphene.String(description="meets, partly_meets, does_not_meet or not_applicable")
    comment = graphene.String(required=True)


class QualityReview(graphene.ObjectType):
    """A partner's review of one dataset version against the quality checklist."""

    id = graphene.ID(required=True)
    organization = graphene.Field("api.graphql.organizations.types.Organization", required=True)
    partnership_id = graphene.ID(required=True)
    version_id = graphene.ID(required=True)
    status = graphene.String(required=True, description="draft or submitted")
    decision = graphene.String(description="endorse or request_changes, once submitted")
    summary = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    submitted_at = graphene.DateTime()
    findings = graphene.List(graphene.NonNull(QualityFinding), required=True)

    @staticmethod
    def resolve_organization(root, info):
        return root.organisation

    @staticmethod
    def resolve_findings(root, info):
        rated = {f.item: f for f in root.findings}
        return [
            QualityFinding(
                item=item.value,
                question=QUALITY_CHECKLIST[item],
                rating=rated[item.value].rating if item.value in rated else None,
                comment=rated[item.value].comment if item.value in rated else "",
            )
            for item in QualityItem
        ]
