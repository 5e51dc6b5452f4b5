"""What every resolver of one GraphQL request shares: language, principal, loaders, cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql_sync_dataloaders import SyncDataLoader
from sqlalchemy.orm import Session

from catalog.principal import ANONYMOUS, Principal

SUPPORTED_LANGUAGES = ("en", "ne")


@dataclass
class RateLimitState:
    """The figures ``rateLimit`` reports: computed before execution."""

    limit: int = 0
    cost: int = 0
    points: int = 0
    remaining: int = 0
    used: int = 0
    reset_at: float = 0.0


@dataclass
class GraphQLContext:
    """Per-request state; loaders are created on first use and live for the request only."""

    runtime: Any
    lang: str = "en"
    principal: Principal = ANONYMOUS
    base_url: str = ""
    rate_limit: RateLimitState = field(default_factory=RateLimitState)
    _loaders: dict[str, SyncDataLoader] = field(default_factory=dict)
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """One read-only catalogue session for the whole request (closed by :meth:`close`)."""
        if self._session is None:
            self._session = self.runtime.db.sessionmaker()
        return self._session

    def loader(self, name: str, batch: Callable[[GraphQLContext, list], list]) -> SyncDataLoader:
        """The request's DataLoader called ``name``, batching with ``batch(ctx, keys)``."""
        found = self._loaders.get(name)
        if found is None:
            found = self._loaders[name] = SyncDataLoader(lambda keys: batch(self, list(keys)))
        return found

    def close(self) -> None:
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None


def context_of(info) -> GraphQLContext:
    return info.context


def pick_language(values: dict[str, str] | None, lang: str) -> str | None:
    """The text in ``lang``, else English, else any language there is."""
    values = values or {}
    return values.get(lang) or values.get("en") or next(iter(values.values()), None)


def normalise_language(lang: str | None) -> str | None:
    if not lang:
        return None
    lang = lang.strip().lower().split("-")[0]
    return lang if lang.isalpha() and len(lang) <= 8 else None
