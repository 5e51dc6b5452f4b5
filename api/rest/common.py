"""What every /api/v1 blueprint shares: timestamps, JSON bodies loaded with a marshmallow schema,
and errors as ``{"error": {code, message, problems}}`` with the bearer challenge on 401/403."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from api.context import current_principal, runtime
from api.rest import uploads
from catalog.principal import Principal
from schema.errors import CGDError, InvalidInput, Problem


@contextmanager
def acting() -> Iterator[tuple[Any, Principal]]:
    """A catalogue session (committed when the view returns) and who the request acts as;
    the catalogue service the view calls with both decides whether it may."""
    principal = current_principal()
    with runtime().db.session() as session:
        yield session, principal


def iso(value) -> str | None:
    """A timestamp in RFC 3339 (with its offset: SQLite hands back naive datetimes, all UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def iso_date(value) -> str | None:
    return value.isoformat() if value is not None else None


def problems(messages: Any, path: tuple[str, ...] = ()) -> list[Problem]:
    """marshmallow's error messages, one Problem each, with the dotted field they name."""
    out: list[Problem] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            out += problems(value, (*path, str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out += [Problem("invalid", m, field=".".join(path) or None) for m in messages]
    elif isinstance(messages, list):
        for m in messages:
            out += problems(m, path)
    else:
        out.append(Problem("invalid", str(messages), field=".".join(path) or None))
    return out


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """``schema.load(data)``; what breaks the schema is a 400 invalid_input naming each field."""
    try:
        return schema.load(data)
    except ValidationError as err:
        raise InvalidInput("The request is not valid.", problems(err.messages)) from None


def json_body(schema: Schema, *, empty_ok: bool = False) -> dict[str, Any]:
    """The request's JSON object loaded with ``schema`` (no body at all reads as ``{}`` when
    ``empty_ok``); anything but a JSON object is a 400 invalid_json."""
    body = request.get_json(silent=True)
    if body is None and empty_ok and not request.get_data():
        body = {}
    if not isinstance(body, dict):
        raise InvalidInput(
            "Send a JSON object.",
            [Problem("invalid_json", "The body must be a JSON object.")],
            code="invalid_json",
        )
    return load(schema, body)


def error_response(err: CGDError):
    status = err.status
    headers = {}
    if err.code in {"unauthenticated", "invalid_token"}:
        status = 401
        headers["WWW-Authenticate"] = (
            'Bearer realm="cgd-portal"'
            if err.code == "unauthenticated"
            else 'Bearer realm="cgd-portal", error="invalid_token"'
        )
    elif err.code == "insufficient_scope":
        headers["WWW-Authenticate"] = 'Bearer realm="cgd-portal", error="insufficient_scope"'
    return jsonify({"error": err.to_dict()}), status, headers


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def _too_large(_err):
    return error_response(uploads.TooLarge(max_upload_bytes()))


def method_not_allowed(err):
    """The API's 405: JSON with a stable code and the Allow header.

    Routing errors happen before a blueprint is chosen, so a blueprint handler never sees
    them: the app-wide 405 handler (portal/views/auth.py) calls this for every path under
    /api/, as the app-wide 404 handler (portal/app.py) answers the API's 404s.
    """
    body = {"error": {"code": "method_not_allowed", "message": "Method not allowed."}}
    allowed = getattr(err, "valid_methods", None) or []
    return jsonify(body), 405, {"Allow": ", ".join(allowed)} if allowed else {}


def register_error_handlers(bp: Blueprint) -> None:
    """Errors raised in the blueprint's views answer as JSON with a stable code (404 and 405
    are answered app-wide, see :func:`method_not_allowed`)."""
    bp.register_error_handler(CGDError, error_response)
    bp.register_error_handler(RequestEntityTooLarge, _too_large)
