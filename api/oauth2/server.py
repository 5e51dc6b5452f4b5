"""authlib's authorisation server wired to the catalogue.

Grants: authorisation code with PKCE (S256 only, always required), client
credentials (confidential clients, acting for their organisation), refresh
tokens with rotation and reuse detection. Endpoints: revocation (RFC 7009),
introspection (RFC 7662). Only hashes of codes, tokens and secrets are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app, request
from sqlalchemy import select, update

from api.context import runtime
from catalog.oauth_models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from catalog.principal import SCOPES
from catalog.services import clients as client_service
from catalog.services import tokens as token_service

CODE_LIFETIME = timedelta(minutes=5)
CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class GrantUser:
    """Who granted access and for which of their organisations (chosen on the consent page)."""

    user_id: int
    organisation_ids: tuple[int, ...]

    def get_user_id(self) -> int:
        return self.user_id


class Client:
    """authlib's view of a catalogue client (keeps authlib out of the catalogue)."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.client_id
        self.organisation_id = row.organisation_id
        self.owner_id = row.owner_id
        self.name = row.name

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.row.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.row.redirect_uris or [])

    def check_client_secret(self, client_secret: str) -> bool:
        return client_service.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.is_confidential:
            return method in CLIENT_AUTH
        return method == "none" and endpoint in {"token", "revocation"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.row.grant_types or [])


