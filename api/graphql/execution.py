"""Running one GraphQL operation: parse, validate, check limits, pay points, execute.

Every check that can refuse a query runs before any resolver does, so a
refused query costs the server a parse and a walk of the document only.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from api.graphql.core.budget import BudgetExhausted, PointsBudget, client_key
from api.graphql.core.context import GraphQLContext
from api.graphql.core.errors import (
    format_execution_error,
    format_phase_error,
    request_error,
)
from api.graphql.core.futures import LoaderExecutionContext
from api.graphql.core.limits import LimitExceeded, QueryAnalysis, QueryLimits, analyse
from catalog.principal import Principal


@dataclass
class Outcome:
    """The JSON body of one operation's answer and what the HTTP response should say."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


_MISSING = object()


class PreparedDocument:
    """A parsed and validated query text, with what every run of it needs again.

    The limits of an operation (depth, aliases, cost) depend on the document
    and on the values of the variables that a ``first`` argument reads, and on
    nothing else; they are kept per operation name and those values, so a
    client paging through records (the same text, only ``after`` changing)
    has its query checked once. A refusal is kept too: it is refused again,
    with the same figures, without walking the document.
    """

    MAX_ANALYSES = 64

    def __init__(self, document: DocumentNode | None, errors: list[dict]) -> None:
        self.document = document
        self.errors = errors
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        self.first_variables: tuple[str, ...] = ()
        self._operations: dict[str | None, OperationDefinitionNode | None] = {}
        self._analyses: dict[tuple, QueryAnalysis | LimitExceeded] = {}
        self._lock = Lock()
        if document is not None:
            self.fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            self.first_variables = tuple(sorted(_first_variables(document)))

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        try:
            return self._operations[name]
        except KeyError:
            assert self.document is not None
            found = self._operations[name] = get_operation_ast(self.document, name)
            return found

    def analysis(
        self,
        schema: GraphQLSchema,
        op: OperationDefinitionNode,
        variables: dict | None,
        limits: QueryLimits,
    ) -> QueryAnalysis:
        """The operation's analysis (or its LimitExceeded), computed once per ``first`` values."""
        values = variables or {}
        key = (
            op.name.value if op.name else None,
            tuple(_frozen(values.get(name, _MISSING)) for name in self.first_variables),
        )
        found = self._analyses.get(key)
        if found is None:
            try:
                found = analyse(schema, op, self.fragments, variables, limits)
            except LimitExceeded as exc:
                found = exc
            # a GraphQLError (a ``first`` variable that cannot be coerced) is not kept
            with self._lock:
                if len(self._analyses) >= self.MAX_ANALYSES:
                    self._analyses.clear()
                self._analyses[key] = found
        if isinstance(found, LimitExceeded):
            raise LimitExceeded(found.code, found.message, **found.extensions)
        return found


def _first_variables(document: DocumentNode) -> set[str]:
    """Names of the variables given to a ``first`` argument anywhere in ``document``."""
    names: set[str] = set()

    def walk(selection_set) -> None:
        for sel in selection_set.selections if selection_set is not None else ():
            if isinstance(sel, FieldNode):
                for arg in sel.arguments or ():
                    if arg.name.value == "first" and isinstance(arg.value, VariableNode):
                        names.add(arg.value.name.value)
            walk(getattr(sel, "selection_set", None))

    for definition in document.definitions:
        walk(getattr(definition, "selection_set", None))
    return names


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a variable's JSON value (``1`` and ``true`` kept apart)."""
    if value is _MISSING:
        return _MISSING
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    return ("json", json.dumps(value, sort_keys=True, default=str))


