"""GraphQL errors as clients see them: a message and a stable ``extensions.code``.

Domain errors (``schema.errors.CGDError``) keep their message, code and
problems. Anything else raised by a resolver is masked: the client gets
``internal_error`` and a reference; the log gets the stack trace under the same
reference. A stack trace, a SQL statement or a connection string never leaves.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from graphql import GraphQLError

from schema.errors import CGDError

log = logging.getLogger("api.graphql")

INTERNAL_MESSAGE = "Internal error. Quote the reference when you report it."


def request_error(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    """An error that stopped the request before execution (no ``data``)."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def _located(err: GraphQLError, body: dict[str, Any]) -> dict[str, Any]:
    if err.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    if err.path:
        body["path"] = list(err.path)
    return body


def format_phase_error(err: GraphQLError, code: str) -> dict[str, Any]:
    """A syntax or validation error: graphql-core's message is safe to show."""
    return _located(err, {"message": err.message, "extensions": {"code": code}})


def format_execution_error(err: GraphQLError) -> dict[str, Any]:
    """An error met while executing: a domain error as it is, anything else masked."""
    original = err.original_error
    if isinstance(original, CGDError):
        extensions: dict[str, Any] = {"code": original.code}
        if original.problems:
            extensions["problems"] = [p.to_dict() for p in original.problems]
        return _located(err, {"message": original.message, "extensions": extensions})
    if not err.path and (original is None or isinstance(original, GraphQLError)):
        # Raised by graphql-core before any resolver ran (e.g. a variable of the wrong type,
        # which carries the scalar's own GraphQLError as its original error).
        return _located(err, {"message": err.message, "extensions": {"code": "invalid_query"}})
    reference = uuid.uuid4().hex[:12]
    log.error(
        "GraphQL resolver error %s at %s: %s",
        reference,
        ".".join(str(p) for p in err.path or ()),
        err.message,
        exc_info=original if isinstance(original, BaseException) else None,
    )
    return _located(
        err,
        {
            "message": INTERNAL_MESSAGE,
            "extensions": {"code": "internal_error", "reference": reference},
        },
    )
