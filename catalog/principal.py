"""Who is acting: a person, a token acting for a person or client, the system, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = (
    "datasets:read-private",
    "datasets:write",
    "datasets:publish",
    "endorsements:write",
    "org:admin",
)


@dataclass(frozen=True)
class Principal:
    """The acting principal every catalogue service receives.

    ``scopes`` is None for a person signed in to the portal (all scopes their
    roles allow); a token carries the scopes it was granted.
    ``organisation_ids`` is None when not narrowed; a token may be bound to a
    subset of its owner's organisations (personal access tokens, clients).
    """

    kind: str  # "anonymous" | "user" | "token" | "system"
    user_id: int | None = None
    is_admin: bool = False
    scopes: frozenset[str] | None = None
    organisation_ids: frozenset[int] | None = None
    client_id: str | None = None
    label: str = ""

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def actor(self) -> str:
        if self.kind == "system":
            return self.label or "system"
        if self.kind == "anonymous":
            return "anonymous"
        who = f"user:{self.user_id}" if self.user_id else f"client:{self.client_id}"
        return f"{who} via {self.client_id}" if self.kind == "token" and self.user_id else who

    def has_scope(self, scope: str) -> bool:
        return self.kind == "system" or self.scopes is None or scope in self.scopes


ANONYMOUS = Principal(kind="anonymous")


def system(label: str = "system") -> Principal:
    return Principal(kind="system", is_admin=True, label=label)
