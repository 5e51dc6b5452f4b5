"""Request and response shapes of /api/v1 (marshmallow); the OpenAPI document is built from these."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from catalog.models import JobStatus, VersionStatus
from catalog.partnership_models import (
    FindingRating,
    PartnershipStatus,
    PartyRole,
    QualityItem,
    ReviewDecision,
    ReviewStatus,
)
from catalog.principal import SCOPES
from schema.metadata import DatasetMetadataSchema


def _one_of(values) -> validate.OneOf:
    """One of an enumeration's values."""
    return validate.OneOf([v.value for v in values])


class RequestSchema(Schema):
    """A request body: a field the API does not know is an error, not ignored."""

    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    file = fields.String()
    row = fields.Integer()
    column = fields.String()
    field = fields.String()


class ErrorBodySchema(Schema):
    code = fields.String(
        required=True, metadata={"description": "Stable, machine-readable error code."}
    )
    message = fields.String(required=True)
    problems = fields.List(fields.Nested(ProblemSchema))


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class DatasetCreateSchema(RequestSchema):
    organisation = fields.String(
        required=True, metadata={"description": "Slug of the publishing organisation."}
    )
    metadata = fields.Dict(
        required=True,
        metadata={"description": "Dataset metadata of the CGD standard (see schema/metadata.py)."},
    )


class DatasetCreateDocumentSchema(DatasetCreateSchema):
    """What the OpenAPI document shows: the metadata spelled out from the CGD standard's own schema.

    The view loads the metadata with schema.metadata.load_metadata, whose problems carry the
    standard's stable codes, so only the document uses this nesting.
    """

    metadata = fields.Nested(
        DatasetMetadataSchema,
        required=True,
        metadata={"description": "Dataset metadata of the CGD standard."},
    )


class VersionSummarySchema(Schema):
    id = fields.String(required=True)
    number = fields.Integer(required=True)
    status = fields.String(required=True, validate=_one_of(VersionStatus))


class DatasetSchema(Schema):
    id = fields.String(required=True)
    slug = fields.String(required=True)
    organisation = fields.String(required=True)
    title = fields.String(required=True)
    published_version = fields.String(allow_none=True)
    withdrawn = fields.Boolean(required=True)
    metadata = fields.Dict(required=True)
    versions = fields.List(fields.Nested(VersionSummarySchema), required=True)


class VersionSchema(Schema):
    id = fields.String(required=True)
    dataset = fields.String(required=True)
    number = fields.Integer(required=True)
    status = fields.String(required=True, validate=_one_of(VersionStatus))
    filename = fields.String(allow_none=True)
    record_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    published_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    error = fields.Dict(allow_none=True)


class JobSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, validate=_one_of(JobStatus))
    progress = fields.Integer(required=True)
    result = fields.Dict(allow_none=True)
    error = fields.Dict(allow_none=True)
    version = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class UploadAcceptedSchema(Schema):
    version = fields.Nested(VersionSchema, required=True)
    job = fields.Nested(JobSchema, required=True)


class VersionUploadFormSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    columns = fields.String(
        metadata={"description": "Optional JSON object: column name -> {role, dimension, ...}."}
    )


class UploadCreateSchema(RequestSchema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    columns = fields.Dict(metadata={"description": "Column name -> {role, dimension, ...}."})


class UploadSchema(Schema):
    id = fields.String(required=True)
    dataset = fields.String(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    received = fields.Integer(
        required=True,
        metadata={"description": "Bytes received so far; send the next chunk from here."},
    )
    chunk_size = fields.Integer(required=True, metadata={"description": "Largest chunk accepted."})
    complete = fields.Boolean(required=True)


class PublishSchema(RequestSchema):
    approve_free_text = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Approve the scrubbed free text shown in the anonymisation report."
        },
    )


class ReportSchema(Schema):
    version = fields.String(required=True)
    status = fields.String(required=True)
    report = fields.Dict(required=True)


class MeSchema(Schema):
    kind = fields.String(required=True)
    user_id = fields.Integer(allow_none=True)
    client_id = fields.String(allow_none=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), allow_none=True)
    organisations = fields.List(fields.String(), allow_none=True)


# --- partnerships, quality reviews and endorsements (api/rest/partnerships.py) ---------


class OrganisationRefSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    verified = fields.Boolean(required=True)


class PartySchema(Schema):
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    role = fields.String(required=True, validate=_one_of(PartyRole))
    accepted_at = fields.DateTime(allow_none=True)


class PartnershipSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=_one_of(PartnershipStatus))
    in_force = fields.Boolean(required=True)
    topics = fields.List(fields.String(), required=True)
    places = fields.List(fields.String(), required=True)
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    data_sharing_terms = fields.String(required=True)
    agreement_url = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    parties = fields.List(fields.Nested(PartySchema), required=True)


