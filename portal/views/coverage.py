"""The coverage grid, "who is left behind in the data": groups x places.

A cell (group, province) has data when a published dataset covers a place in
that province and its protected cube publishes (does not suppress) a count for
that group. Suppressed cells do not count as coverage: nothing about that
group can be read from the dataset. The grid says how many datasets, and the
most recent year of collection, or that there is none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from catalog.models import DatasetVersion
from indexer.search.base import MAX_LIMIT, SearchQuery
from portal.views.labels import dimension_label
from schema.vocabularies import DIMENSIONS
from schema.vocabularies.geography import GEOGRAPHY, place_at_level

#: Rows of the grid (age is left out: its bands are not groups left behind).
GRID_DIMENSIONS = (
    "caste_ethnicity",
    "disability",
    "sex",
    "sogi",
    "migration_status",
    "language",
    "urban_rural",
    "wealth_quintile",
)


@dataclass
class CoverageCell:
    datasets: set[str] = field(default_factory=set)
    latest_year: int | None = None

    def add(self, slug: str, year: int | None) -> None:
        self.datasets.add(slug)
        if year and (self.latest_year is None or year > self.latest_year):
            self.latest_year = year


@dataclass
class CoverageGrid:
    places: list[tuple[str, str]]  # (province code, label)
    groups: list[
        dict
    ]  # {"dimension", "label", "rows": [{"code", "label", "cells": [CoverageCell|None], "datasets"}]}
    dataset_count: int

    def summary(self) -> list[dict]:
        """Per dimension: how many of its groups any dataset covers (the home-page teaser)."""
        return [
            {
                "dimension": g["dimension"],
                "label": g["label"],
                "covered": sum(1 for r in g["rows"] if r["datasets"]),
                "total": len(g["rows"]),
            }
            for g in self.groups
        ]


def _year(doc: dict) -> int | None:
    for key in ("period_end", "period_start", "published_at"):
        value = doc.get(key)
        if value and str(value)[:4].isdigit():
            return int(str(value)[:4])
    return None


def coverage_grid(rt, lang: str, *, dimensions: tuple[str, ...] = GRID_DIMENSIONS) -> CoverageGrid:
    """Build the grid from every published dataset's document and protected cube."""
    result = rt.search.search(SearchQuery(facets=(), limit=MAX_LIMIT, sort="recent"))
    docs = [h.doc for h in result.hits]
    version_ids = [d["version_id"] for d in docs if d.get("version_id")]
    columns_of: dict[str, dict] = {}
    if version_ids:
        with rt.db.session() as session:
            for v in session.scalars(
                select(DatasetVersion).where(DatasetVersion.id.in_(version_ids))
            ):
                columns_of[v.id] = v.columns or {}
    provinces = GEOGRAPHY["province"]
    cells: dict[tuple[str, str, str], CoverageCell] = defaultdict(CoverageCell)
    anywhere: dict[tuple[str, str], set[str]] = defaultdict(set)
    for doc in docs:
        columns = columns_of.get(doc.get("version_id"), {})
        doc_provinces = {place_at_level(p, "province") for p in doc.get("places") or []} - {None}
        year = _year(doc)
        for dim_code in dimensions:
            dim = DIMENSIONS.get(dim_code)
            names = [n for n, spec in columns.items() if (spec or {}).get("dimension") == dim_code]
            for name in names:
                for cell in rt.search.cube(doc["id"], (name,)):
                    code = cell["dims"].get(name)
                    if cell["suppressed"] or not cell["count"] or dim is None or code not in dim:
                        continue
                    anywhere[(dim_code, code)].add(doc["slug"])
                    for prov in doc_provinces:
                        cells[(dim_code, code, prov)].add(doc["slug"], year)
    places = [(c.code, c.label(lang)) for c in provinces.codes]
    groups = []
    for dim_code in dimensions:
        dim = DIMENSIONS.get(dim_code)
        if dim is None:
            continue
        rows = []
        for code in dim.codes:
            row_cells = [cells.get((dim_code, code.code, p)) for p, _label in places]
            rows.append(
                {
                    "code": code.code,
                    "label": code.label(lang),
                    "cells": row_cells,
                    "datasets": sorted(anywhere.get((dim_code, code.code), ())),
                }
            )
        groups.append(
            {"dimension": dim_code, "label": dimension_label(dim_code, lang), "rows": rows}
        )
    return CoverageGrid(places=places, groups=groups, dataset_count=len(docs))
