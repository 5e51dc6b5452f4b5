"""Request and response shapes of /api/v1 (marshmallow); the OpenAPI document is built from these."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from catalog.models import JobStatus, VersionStatus
from catalog.principal import SCOPES
from schema.metadata import DatasetMetadataSchema


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


class DatasetCreateSchema(Schema):
    class Meta:
        unknown = RAISE

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
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in VersionStatus]))


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
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in VersionStatus]))
    filename = fields.String(allow_none=True)
    record_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    published_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    error = fields.Dict(allow_none=True)


class JobSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in JobStatus]))
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


class UploadCreateSchema(Schema):
    class Meta:
        unknown = RAISE

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


class PublishSchema(Schema):
    class Meta:
        unknown = RAISE

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
