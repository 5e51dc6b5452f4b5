"""Contributor access: OAuth2 clients, authorisation codes, tokens and invitations.

Secrets are never stored: clients keep the sha256 of their secret, tokens the
sha256 of the access and refresh values, codes and invitations likewise. The
values are 256-bit random strings, so a plain hash is enough (no salt or
slow hash needed, unlike passwords).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Base, as_utc, new_id, utcnow


class OAuthClient(Base):
    """An application registered by an organisation admin.

    A confidential client (with a secret) may use client credentials: it then
    acts for its organisation through the admin who registered it, so it never
    holds more than that person's role. A public client (no secret) may only
    use the authorisation code flow with PKCE.
    """

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uris: Mapped[list[Any]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text, default="")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_confidential(self) -> bool:
        return self.client_secret_hash is not None


class OAuthAuthorizationCode(Base):
    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    organisation_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def expired(self) -> bool:
        return as_utc(self.expires_at) <= datetime.now(UTC)


class OAuthToken(Base):
    """An access token, from an OAuth2 grant or a personal access token (``client_id`` None).

    Refresh tokens rotate: each refresh issues a new row in the same
    ``family_id`` and marks the old refresh token used; presenting a used one
    again revokes the whole family.
    """

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_family", "family_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "oauth" | "personal"
    name: Mapped[str] = mapped_column(String(200), default="")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), default=new_id)
    client_id: Mapped[str | None] = mapped_column(String(64))
    grant_type: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text, default="")
    organisation_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_used: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def expired(self) -> bool:
        return as_utc(self.expires_at) <= datetime.now(UTC)

    @property
    def refresh_expired(self) -> bool:
        return self.refresh_expires_at is None or as_utc(self.refresh_expires_at) <= datetime.now(
            UTC
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired

    # What authlib asks of a token (duck-typed TokenMixin).
    def check_client(self, client) -> bool:
        return client is not None and self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((as_utc(self.expires_at) - as_utc(self.issued_at)).total_seconds()))

    def is_expired(self) -> bool:
        return self.expired

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Invitation(Base):
    """An organisation admin's invitation for an e-mail address to join with a role."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(Integer)

    @property
    def expired(self) -> bool:
        return as_utc(self.expires_at) <= datetime.now(UTC)
