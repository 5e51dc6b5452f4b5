"""Relay connections paged by offset (datasets, organisations), with ``totalCount``."""

from __future__ import annotations

import graphene
from graphql_relay import from_global_id, to_global_id

from schema.errors import InvalidInput, Problem

MAX_FIRST = 100
DEFAULT_FIRST = 20


def check_first(first: int | None, default: int = DEFAULT_FIRST) -> int:
    """``first`` within 0..MAX_FIRST, or InvalidInput."""
    if first is None:
        return default
    if not 0 <= first <= MAX_FIRST:
        raise InvalidInput(
            f"first must be between 0 and {MAX_FIRST}.",
            [Problem("bad_first", f"first must be 0..{MAX_FIRST}", field="first")],
            code="bad_first",
        )
    return first


def offset_cursor(offset: int) -> str:
    return to_global_id("offset", str(offset))


def offset_after(after: str | None) -> int:
    """The offset of the item after ``after`` (0 without a cursor)."""
    if not after:
        return 0
    try:
        kind, value = from_global_id(after)
        if kind != "offset":
            raise ValueError(kind)
        return int(value) + 1
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not valid.",
            [Problem("bad_cursor", "cursor cannot be read", field="after")],
            code="bad_cursor",
        ) from exc


class CountableConnection(graphene.relay.Connection):
    """A Relay connection that also says how many items there are in all."""

    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of items over all pages.")

    @staticmethod
    def resolve_total_count(root, info):
        return root.total_count


def offset_connection(connection_type, nodes: list, *, offset: int, total: int, **extra):
    """A connection over one page of ``nodes`` starting at ``offset`` of ``total``."""
    edges = [
        connection_type.Edge(node=node, cursor=offset_cursor(offset + i))
        for i, node in enumerate(nodes)
    ]
    conn = connection_type(
        edges=edges,
        page_info=graphene.relay.PageInfo(
            has_next_page=offset + len(edges) < total,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
    conn.total_count = total
    for key, value in extra.items():
        setattr(conn, key, value)
    return conn
