"""Running one GraphQL operation: parse, validate, check limits, pay points, execute.

Every check that can refuse a query runs before any resolver does, so a
refused query costs the server a parse and a walk of the document only.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from api.graphql.core.budget import BudgetExhausted, PointsBudget, client_key
from api.graphql.core.context import GraphQLContext
from api.graphql.core.errors import (
    format_execution_error,
    format_phase_error,
    request_error,
)
from api.graphql.core.futures import LoaderExecutionContext
from api.graphql.core.limits import LimitExceeded, QueryLimits, analyse
from catalog.principal import Principal


@dataclass
class Outcome:
    """The JSON body of one operation's answer and what the HTTP response should say."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class DocumentCache:
    """Parsed and validated documents by query text: repeated queries skip both steps."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, tuple[DocumentNode | None, list[dict]]] = OrderedDict()
        self._lock = Lock()

    def get(self, query: str):
        with self._lock:
            found = self._items.get(query)
            if found is not None:
                self._items.move_to_end(query)
            return found

    def put(self, query: str, value) -> None:
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

    def _document(self, query: str) -> tuple[DocumentNode | None, list[dict]]:
        found = self._documents.get(query)
        if found is not None:
            return found
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as err:
            code = "query_too_large" if "token limit" in err.message else "syntax_error"
            value: tuple[DocumentNode | None, list[dict]] = (None, [format_phase_error(err, code)])
        else:
            errors = validate(self.schema, document)
            value = (document, [format_phase_error(e, "validation_failed") for e in errors])
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
        document, errors = self._document(query)
        if errors:
            return Outcome({"errors": errors})
        assert document is not None
        op = get_operation_ast(document, operation_name)
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
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        try:
            analysis = analyse(self.schema, op, fragments, variables, self.limits)
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
