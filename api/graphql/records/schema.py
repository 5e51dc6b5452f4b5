"""The ``records`` query: published anonymised records only, from the search backend."""

from __future__ import annotations

import graphene

from api.graphql.core.connection import DEFAULT_FIRST, check_first
from api.graphql.core.refs import published_dataset_id
from api.graphql.records.types import RecordConnection, RecordFilter


class RecordQueries(graphene.ObjectType):
    records = graphene.Field(
        RecordConnection,
        required=True,
        dataset=graphene.String(required=True, description="Dataset id, global ID or slug"),
        filter=graphene.List(graphene.NonNull(RecordFilter)),
        first=graphene.Int(default_value=DEFAULT_FIRST, description="Page size, 1 to 100."),
        after=graphene.String(),
        description="Page through the anonymised records of a dataset's published version.",
    )

    @staticmethod
    def resolve_records(root, info, dataset, filter=None, first=DEFAULT_FIRST, after=None):
        ctx = info.context
        dataset_id = published_dataset_id(ctx, dataset)
        first = max(1, check_first(first))
        # Entries are ANDed: a column named twice keeps the values both accept.
        filters: dict[str, list[str]] = {}
        for item in filter or []:
            values = list(dict.fromkeys(item["values"]))
            if item["column"] in filters:
                accepted = set(values)
                values = [v for v in filters[item["column"]] if v in accepted]
            filters[item["column"]] = values
        return ctx.runtime.search.records(dataset_id, filters=filters, limit=first, after=after)
