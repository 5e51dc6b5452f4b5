"""Turning a reference (global ID, database id or slug) into a database id."""

from __future__ import annotations

import binascii

from graphql_relay import from_global_id

from api.graphql.core.context import GraphQLContext
from catalog.services import datasets as dataset_service


def database_id(value: str, kind: str) -> str:
    """The database id inside a global ID of ``kind``; any other value as it is."""
    try:
        found, raw = from_global_id(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return value  # not a global id: a database id or slug
    return raw if found == kind and raw else value


def published_dataset_id(ctx: GraphQLContext, ref: str) -> str:
    """The id of a published dataset, or NotFound (never a draft, even for its members)."""
    return dataset_service.get_dataset(ctx.session, database_id(ref, "Dataset")).id
