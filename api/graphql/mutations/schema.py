"""Contributor mutations. Each one calls a catalogue service with the acting principal
(``api.context.current_principal()``); the service alone decides whether it is allowed."""

from __future__ import annotations

from contextlib import contextmanager

import graphene

from api.graphql.core.context import GraphQLContext
from api.graphql.core.refs import database_id
from api.graphql.core.scalars import JSON
from api.graphql.datasets.types import Dataset, DatasetSource, Endorsement
from api.graphql.mutations.types import FindingInput, Job, Upload
from api.rest import uploads
from catalog.models import Dataset as DatasetModel
from catalog.permissions import authorize
from catalog.services import datasets as dataset_service
from catalog.services import reviews as review_service
from indexer.documents import dataset_document
from schema.errors import InvalidInput, Problem


@contextmanager
def unit_of_work(info):
    """A write session committed when the mutation succeeds (jobs are dispatched after commit)."""
    ctx: GraphQLContext = info.context
    with ctx.runtime.db.session() as session:
        yield ctx, session


def findings_by_item(findings) -> dict[str, dict[str, str]]:
    """``[FindingInput]`` as the review service takes them: ``{item: {"rating", "comment"}}``."""
    return {f["item"]: {"rating": f["rating"], "comment": f.get("comment") or ""} for f in findings}


def find_dataset(session, ref: str) -> DatasetModel:
    """Any dataset by id, global ID or slug; the service called next decides what may be done."""
    return dataset_service.find_dataset(session, database_id(ref, "Dataset"))


def _metadata(value) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput(
            "metadata must be a JSON object of the CGD standard.",
            [Problem("invalid_metadata", "not a JSON object", field="metadata")],
            code="invalid_metadata",
        )
    return value


def _draft_source(dataset: DatasetModel) -> DatasetSource:
    return DatasetSource(doc=dataset_document(dataset, dataset.published_version))


class CreateDataset(graphene.Mutation):
    """Create a dataset (no data yet) for an organisation; needs ``datasets:write`` and the editor role."""

    class Arguments:
        organization = graphene.String(required=True, description="Organisation slug")
        metadata = JSON(required=True, description="Dataset metadata of the CGD standard.")

    dataset = graphene.Field(Dataset, required=True)

    @staticmethod
    def mutate(root, info, organization, metadata):
        with unit_of_work(info) as (ctx, session):
            dataset = dataset_service.create_dataset(
                session, ctx.principal, organization, _metadata(metadata)
            )
            return CreateDataset(dataset=_draft_source(dataset))


class UpdateDatasetMetadata(graphene.Mutation):
    """Replace a dataset's metadata (validated against the CGD standard)."""

    class Arguments:
        dataset = graphene.String(required=True, description="Dataset id, global ID or slug")
        metadata = JSON(required=True)

    dataset = graphene.Field(Dataset, required=True)

    @staticmethod
    def mutate(root, info, dataset, metadata):
        with unit_of_work(info) as (ctx, session):
            found = find_dataset(session, dataset)
            found = dataset_service.update_metadata(
                session, ctx.principal, found, _metadata(metadata)
            )
            return UpdateDatasetMetadata(dataset=_draft_source(found))


