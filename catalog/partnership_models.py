"""Government–CSO partnerships, quality reviews and endorsements.

A *partnership* joins organisations (a CSO and a national statistics office,
say) under agreed terms and a scope of topics and places.  Inside an active
partnership a *reviewing* party (a government body, or a party the others
designated) reviews a published dataset version of another party against the
quality checklist below, records a finding per item, and either endorses the
version or requests changes.  An *endorsement* belongs to exactly one dataset
version: a new version starts unendorsed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, DatasetVersion, Organisation, new_id, utcnow


class GovernmentBodyType(StrEnum):
    """What kind of government body an organisation of kind ``government`` is."""

    NSO = "nso"  # national statistics office
    MINISTRY = "ministry"
    LOCAL_GOVERNMENT = "local_government"
    OTHER = "other"


class PartnershipStatus(StrEnum):
    PROPOSED = "proposed"  # waiting for every party to accept
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class PartyRole(StrEnum):
    """What a party does in a partnership."""

    DATA_PROVIDER = "data_provider"  # publishes the data the partnership covers
    REVIEWER = "reviewer"  # reviews and may endorse the providers' data
    MEMBER = "member"  # takes part without either right (e.g. a network)


class QualityItem(StrEnum):
    """The quality checklist, after the dimensions of national statistical quality
    assurance frameworks (UN NQAF; relevance, accuracy, timeliness, coherence,
    methodological soundness) as applied to citizen-generated data."""

    RELEVANCE = "relevance"
    METHODOLOGY_DOCUMENTED = "methodology_documented"
    PARTICIPANT_SELECTION = "participant_selection"
    CONSENT = "consent"
    SAMPLE_SIZE_COVERAGE = "sample_size_coverage"
    VALIDATION = "validation"
    TIMELINESS = "timeliness"
    DISAGGREGATION = "disaggregation"
    ANONYMISATION_ADEQUATE = "anonymisation_adequate"


QUALITY_CHECKLIST: dict[QualityItem, str] = {
    QualityItem.RELEVANCE: "The data answers a policy need (an SDG indicator or national plan target).",
    QualityItem.METHODOLOGY_DOCUMENTED: "Collection method, instrument and definitions are documented.",
    QualityItem.PARTICIPANT_SELECTION: "How participants were selected is stated and its biases discussed.",
    QualityItem.CONSENT: "Informed consent was obtained and recorded for the published use.",
    QualityItem.SAMPLE_SIZE_COVERAGE: "Sample size and geographic and group coverage fit the claims made.",
    QualityItem.VALIDATION: "Responses were checked (range, consistency, duplicates, back-checks).",
    QualityItem.TIMELINESS: "The reference period is recent enough for the intended use.",
    QualityItem.DISAGGREGATION: "Disaggregation dimensions follow the standard code lists.",
    QualityItem.ANONYMISATION_ADEQUATE: "The anonymisation report shows an acceptable residual risk.",
}


class FindingRating(StrEnum):
    MEETS = "meets"
    PARTLY_MEETS = "partly_meets"
    DOES_NOT_MEET = "does_not_meet"
    NOT_APPLICABLE = "not_applicable"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class ReviewDecision(StrEnum):
    ENDORSE = "endorse"
    REQUEST_CHANGES = "request_changes"


class OrganisationProfile(Base):
    """Facts about an organisation beyond its catalogue row: government body type
    and who verified it, when (site administrators verify organisations)."""

    __tablename__ = "organisation_profiles"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    government_type: Mapped[str | None] = mapped_column(String(30))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_note: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship()


class Partnership(Base):
    __tablename__ = "partnerships"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=PartnershipStatus.PROPOSED.value)
    # Empty lists mean "every topic" / "every place".
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    places: Mapped[list[Any]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    data_sharing_terms: Mapped[str] = mapped_column(Text, default="")
    agreement_url: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    parties: Mapped[list[PartnershipParty]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan", order_by="PartnershipParty.id"
    )


class PartnershipParty(Base):
    __tablename__ = "partnership_parties"
    __table_args__ = (UniqueConstraint("partnership_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default=PartyRole.DATA_PROVIDER.value)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    partnership: Mapped[Partnership] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class QualityReview(Base):
    __tablename__ = "quality_reviews"
    __table_args__ = (Index("ix_quality_reviews_version", "version_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    partnership_id: Mapped[str] = mapped_column(ForeignKey("partnerships.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.DRAFT.value)
    decision: Mapped[str | None] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    version: Mapped[DatasetVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    partnership: Mapped[Partnership] = relationship()
    findings: Mapped[list[QualityFinding]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="QualityFinding.id"
    )


class QualityFinding(Base):
    __tablename__ = "quality_findings"
    __table_args__ = (UniqueConstraint("review_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("quality_reviews.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(40))
    rating: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[QualityReview] = relationship(back_populates="findings")


class Endorsement(Base):
    """An organisation's endorsement of ONE dataset version (never inherited)."""

    __tablename__ = "endorsements"
    __table_args__ = (
        UniqueConstraint("version_id", "organisation_id"),
        Index("ix_endorsements_dataset", "dataset_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    review_id: Mapped[str] = mapped_column(ForeignKey("quality_reviews.id"))
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    endorsed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    statement: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    version_number: Mapped[int] = mapped_column(Integer)

    version: Mapped[DatasetVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    review: Mapped[QualityReview] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
