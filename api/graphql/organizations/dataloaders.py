"""Batched loads for organisations: dataset counts come from one facet query."""

from __future__ import annotations

from api.graphql.core.context import GraphQLContext
from indexer.search.base import SearchQuery


def _dataset_counts(ctx: GraphQLContext, slugs: list[str]) -> list[int]:
    result = ctx.runtime.search.search(
        SearchQuery(
            filters={"organisation": slugs}, facets=("organisation",), limit=0, facet_limit=1000
        )
    )
    counts = dict(result.facets.get("organisation", []))
    return [int(counts.get(s, 0)) for s in slugs]


def dataset_count_loader(ctx: GraphQLContext):
    return ctx.loader("organisation_dataset_count", _dataset_counts)
