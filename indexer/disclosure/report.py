"""The anonymisation report shown to the publisher and, in summary, to the public."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from schema.roles import ColumnSpec


@dataclass
class DroppedColumn:
    column: str
    reason: (
        str  # declared_identifier, detected_identifier, collection_metadata, sensitive_free_text...
    )
    kind: str | None = None  # phone, email, national_id, gps, name, ...
    evidence: str | None = None  # role, values, column_name
    share: float | None = None


@dataclass
class DisclosureReport:
    """What disclosure control did to one dataset version, and the risk left."""

    records_in: int = 0
    records_out: int = 0
    k_target: int = 5
    l_target: int = 2
    k: int | None = None
    l: int | None = None  # noqa: E741
    l_target_reachable: bool = True
    quasi_identifiers: list[str] = field(default_factory=list)
    #: "other" columns given their suggested, more protective role (name -> role)
    promoted: dict[str, str] = field(default_factory=dict)
    sensitive_columns: list[str] = field(default_factory=list)
    dropped: list[DroppedColumn] = field(default_factory=list)
    scrubbed: dict[str, int] = field(default_factory=dict)
    scrubbed_columns: list[str] = field(default_factory=list)
    generalisations: list[dict] = field(default_factory=list)
    suppressed_cells: dict[str, int] = field(default_factory=dict)
    records_with_suppression: int = 0
    records_dropped: int = 0
    risk_before: dict = field(default_factory=dict)
    risk_after: dict = field(default_factory=dict)
    free_text_preview: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (stored with the version)."""
        out = asdict(self)
        out["suppressed_cells_total"] = sum(self.suppressed_cells.values())
        return out

    def summary(self) -> dict:
        """What the public sees: no preview, no risk details per record."""
        return {
            "k": self.k,
            "l": self.l,
            "columns_dropped": len(self.dropped),
            "values_scrubbed": sum(self.scrubbed.values()),
            "generalisations": [f"{g['column']}: {g['to']}" for g in self.generalisations],
            "cells_suppressed": sum(self.suppressed_cells.values()),
            "records_dropped": self.records_dropped,
            "expected_reidentifications_after": self.risk_after.get("expected_reidentifications"),
        }


@dataclass
class AnonymisedTable:
    """Records safe to index, their published columns, and the report."""

    records: pl.DataFrame
    columns: dict[str, ColumnSpec]
    report: DisclosureReport