class StartUpload(graphene.Mutation):
    """Start a resumable upload of a new version; send the bytes to the REST ``chunkUrl``."""

    class Arguments:
        dataset = graphene.String(required=True, description="Dataset id, global ID or slug")
        filename = graphene.String(required=True)
        size = graphene.Int(required=True, description="The file's size in bytes.")
        columns = JSON(
            description="Column name -> role (and dimension), to confirm the suggestions."
        )

    upload = graphene.Field(Upload, required=True)

    @staticmethod
    def mutate(root, info, dataset, filename, size, columns=None):
        ctx: GraphQLContext = info.context
        config = ctx.runtime.config
        problems = []
        try:
            safe = uploads.store_filename(filename, field="filename")
        except InvalidInput as refused:
            problems.extend(refused.problems)
        if size is None or size <= 0:
            problems.append(
                Problem("invalid_size", "size must be a positive number of bytes.", field="size")
            )
        if columns is not None and not (
            isinstance(columns, dict) and all(isinstance(v, dict) for v in columns.values())
        ):
            problems.append(Problem("invalid_columns", "column name -> object", field="columns"))
        if problems:
            raise InvalidInput("The upload cannot start.", problems, code="invalid_upload")
        with unit_of_work(info) as (ctx, session):
            found = find_dataset(session, dataset)
            authorize(session, ctx.principal, "version.upload", found.organisation_id)
            upload = uploads.start(
                ctx.runtime.files,
                dataset_id=found.id,
                organisation_id=found.organisation_id,
                actor=ctx.principal.actor,
                filename=safe,
                size=size,
                columns=columns,
                max_bytes=int(config.get("MAX_UPLOAD_BYTES") or 0),
            )
        base = ctx.base_url.rstrip("/")
        return StartUpload(
            upload=Upload(
                id=upload.id,
                dataset_id=upload.dataset_id,
                filename=upload.filename,
                size=upload.size,
                received=upload.received,
                chunk_size=uploads.chunk_bytes(config),
                chunk_url=f"{base}/api/v1/uploads/{upload.id}",
                complete_url=f"{base}/api/v1/uploads/{upload.id}/complete",
            )
        )


class PublishVersion(graphene.Mutation):
    """Approve an anonymised version (after reading its report) and queue its publication."""

    class Arguments:
        version = graphene.ID(required=True, description="Version id or global ID")
        approve_free_text = graphene.Boolean(default_value=False)

    job = graphene.Field(Job, required=True)

    @staticmethod
    def mutate(root, info, version, approve_free_text=False):
        with unit_of_work(info) as (ctx, session):
            found = dataset_service.get_version(session, database_id(version, "DatasetVersion"))
            job = dataset_service.request_publish(
                session, ctx.principal, found, approve_free_text=approve_free_text
            )
        return PublishVersion(job=job)


class WithdrawVersion(graphene.Mutation):
    """Withdraw a version (consent withdrawn, an error found); a public one leaves the portal."""

    class Arguments:
        version = graphene.ID(required=True, description="Version id or global ID")

    job = graphene.Field(Job, required=True)

    @staticmethod
    def mutate(root, info, version):
        with unit_of_work(info) as (ctx, session):
            found = dataset_service.get_version(session, database_id(version, "DatasetVersion"))
            job = dataset_service.withdraw_version(session, ctx.principal, found)
        return WithdrawVersion(job=job)


class EndorseVersion(graphene.Mutation):
    """A partner's quality review of a published version that ends in its endorsement."""

    class Arguments:
        version = graphene.ID(required=True, description="Version id or global ID")
        organization = graphene.String(description="The reviewing organisation (default: yours).")
        findings = graphene.List(graphene.NonNull(FindingInput), required=True)
        statement = graphene.String(default_value="")
        summary = graphene.String(default_value="")

    endorsement = graphene.Field(Endorsement, required=True)

    @staticmethod
    def mutate(root, info, version, findings, organization=None, statement="", summary=""):
        with unit_of_work(info) as (ctx, session):
            found = dataset_service.get_version(session, database_id(version, "DatasetVersion"))
            review = review_service.start_review(
                session, ctx.principal, found, organisation_slug=organization
            )
            review_service.record_findings(
                session, ctx.principal, review, findings_by_item(findings)
            )
            _review, endorsement = review_service.submit_review(
                session,
                ctx.principal,
                review,
                decision="endorse",
                summary=summary,
                statement=statement,
            )
        return EndorseVersion(endorsement=endorsement)


class Mutations(graphene.ObjectType):
    create_dataset = CreateDataset.Field()
    update_dataset_metadata = UpdateDatasetMetadata.Field()
    start_upload = StartUpload.Field()
    publish_version = PublishVersion.Field()
    withdraw_version = WithdrawVersion.Field()
    endorse_version = EndorseVersion.Field()