class AuthorizationCode:
    def __init__(self, row: OAuthAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class S256Challenge(CodeChallenge):
    """PKCE on every authorisation request, with S256 only (plain is refused)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with method S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        return super().validate_code_challenge(grant, redirect_uri)


class _ClientScope:
    """A grant asks only for scopes the client was registered with."""

    def validate_requested_scope(self):
        super().validate_requested_scope()
        wanted = (self.request.payload.scope or "").split()
        if wanted and len(self.client.get_allowed_scope(" ".join(wanted)).split()) != len(
            set(wanted)
        ):
            raise InvalidScopeError("The client was not registered for that scope.")


class AuthorizationCodeGrant(_ClientScope, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CLIENT_AUTH, "none"]

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        # authlib quotes the refused URI in its error, and refuses to build an error
        # holding '"' or '\\' (ValueError, a 500): the message names no client input.
        uri = request.payload.redirect_uri
        if uri and not client.check_redirect_uri(uri):
            raise InvalidRequestError("The redirect URI is not registered for this client.")
        return grants.AuthorizationCodeGrant.validate_authorization_redirect_uri(request, client)

    def save_authorization_code(self, code, request):
        data = request.payload.data
        user: GrantUser = request.user
        with runtime().db.session() as session:
            session.add(
                OAuthAuthorizationCode(
                    code_hash=token_service.digest(code),
                    client_id=request.client.client_id,
                    user_id=user.user_id,
                    redirect_uri=request.payload.redirect_uri or "",
                    scope=request.payload.scope or "",
                    organisation_ids=list(user.organisation_ids),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    expires_at=datetime.now(UTC) + CODE_LIFETIME,
                )
            )

    def query_authorization_code(self, code, client):
        with runtime().db.session() as session:
            # Single use, atomically: a code presented twice finds nothing the second time.
            claimed = session.execute(
                update(OAuthAuthorizationCode)
                .where(
                    OAuthAuthorizationCode.code_hash == token_service.digest(code),
                    OAuthAuthorizationCode.client_id == client.client_id,
                    OAuthAuthorizationCode.used.is_(False),
                )
                .values(used=True)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                return None
            row = session.scalar(
                select(OAuthAuthorizationCode).where(
                    OAuthAuthorizationCode.code_hash == token_service.digest(code)
                )
            )
            if row is None or row.expired:
                return None
            return AuthorizationCode(row)

    def delete_authorization_code(self, authorization_code):
        with runtime().db.session() as session:
            session.execute(
                update(OAuthAuthorizationCode)
                .where(OAuthAuthorizationCode.id == authorization_code.row.id)
                .values(used=True)
            )

    def authenticate_user(self, authorization_code):
        row = authorization_code.row
        return GrantUser(row.user_id, tuple(row.organisation_ids or ()))


class ClientCredentialsGrant(_ClientScope, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CLIENT_AUTH, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        with runtime().db.session() as session:
            return token_service.redeem_refresh_token(session, refresh_token)

    def authenticate_user(self, refresh_token: OAuthToken):
        return GrantUser(refresh_token.user_id, tuple(refresh_token.organisation_ids or ()))

    def revoke_old_credential(self, refresh_token: OAuthToken):
        with runtime().db.session() as session:
            token = session.get(OAuthToken, refresh_token.id)
            if token is not None:
                token_service.mark_refreshed(session, token)


class _TokenQuery:
    def query_token(self, token_string, token_type_hint):
        with runtime().db.session() as session:
            token = None
            if token_type_hint != "refresh_token":  # noqa: S105 - a hint name, not a secret
                token = token_service.find_access_token(session, token_string)
            if token is None and token_type_hint != "access_token":  # noqa: S105
                token = token_service.find_refresh_token(session, token_string)
            return token


class Revocation(_TokenQuery, RevocationEndpoint):
    CLIENT_AUTH_METHODS = [*CLIENT_AUTH, "none"]

    def revoke_token(self, token: OAuthToken, request):
        with runtime().db.session() as session:
            row = session.get(OAuthToken, token.id)
            if row is not None:
                token_service.revoke(session, row, family=True)


class Introspection(_TokenQuery, IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH

    def check_permission(self, token: OAuthToken, client: Client, request) -> bool:
        # A resource server may look at tokens issued to it, or acting for its organisation.
        return token.client_id == client.client_id or client.organisation_id in (
            token.organisation_ids or []
        )

    def introspect_token(self, token: OAuthToken) -> dict:
        return {
            "active": True,
            "scope": token.scope,
            "client_id": token.client_id,
            "token_type": "Bearer",
            "sub": str(token.user_id) if token.user_id else None,
            "exp": int(token.expires_at.replace(tzinfo=token.expires_at.tzinfo or UTC).timestamp()),
            "iat": int(token.issued_at.replace(tzinfo=token.issued_at.tzinfo or UTC).timestamp()),
            "iss": request.url_root.rstrip("/"),
            "organisations": list(token.organisation_ids or []),
        }


def _query_client(client_id: str) -> Client | None:
    with runtime().db.session() as session:
        row = client_service.get_client(session, client_id)
        return Client(row) if row is not None else None


def _save_token(token: dict, request) -> None:
    client: Client = request.client
    grant_type = request.payload.grant_type if request.payload else ""
    user: GrantUser | None = request.user
    family_id = None
    if grant_type == "refresh_token":
        family_id = request.refresh_token.family_id
    if grant_type == "client_credentials" and not token.get("scope"):
        token["scope"] = client.row.scope
    if user is None:
        # Client credentials: the client acts for its organisation through the admin
        # who registered it, so it never holds more than that person's role.
        user = GrantUser(client.owner_id, (client.organisation_id,))
    with runtime().db.session() as session:
        token_service.save_oauth_token(
            session,
            token,
            client=client.row,
            user_id=user.user_id,
            organisation_ids=list(user.organisation_ids),
            grant_type=grant_type,
            family_id=family_id,
        )


class CGDAuthorizationServer(AuthorizationServer):
    """authlib's server, whose consent step answers hostile parameters with an OAuth error."""

    def get_consent_grant(self, request=None, end_user=None):
        try:
            return super().get_consent_grant(request, end_user=end_user)
        except ValueError:
            # authlib builds some errors from the request (e.g. an unsupported response_type)
            # and refuses characters an error description may not hold.
            raise InvalidRequestError(
                "The request holds characters that are not allowed."
            ) from None


def init_oauth2(app: Flask) -> AuthorizationServer:
    """One authorisation server per app (tests build several apps in one process)."""
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN",
        {
            "authorization_code": token_service.ACCESS_TOKEN_SECONDS,
            "client_credentials": token_service.ACCESS_TOKEN_SECONDS,
            "refresh_token": token_service.ACCESS_TOKEN_SECONDS,
        },
    )
    server = CGDAuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(AuthorizationCodeGrant, [S256Challenge(required=True)])
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    app.extensions["cgd_oauth2"] = server
    return server


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["cgd_oauth2"]