class DocumentCache:
    """Prepared documents by query text (least recently used dropped first)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._lock = Lock()

    def get(self, query: str) -> PreparedDocument | None:
        with self._lock:
            found = self._items.get(query)
            if found is not None:
                self._items.move_to_end(query)
            return found

    def put(self, query: str, value: PreparedDocument) -> None:
        with self._lock:
            self._items[query] = value
            self._items.move_to_end(query)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass
class Caller:
    """Who sends the request and how it is to be answered."""

    runtime: Any
    principal: Principal
    address: str | None
    lang: str = "en"
    base_url: str = ""
    allow_mutations: bool = True


class GraphQLEndpoint:
    """The schema with its limits and the points budget of its clients."""

    def __init__(self, schema: GraphQLSchema, limits: QueryLimits, budget: PointsBudget) -> None:
        self.schema = schema
        self.limits = limits
        self.budget = budget
        self._documents = DocumentCache()

    def _document(self, query: str) -> PreparedDocument:
        """The parsed and validated document of ``query`` (cached), or its errors."""
        found = self._documents.get(query)
        if found is not None:
            return found
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as err:
            # graphql-core: "Document contains more than 5000 tokens. Parsing aborted."
            too_large = "tokens" in err.message and "more than" in err.message
            code = "query_too_large" if too_large else "syntax_error"
            value = PreparedDocument(None, [format_phase_error(err, code)])
        else:
            crowded = _crowded(document, self.limits)
            if crowded is not None:
                value = PreparedDocument(None, [format_phase_error(crowded, "query_too_large")])
            else:
                errors = validate(self.schema, document)
                value = PreparedDocument(
                    document, [format_phase_error(e, "validation_failed") for e in errors]
                )
        self._documents.put(query, value)
        return value

    def run(self, operation: Any, caller: Caller) -> Outcome:
        """Answer one ``{"query", "variables", "operationName"}`` object."""
        if not isinstance(operation, dict) or not isinstance(operation.get("query"), str):
            return Outcome(
                {
                    "errors": [
                        request_error("bad_request", "Send a JSON object with a 'query' string.")
                    ]
                },
                status=400,
            )
        query: str = operation["query"]
        variables = operation.get("variables") or None
        operation_name = operation.get("operationName") or None
        if variables is not None and not isinstance(variables, dict):
            return Outcome(
                {"errors": [request_error("bad_request", "'variables' must be a JSON object.")]},
                status=400,
            )
        if len(query) > self.limits.max_query_chars:
            return Outcome(
                {
                    "errors": [
                        request_error(
                            "query_too_large",
                            f"The query is {len(query)} characters; at most {self.limits.max_query_chars}.",
                            maxQueryChars=self.limits.max_query_chars,
                        )
                    ]
                }
            )
        prepared = self._document(query)
        if prepared.errors:
            return Outcome({"errors": prepared.errors})
        document = prepared.document
        assert document is not None
        op = prepared.operation(operation_name)
        if op is None:
            message = (
                f"No operation named {operation_name!r}."
                if operation_name
                else "The document has several operations: send operationName."
            )
            return Outcome({"errors": [request_error("operation_not_found", message)]})
        if op.operation == OperationType.MUTATION and not caller.allow_mutations:
            return Outcome(
                {"errors": [request_error("method_not_allowed", "Send mutations with POST.")]},
                status=405,
            )
        # Variables are coerced first (defaults applied, types checked), so that the limits
        # read the ``first`` that will run and a wrongly typed variable is refused here.
        coerced = get_variable_values(self.schema, op.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            return Outcome({"errors": [format_phase_error(e, "invalid_query") for e in coerced]})
        try:
            analysis = prepared.analysis(self.schema, op, coerced, self.limits)
        except LimitExceeded as exc:
            return Outcome({"errors": [request_error(exc.code, exc.message, **exc.extensions)]})
        except GraphQLError as err:  # a variable that cannot be coerced while reading ``first``
            return Outcome({"errors": [format_phase_error(err, "invalid_query")]})

        limit = self.budget.limit_for(caller.principal)
        key = client_key(caller.principal, caller.address)
        try:
            state = self.budget.charge(key, limit, analysis.points, analysis.cost)
        except BudgetExhausted as exc:
            state = exc.state
            return Outcome(
                {
                    "errors": [
                        request_error(
                            "rate_limited",
                            f"This query costs {state.points} points and {state.remaining} of "
                            f"{state.limit} are left this hour; send a token for a larger budget.",
                            cost=state.points,
                            remaining=state.remaining,
                            resetAt=int(state.reset_at),
                        )
                    ]
                },
                status=429,
                headers={
                    **_rate_headers(state),
                    "Retry-After": str(max(1, int(state.reset_at - time.time()))),
                },
            )

        context = GraphQLContext(
            runtime=caller.runtime,
            lang=caller.lang,
            principal=caller.principal,
            base_url=caller.base_url,
            rate_limit=state,
        )
        try:
            result = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                execution_context_class=LoaderExecutionContext,
            )
        finally:
            context.close()
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_execution_error(e) for e in result.errors]
        body["data"] = result.data
        return Outcome(body, headers=_rate_headers(state))


def _rate_headers(state) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(state.limit),
        "X-RateLimit-Remaining": str(state.remaining),
        "X-RateLimit-Reset": str(int(state.reset_at)),
        "X-GraphQL-Cost": str(state.points),
    }


def _crowded(document: DocumentNode, limits: QueryLimits) -> GraphQLError | None:
    """A selection set of more than ``max_selections`` fields, or a document of more than
    ``max_fields``: refused before validation, whose rule for overlapping fields costs the
    square of a selection set's size (``{ a a a ... }`` would buy seconds of CPU for free)."""
    total = 0
    stack = [d.selection_set for d in document.definitions if getattr(d, "selection_set", None)]
    while stack:
        selection_set = stack.pop()
        selections = selection_set.selections
        if len(selections) > limits.max_selections:
            return GraphQLError(
                f"A selection set has {len(selections)} fields; at most "
                f"{limits.max_selections} are allowed.",
                nodes=[selections[0]],
                extensions={"maxSelections": limits.max_selections},
            )
        total += len(selections)
        if total > limits.max_fields:
            return GraphQLError(
                f"The query selects more than {limits.max_fields} fields.",
                extensions={"maxFields": limits.max_fields},
            )
        stack.extend(s.selection_set for s in selections if getattr(s, "selection_set", None))
    return None
