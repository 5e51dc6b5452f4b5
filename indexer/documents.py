"""The search document of a dataset: what the public index knows about it."""

from __future__ import annotations

from typing import Any

from catalog.models import Dataset, DatasetVersion
from catalog.services.reviews import is_endorsed


def dataset_document(dataset: Dataset, version: DatasetVersion | None) -> dict[str, Any]:
    """Build the public search document from the catalogue (published facts only)."""
    meta = dataset.metadata_ or {}
    columns = (version.columns if version else None) or {}
    dimensions = sorted(
        {
            c["dimension"]
            for c in columns.values()
            if c.get("dimension") and c.get("role") in ("dimension", "quasi_identifier")
        }
    )
    coverage = meta.get("coverage") or {}
    period = meta.get("period") or {}
    report = (version.disclosure_report if version else None) or {}
    return {
        "id": dataset.id,
        "slug": dataset.slug,
        "title": meta.get("title") or {},
        "description": meta.get("description") or {},
        "organisation": {"slug": dataset.organisation.slug, "name": dataset.organisation.name},
        "topics": list(meta.get("topics") or []),
        "dimensions": dimensions,
        "places": list(coverage.get("places") or []),
        "period_start": period.get("start"),
        "period_end": period.get("end"),
        "licence": meta.get("licence"),
        "languages": list(meta.get("languages") or []),
        "endorsed": is_endorsed(version),
        "record_count": version.record_count if version else 0,
        "published_at": version.published_at.isoformat()
        if version and version.published_at
        else None,
        "source": dataset.source,
        "version_id": version.id if version else None,
        "extra": {
            "version_number": version.number if version else None,
            "k": report.get("k"),
        },
    }
