"""Column roles of the CGD standard."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnRole(StrEnum):
    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    DIMENSION = "dimension"
    MEASURE = "measure"
    FREE_TEXT = "free_text"
    OTHER = "other"


@dataclass(frozen=True)
class ColumnSpec:
    """How one column of an upload is to be treated.

    ``dimension`` names a standard disaggregation dimension (``sex``, ``age``,
    ``district``...) for ``dimension`` and ``quasi_identifier`` columns.
    ``sensitive`` marks a sensitive attribute for l-diversity.
    """

    name: str
    role: ColumnRole
    dimension: str | None = None
    sensitive: bool = False
    label: str | None = None

    def to_dict(self) -> dict:
        out = {"name": self.name, "role": str(self.role)}
        if self.dimension:
            out["dimension"] = self.dimension
        if self.sensitive:
            out["sensitive"] = True
        if self.label:
            out["label"] = self.label
        return out

    @classmethod
    def from_dict(cls, name: str, data: dict) -> ColumnSpec:
        return cls(
            name=name,
            role=ColumnRole(data.get("role", "other")),
            dimension=data.get("dimension"),
            sensitive=bool(data.get("sensitive", False)),
            label=data.get("label"),
        )