class OrganisationPartnershipsSchema(Schema):
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    partnerships = fields.List(fields.Nested(PartnershipSchema), required=True)


class VerifiedOrganisationSchema(OrganisationRefSchema):
    government_type = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    verification_note = fields.String(required=True)


class ChecklistItemSchema(Schema):
    item = fields.String(required=True, validate=_one_of(QualityItem))
    question = fields.String(required=True)


class ChecklistSchema(Schema):
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True)
    ratings = fields.List(fields.String(validate=_one_of(FindingRating)), required=True)


class ReviewFindingSchema(ChecklistItemSchema):
    rating = fields.String(required=True, allow_none=True, validate=_one_of(FindingRating))
    comment = fields.String(required=True)


class ReviewSchema(Schema):
    id = fields.String(required=True)
    dataset = fields.String(required=True)
    version = fields.String(required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    partnership = fields.String(allow_none=True)
    status = fields.String(required=True, validate=_one_of(ReviewStatus))
    decision = fields.String(allow_none=True, validate=_one_of(ReviewDecision))
    summary = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    findings = fields.List(fields.Nested(ReviewFindingSchema), required=True)


class SubmittedReviewSchema(ReviewSchema):
    endorsement = fields.String(
        allow_none=True, metadata={"description": "The endorsement in force that this review made."}
    )


class VersionReviewsSchema(Schema):
    version = fields.String(required=True)
    reviews = fields.List(fields.Nested(ReviewSchema), required=True)


class EndorsementSchema(Schema):
    id = fields.String(required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    dataset = fields.String(required=True)
    version = fields.String(required=True)
    version_number = fields.Integer(required=True)
    endorsed_at = fields.DateTime(required=True)
    statement = fields.String(required=True)
    review = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)


class DatasetEndorsementsSchema(Schema):
    dataset = fields.String(required=True)
    version = fields.String(allow_none=True)
    version_number = fields.Integer(allow_none=True)
    endorsed = fields.Boolean(required=True)
    endorsements = fields.List(fields.Nested(EndorsementSchema), required=True)
    partnerships = fields.List(
        fields.Nested(PartnershipSchema),
        required=True,
        metadata={"description": "Partnerships in force that cover the dataset."},
    )


class PartyInputSchema(RequestSchema):
    organisation = fields.String(required=True, metadata={"description": "Organisation slug."})
    role = fields.String(
        load_default=None,
        validate=_one_of(PartyRole),
        metadata={"description": "Default: by the organisation's kind."},
    )


class PartnershipCreateSchema(RequestSchema):
    title = fields.String(required=True)
    parties = fields.List(fields.Nested(PartyInputSchema), required=True)
    topics = fields.List(fields.String(), load_default=list)
    places = fields.List(fields.String(), load_default=list)
    starts_on = fields.Date(load_default=None)
    ends_on = fields.Date(load_default=None)
    data_sharing_terms = fields.String(load_default="")
    agreement_url = fields.Url(load_default=None, schemes={"https", "http"})


class AcceptSchema(RequestSchema):
    organisation = fields.String(
        required=True, metadata={"description": "Slug of the party that accepts."}
    )


class PartnershipStatusSchema(RequestSchema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(
            [
                PartnershipStatus.ACTIVE.value,
                PartnershipStatus.SUSPENDED.value,
                PartnershipStatus.ENDED.value,
            ]
        ),
    )
    reason = fields.String(load_default="")


class VerificationSchema(RequestSchema):
    verified = fields.Boolean(load_default=True)
    government_type = fields.String(
        load_default=None, metadata={"description": "nso, ministry, local_government or other."}
    )
    note = fields.String(load_default="")


class StartReviewSchema(RequestSchema):
    organisation = fields.String(
        load_default=None, metadata={"description": "The reviewing organisation (default: yours)."}
    )


class FindingSchema(RequestSchema):
    rating = fields.String(required=True, validate=_one_of(FindingRating))
    comment = fields.String(load_default="")


class FindingsSchema(RequestSchema):
    findings = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(FindingSchema),
        required=True,
        metadata={"description": "Checklist item -> its finding."},
    )


class SubmitSchema(RequestSchema):
    decision = fields.String(required=True, validate=_one_of(ReviewDecision))
    summary = fields.String(load_default="")
    statement = fields.String(
        load_default="", metadata={"description": "Shown with the badge when endorsing."}
    )


class RevokeSchema(RequestSchema):
    reason = fields.String(required=True)


class IncludeEndedSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    include_ended = fields.Boolean(
        load_default=False,
        falsy={*fields.Boolean.falsy, ""},
        metadata={"description": "Ended partnerships too."},
    )
