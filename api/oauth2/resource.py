"""Resource protection: who is acting, from a bearer token."""

from __future__ import annotations

from flask import request

from api.context import runtime
from catalog.principal import Principal
from catalog.services import tokens as token_service
from schema.errors import CGDError


class InvalidToken(CGDError):
    def __init__(self, message: str = "The access token is unknown, expired or revoked.") -> None:
        super().__init__(message=message, code="invalid_token", status=401)


def bearer_value() -> str | None:
    """The bearer token of this request, if it sends one (RFC 6750 header only)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def bearer_principal() -> Principal | None:
    """The principal of the request's bearer token; None without one; InvalidToken for a bad one."""
    raw = bearer_value()
    if raw is None:
        return None
    with runtime().db.session() as session:
        principal = token_service.principal_for_access_token(session, raw)
    if principal is None:
        raise InvalidToken()
    return principal
