"""Error types shared by every layer.

Every error carries a stable ``code`` and a list of :class:`Problem` records
naming where the problem is (file, row, column, field).  Interfaces (CLI,
REST, GraphQL, web) turn them into their own messages in one place each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where it is."""

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        if self.field:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class CGDError(Exception):
    """Base error: a stable code, a one-line message and the problems behind it."""

    message: str
    code: str = "error"
    problems: list[Problem] = field(default_factory=list)
    status: int = 400

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.problems:
            out["problems"] = [p.to_dict() for p in self.problems]
        return out


class InvalidInput(CGDError):
    """The input (file or metadata) breaks the standard."""

    def __init__(
        self, message: str, problems: list[Problem] | None = None, code: str = "invalid_input"
    ):
        super().__init__(message=message, code=code, problems=list(problems or []), status=400)


class NotFound(CGDError):
    def __init__(self, message: str, code: str = "not_found"):
        super().__init__(message=message, code=code, status=404)


class PermissionDenied(CGDError):
    def __init__(self, message: str = "You may not do this.", code: str = "forbidden"):
        super().__init__(message=message, code=code, status=403)


class Conflict(CGDError):
    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message=message, code=code, status=409)
