"""OAuth2 endpoints for machines: token, revocation, introspection, metadata (RFC 8414).

The authorisation endpoint, with its consent page, is a portal page
(portal/views/auth.py) because a person signs in and decides there.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from api.oauth2.server import CLIENT_AUTH, authorization_server
from catalog.principal import SCOPES

bp = Blueprint("oauth2", __name__)


@bp.post("/oauth/token")
def token():
    """Issue tokens: authorization_code (+PKCE), client_credentials, refresh_token."""
    return authorization_server().create_token_response()


@bp.post("/oauth/revoke")
def revoke():
    """Revoke an access or refresh token (RFC 7009); the whole refresh family goes with it."""
    return authorization_server().create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect():
    """Token introspection for resource servers of the token's organisation (RFC 7662)."""
    return authorization_server().create_endpoint_response("introspection")


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """Authorisation server metadata (RFC 8414)."""
    issuer = request.url_root.rstrip("/")
    return jsonify(
        {
            "issuer": issuer,
            "authorization_endpoint": url_for("auth.authorize", _external=True),
            "token_endpoint": url_for("oauth2.token", _external=True),
            "revocation_endpoint": url_for("oauth2.revoke", _external=True),
            "introspection_endpoint": url_for("oauth2.introspect", _external=True),
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": [*CLIENT_AUTH, "none"],
            "revocation_endpoint_auth_methods_supported": [*CLIENT_AUTH, "none"],
            "introspection_endpoint_auth_methods_supported": CLIENT_AUTH,
            "code_challenge_methods_supported": ["S256"],
            "service_documentation": url_for("rest.openapi", _external=True),
        }
    )
