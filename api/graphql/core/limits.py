"""What a query may ask for, computed from the document before anything runs.

* depth: nesting of fields (introspection fields not counted);
* aliases: aliased fields in the whole document;
* cost: every object field costs 1 for each time it will be resolved; a field
  with a ``first`` argument (a connection or page) multiplies everything under
  it by ``first`` (its default when not given); ``first`` above 100 is refused.
  A few fields that do more work than one lookup carry a weight.

The cost in nodes becomes points (``ceil(cost / 100)``, at least 1) that the
client's hourly budget pays, as GitHub's GraphQL API does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    Undefined,
    get_named_type,
    value_from_ast,
)

from api.graphql.core.connection import DEFAULT_FIRST, MAX_FIRST


@dataclass(frozen=True)
class QueryLimits:
    """The limits of one GraphQL endpoint (from the app configuration)."""

    max_depth: int = 10
    max_cost: int = 20_000
    max_aliases: int = 30
    max_batch: int = 5
    max_tokens: int = 5_000
    max_query_chars: int = 20_000
    #: fields in one selection set, and in the whole document: checked before validation,
    #: whose overlapping-fields rule costs the square of a selection set's size
    max_selections: int = 200
    max_fields: int = 2_000

    @classmethod
    def from_config(cls, config) -> QueryLimits:
        names = {
            "max_depth": "GRAPHQL_MAX_DEPTH",
            "max_cost": "GRAPHQL_MAX_COST",
            "max_aliases": "GRAPHQL_MAX_ALIASES",
            "max_batch": "GRAPHQL_MAX_BATCH",
            "max_tokens": "GRAPHQL_MAX_TOKENS",
            "max_query_chars": "GRAPHQL_MAX_QUERY_CHARS",
            "max_selections": "GRAPHQL_MAX_SELECTIONS",
            "max_fields": "GRAPHQL_MAX_FIELDS",
        }
        return cls(**{k: int(config[v]) for k, v in names.items() if config.get(v) is not None})


#: Fields that do more than one lookup, by "Type.field": their weight in nodes.
FIELD_WEIGHTS = {
    "Query.aggregate": 10,
    "Query.coverage": 50,
    "Query.datasets": 2,
    "Query.records": 2,
}


class LimitExceeded(Exception):
    """A query refused before execution; ``code`` is stable, ``extensions`` say by how much."""

    def __init__(self, code: str, message: str, **extensions) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions


@dataclass(frozen=True)
class QueryAnalysis:
    depth: int
    aliases: int
    cost: int

    @property
    def points(self) -> int:
        return points_for(self.cost)


def points_for(cost: int) -> int:
    return max(1, math.ceil(cost / 100))


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict | None,
    limits: QueryLimits,
) -> QueryAnalysis:
    """Depth, aliases and cost of one (validated) operation, or LimitExceeded."""
    variables = variables or {}
    root = schema.get_root_type(operation.operation)
    depth = 0
    aliases = 0

    def first_of(field_node: FieldNode, field_def) -> int | None:
        arg = field_def.args.get("first")
        if arg is None:
            return None
        default = arg.default_value if isinstance(arg.default_value, int) else DEFAULT_FIRST
        value = default
        for node in field_node.arguments or ():
            if node.name.value == "first":
                value = value_from_ast(node.value, arg.type, variables)
                break
        if value is Undefined:  # a variable not sent: the argument's default, as executed
            value = default
        if value is None:
            value = DEFAULT_FIRST
        if not isinstance(value, int) or not 0 <= value <= MAX_FIRST:
            raise LimitExceeded(
                "bad_first",
                f"first must be between 0 and {MAX_FIRST} (got {value}) on {field_node.name.value}.",
                field=field_node.name.value,
                maxFirst=MAX_FIRST,
            )
        return value

    def walk(selection_set, parent, multiplier: int, level: int, seen: frozenset[str]) -> int:
        nonlocal depth, aliases
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                name = sel.name.value
                if sel.alias is not None:
                    aliases += 1
                if name.startswith("__"):
                    continue  # introspection and __typename are free
                field_def = (getattr(parent, "fields", None) or {}).get(name)
                if field_def is None:
                    continue
                depth = max(depth, level)
                named = get_named_type(field_def.type)
                if sel.selection_set is None:
                    continue  # scalars and enums are free
                weight = FIELD_WEIGHTS.get(f"{parent.name}.{name}", 1)
                total += multiplier * weight
                first = first_of(sel, field_def)
                child_multiplier = multiplier * first if first is not None else multiplier
                total += walk(sel.selection_set, named, child_multiplier, level + 1, seen)
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = schema.get_type(sel.type_condition.name.value) or parent
                total += walk(sel.selection_set, target, multiplier, level, seen)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = schema.get_type(fragment.type_condition.name.value) or parent
                total += walk(fragment.selection_set, target, multiplier, level, seen | {name})
        return total

    cost = walk(operation.selection_set, root, 1, 1, frozenset())
    if depth > limits.max_depth:
        raise LimitExceeded(
            "query_too_deep",
            f"The query is nested {depth} levels deep; at most {limits.max_depth} are allowed.",
            depth=depth,
            maxDepth=limits.max_depth,
        )
    if aliases > limits.max_aliases:
        raise LimitExceeded(
            "too_many_aliases",
            f"The query uses {aliases} aliases; at most {limits.max_aliases} are allowed.",
            aliases=aliases,
            maxAliases=limits.max_aliases,
        )
    if cost > limits.max_cost:
        raise LimitExceeded(
            "query_too_costly",
            f"The query would cost {cost} nodes; at most {limits.max_cost} are allowed. "
            "Ask for smaller pages (first) or fewer nested connections.",
            cost=cost,
            maxCost=limits.max_cost,
        )
    return QueryAnalysis(depth=depth, aliases=aliases, cost=cost)
