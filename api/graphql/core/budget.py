"""Points per client per hour: each query pays its computed points before it runs.

A client is its principal when it sends a token or signs in (a larger budget),
else its address. The counters live in memory in the embedded deployment and in
Redis when ``CGD_REDIS_URL`` is set, so every worker process shares one budget.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

from limits import RateLimitItemPerHour
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from api.graphql.core.context import RateLimitState
from catalog.principal import Principal

ANONYMOUS_POINTS = 2_000
AUTHENTICATED_POINTS = 10_000


class WindowStats(NamedTuple):
    reset_time: float
    remaining: int


class MemoryWindows:
    """Fixed hourly windows in this process (the embedded deployment): a dict and a lock.

    ``limits``' own memory storage starts a timer thread to expire keys; one
    process does not need that, and a thread per request window is not free.
    """

    def __init__(self, window_seconds: int = 3600, max_keys: int = 100_000) -> None:
        self._window = window_seconds
        self._max_keys = max_keys
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def _current(self, key: str, now: float) -> tuple[float, int]:
        start, used = self._counts.get(key, (0.0, 0))
        if now >= start + self._window:
            start, used = now, 0
        return start, used

    def test(self, item, key: str, cost: int = 1) -> bool:
        with self._lock:
            _start, used = self._current(key, time.time())
            return used + cost <= item.amount

    def hit(self, item, key: str, cost: int = 1) -> bool:
        now = time.time()
        with self._lock:
            start, used = self._current(key, now)
            if len(self._counts) >= self._max_keys:
                self._counts = {k: v for k, v in self._counts.items() if now < v[0] + self._window}
            self._counts[key] = (start, used + cost)
            return used + cost <= item.amount

    def get_window_stats(self, item, key: str) -> WindowStats:
        now = time.time()
        with self._lock:
            start, used = self._current(key, now)
        reset = (start if used else now) + self._window
        return WindowStats(reset_time=reset, remaining=max(0, item.amount - used))


class BudgetExhausted(Exception):
    """This client has not enough points left this hour for the query."""

    def __init__(self, state: RateLimitState) -> None:
        super().__init__("rate limited")
        self.state = state


def client_key(principal: Principal, address: str | None) -> str:
    """Whose budget a request spends: the principal's, or the address's without one."""
    if principal.is_authenticated:
        if principal.user_id is not None:
            return f"user:{principal.user_id}"
        return f"client:{principal.client_id or principal.label or principal.kind}"
    return f"addr:{address or 'unknown'}"


@dataclass
class PointsBudget:
    """The hourly points of every client, in one storage (memory or Redis)."""

    storage_uri: str
    anonymous_points: int = ANONYMOUS_POINTS
    authenticated_points: int = AUTHENTICATED_POINTS
    enabled: bool = True
    key_prefix: str = "cgd-graphql"

    def __post_init__(self) -> None:
        if self.storage_uri.startswith("memory"):
            self._limiter = MemoryWindows()
        else:
            options = (
                {"key_prefix": self.key_prefix} if self.storage_uri.startswith("redis") else {}
            )
            self._limiter = FixedWindowRateLimiter(storage_from_string(self.storage_uri, **options))

    @classmethod
    def from_config(cls, config) -> PointsBudget:
        uri = config.get("GRAPHQL_RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
        return cls(
            storage_uri=uri,
            anonymous_points=int(config.get("GRAPHQL_POINTS_ANONYMOUS") or ANONYMOUS_POINTS),
            authenticated_points=int(
                config.get("GRAPHQL_POINTS_AUTHENTICATED") or AUTHENTICATED_POINTS
            ),
            enabled=bool(config.get("RATELIMIT_ENABLED", True)),
            key_prefix=config.get("GRAPHQL_RATELIMIT_KEY_PREFIX") or "cgd-graphql",
        )

    def limit_for(self, principal: Principal) -> int:
        return self.authenticated_points if principal.is_authenticated else self.anonymous_points

    def charge(self, key: str, limit: int, points: int, cost: int) -> RateLimitState:
        """Spend ``points`` of ``key``'s hour, or BudgetExhausted (nothing is spent then)."""
        item = RateLimitItemPerHour(limit)
        if self.enabled:
            if not self._limiter.test(item, key, cost=points):
                raise BudgetExhausted(self._state(item, key, limit, points, cost))
            self._limiter.hit(item, key, cost=points)
        return self._state(item, key, limit, points, cost)

    def _state(self, item, key: str, limit: int, points: int, cost: int) -> RateLimitState:
        if not self.enabled:
            return RateLimitState(
                limit=limit,
                cost=cost,
                points=points,
                remaining=limit,
                used=0,
                reset_at=time.time() + 3600,
            )
        stats = self._limiter.get_window_stats(item, key)
        remaining = max(0, int(stats.remaining))
        return RateLimitState(
            limit=limit,
            cost=cost,
            points=points,
            remaining=remaining,
            used=limit - remaining,
            reset_at=float(stats.reset_time),
        )
