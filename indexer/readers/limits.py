"""Limits on what a reader accepts, and the problems they raise."""

from __future__ import annotations

from dataclasses import dataclass

from schema.errors import InvalidInput, Problem


@dataclass(frozen=True)
class Limits:
    """Bounds on an upload; each breach is a clear error, never a crash.

    ``max_uncompressed_bytes`` and ``max_compression_ratio`` guard XLSX (zip)
    files against decompression bombs.
    """

    max_bytes: int = 512 * 1024 * 1024
    max_rows: int = 2_000_000
    max_columns: int = 500
    max_cell_chars: int = 32_767  # Excel's own cell limit
    max_header_chars: int = 200
    max_uncompressed_bytes: int = 2 * 1024 * 1024 * 1024
    max_compression_ratio: int = 200
    max_problems: int = 200


DEFAULT_LIMITS = Limits()


def fail(filename: str, code: str, message: str, **where) -> InvalidInput:
    """An InvalidInput with a single problem located in ``filename``."""
    return InvalidInput(
        f"{filename}: {message}", [Problem(code, message, file=filename, **where)], code=code
    )


class ProblemList(list):
    """Problems of one file, capped at ``limit`` with a final summary problem."""

    def __init__(self, filename: str, limit: int) -> None:
        super().__init__()
        self.filename = filename
        self.limit = limit
        self.dropped = 0

    def add(
        self, code: str, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        if len(self) < self.limit:
            self.append(Problem(code, message, file=self.filename, row=row, column=column))
        else:
            self.dropped += 1

    @property
    def full(self) -> bool:
        return len(self) >= self.limit

    def raise_if_any(self, summary: str = "The file cannot be imported") -> None:
        if not self:
            return
        problems = list(self)
        if self.dropped:
            problems.append(
                Problem(
                    "too_many_problems",
                    f"... and {self.dropped} more problems not listed.",
                    file=self.filename,
                )
            )
        n = len(self) + self.dropped
        code = problems[0].code if len({p.code for p in self}) == 1 else "invalid_file"
        raise InvalidInput(
            f"{self.filename}: {summary} ({n} problem{'s' if n != 1 else ''}).", problems, code=code
        )
