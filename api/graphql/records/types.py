"""Anonymised records of a dataset's published version."""

from __future__ import annotations

import graphene

from api.graphql.core.scalars import JSON


class Record(graphene.ObjectType):
    """One anonymised record: identifiers dropped, free text scrubbed, rare values suppressed."""

    values = graphene.Field(JSON, required=True, description="Column name -> value.")
    value = graphene.Field(JSON, column=graphene.String(required=True))

    @staticmethod
    def resolve_values(root, info):
        return root

    @staticmethod
    def resolve_value(root, info, column):
        return root.get(column)


class RecordPageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String(description="Pass as `after` for the next page.")


class RecordConnection(graphene.ObjectType):
    """A page of records in a stable order; cursors are tied to the published version."""

    total_count = graphene.Int(required=True)
    page_info = graphene.Field(RecordPageInfo, required=True)
    nodes = graphene.List(graphene.NonNull(Record), required=True)
    rows = graphene.Field(
        JSON, required=True, description="The same page as a plain JSON array (fastest to read)."
    )

    @staticmethod
    def resolve_total_count(root, info):
        return root.total

    @staticmethod
    def resolve_page_info(root, info):
        return RecordPageInfo(
            has_next_page=root.next_cursor is not None, end_cursor=root.next_cursor
        )

    @staticmethod
    def resolve_nodes(root, info):
        return root.rows

    @staticmethod
    def resolve_rows(root, info):
        return root.rows


class RecordFilter(graphene.InputObjectType):
    column = graphene.String(required=True)
    values = graphene.List(graphene.NonNull(graphene.String), required=True)
