"""Turning a reference (global ID, database id or slug) into a database id."""

from __future__ import annotations

import binascii

from graphql_relay import from_global_id
from sqlalchemy import select

from api.graphql.core.context import GraphQLContext
from catalog.models import Dataset
from schema.errors import NotFound


def database_id(value: str, kind: str) -> str:
    """The database id inside a global ID of ``kind``; any other value as it is."""
    try:
        found, raw = from_global_id(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return value  # not a global id: a database id or slug
    return raw if found == kind and raw else value


def published_dataset_id(ctx: GraphQLContext, ref: str) -> str:
    """The id of a published dataset, or NotFound (never a draft, even for its members).

    One indexed lookup of the id alone: records and aggregates page through public
    data only, so they need neither the dataset's versions nor a principal.
    """
    ref = database_id(ref, "Dataset")
    found = ctx.session.scalar(
        select(Dataset.id).where(
            (Dataset.id == ref) | (Dataset.slug == ref),
            Dataset.published_version_id.is_not(None),
            Dataset.withdrawn.is_(False),
        )
    )
    if found is None:
        raise NotFound(f"No dataset {ref!r}.", code="dataset_not_found")
    return found
