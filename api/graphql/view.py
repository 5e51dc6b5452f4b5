"""HTTP endpoint for GraphQL."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from graphql import GraphQLError

from api.graphql.schema import schema

log = logging.getLogger(__name__)
bp = Blueprint("graphql", __name__)


def _format_error(err: GraphQLError) -> dict:
    original = err.original_error
    if original is not None and not isinstance(original, GraphQLError):
        code = getattr(original, "code", None)
        if code:
            return {"message": str(original), "extensions": {"code": code}, "path": err.path}
        log.error("resolver error at %s", err.path, exc_info=original)
        return {"message": "Internal error.", "extensions": {"code": "internal_error"}, "path": err.path}
    return err.formatted


@bp.route("/graphql", methods=["POST"])
def graphql_endpoint():
    body = request.get_json(silent=True) or {}
    query = body.get("query")
    if not isinstance(query, str):
        return jsonify({"errors": [{"message": "Send a JSON body with a 'query' string.", "extensions": {"code": "bad_request"}}]}), 400
    lang = request.accept_languages.best_match(["en", "ne"]) or "en"
    result = schema.execute(
        query,
        variable_values=body.get("variables") or None,
        operation_name=body.get("operationName"),
        context_value={"lang": lang, "request": request},
    )
    out: dict = {}
    if result.errors:
        out["errors"] = [_format_error(e) for e in result.errors]
    out["data"] = result.data
    return jsonify(out)
