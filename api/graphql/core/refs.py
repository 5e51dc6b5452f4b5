"""Turning a dataset reference (global ID, database id or slug) into a published dataset id."""

from __future__ import annotations

from graphql_relay import from_global_id

from api.graphql.core.context import GraphQLContext
from catalog.services import datasets as dataset_service


def published_dataset_id(ctx: GraphQLContext, ref: str) -> str:
    """The id of a published dataset, or NotFound (never a draft, even for its members)."""
    try:
        kind, raw = from_global_id(ref)
        if kind == "Dataset" and raw:
            ref = raw
    except Exception:  # noqa: BLE001 - not a global id
        pass
    return dataset_service.get_dataset(ctx.session, ref).id
