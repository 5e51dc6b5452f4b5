"""Payload types of the contributor mutations: jobs, uploads, draft datasets."""

from __future__ import annotations

import graphene

from api.graphql.core.scalars import JSON


class Job(graphene.ObjectType):
    """A background job (ingest, publish, withdraw); poll ``/api/v1/jobs/{id}`` for progress."""

    id = graphene.ID(required=True)
    kind = graphene.String(required=True)
    status = graphene.String(required=True)
    progress = graphene.Int(required=True)
    result = graphene.Field(JSON)
    error = graphene.Field(JSON)

    @staticmethod
    def resolve_progress(root, info):
        return root.progress or 0


class Upload(graphene.ObjectType):
    """A resumable upload: PUT the file's bytes in chunks to ``chunkUrl``, then POST ``completeUrl``."""

    id = graphene.ID(required=True)
    dataset_id = graphene.String(required=True)
    filename = graphene.String(required=True)
    size = graphene.Int(required=True)
    received = graphene.Int(required=True)
    chunk_size = graphene.Int(
        required=True, description="Largest chunk the server accepts, in bytes."
    )
    chunk_url = graphene.String(required=True)
    complete_url = graphene.String(required=True)


class FindingInput(graphene.InputObjectType):
    """One item of the quality checklist, as the reviewing partner rates it."""

    item = graphene.String(
        required=True, description="A checklist item, e.g. methodology_documented."
    )
    rating = graphene.String(
        required=True, description="meets, partly_meets, does_not_meet or not_applicable"
    )
    comment = graphene.String()
