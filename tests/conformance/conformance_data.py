"""Synthetic datasets, surveys and cubes for the conformance suite (no real data)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import polars as pl

SEXES = ["female", "male", "other"]
AGE_BANDS = ["0-17", "18-29", "30-44", "45-59", "60+"]
DISTRICTS = ["NP-KTM", "NP-LAL", "NP-BKT", "NP-KSK", "NP-MOR"]
DISABILITY = ["none", "physical", "visual", "hearing"]

COLUMNS = {
    "sex": {"role": "dimension", "dimension": "sex"},
    "age_band": {"role": "quasi_identifier", "dimension": "age"},
    "district": {"role": "dimension", "dimension": "district"},
    "disability": {"role": "dimension", "dimension": "disability"},
    "has_water": {"role": "other"},
    "household_size": {"role": "other"},
    "distance_km": {"role": "measure"},
    "comment": {"role": "free_text"},
}


@dataclass(frozen=True)
class CubeCell:
    """Shaped like indexer.disclosure's CubeCell."""

    dims: dict[str, str]
    count: int | None
    suppressed: bool
    means: dict[str, float | None] = field(default_factory=dict)


def dataset_doc(i: int, **overrides: Any) -> dict[str, Any]:
    doc = {
        "id": f"ds-{i}",
        "slug": f"dataset-{i}",
        "title": {"en": f"Household survey {i}", "ne": f"घरधुरी सर्वेक्षण {i}"},
        "description": {"en": "Synthetic survey of households.", "ne": "घरधुरीको कृत्रिम सर्वेक्षण।"},
        "organisation": {"slug": "nfdn", "name": "National Federation of the Disabled Nepal"},
        "topics": ["water"],
        "dimensions": ["sex", "age"],
        "places": ["NP-KTM"],
        "period_start": "2023-01-01",
        "period_end": "2023-12-31",
        "licence": "CC-BY-4.0",
        "languages": ["en", "ne"],
        "endorsed": False,
        "record_count": 10,
        "published_at": f"2024-01-{(i % 28) + 1:02d}T10:00:00+00:00",
        "source": "local",
        "version_id": "v1",
    }
    doc.update(overrides)
    return doc


def survey(n: int, seed: int = 1, tag: str = "v1") -> pl.DataFrame:
    rng = random.Random(seed)
    return pl.DataFrame(
        {
            "sex": [rng.choice(SEXES) for _ in range(n)],
            "age_band": [rng.choice(AGE_BANDS) for _ in range(n)],
            "district": [rng.choice(DISTRICTS) for _ in range(n)],
            "disability": [rng.choice(DISABILITY) for _ in range(n)],
            "has_water": [rng.random() < 0.6 for _ in range(n)],
            "household_size": [rng.randint(1, 9) for _ in range(n)],
            "distance_km": [round(rng.random() * 5, 2) for _ in range(n)],
            "comment": [f"{tag} row {i}" for i in range(n)],
        }
    )


def cube_for(df: pl.DataFrame, dims: list[tuple[str, ...]], threshold: int = 10) -> list[CubeCell]:
    """Counts and mean distance for each combination; small cells suppressed."""
    cells = []
    for by in dims:
        grouped = df.group_by(list(by)).agg(
            pl.len().alias("n"), pl.col("distance_km").mean().alias("m")
        )
        for row in grouped.iter_rows(named=True):
            small = row["n"] < threshold
            cells.append(
                CubeCell(
                    dims={d: str(row[d]) for d in by},
                    count=None if small else int(row["n"]),
                    suppressed=small,
                    means={"distance_km": None if small else float(row["m"])},
                )
            )
    return cells
