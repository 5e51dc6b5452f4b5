"""The ``aggregate`` query: at most three dimensions, from the protected cube only."""

from __future__ import annotations

import graphene
from sqlalchemy import select

from api.graphql.aggregates import cache as aggregate_cache
from api.graphql.aggregates.types import (
    Aggregate,
    AggregateCell,
    CellDimension,
    DimensionFilter,
    MeasureMean,
)
from api.graphql.core.refs import published_dataset_id
from api.graphql.datasets.types import DIMENSION_ROLES, DatasetSource
from schema.errors import InvalidInput, NotFound, Problem
from schema.vocabularies import DIMENSIONS

MAX_DIMENSIONS = 3


def dimension_columns(columns: dict) -> dict[str, str | None]:
    """Column -> standard dimension code, for the columns an aggregate may use."""
    return {
        name: (spec or {}).get("dimension")
        for name, spec in (columns or {}).items()
        if (spec or {}).get("role") in DIMENSION_ROLES
    }


def _column_for(name: str, columns: dict[str, str | None]) -> str | None:
    if name in columns:
        return name
    matches = [c for c, d in columns.items() if d == name]
    return matches[0] if len(matches) == 1 else None


def _code_for(raw: str, dimension: str | None) -> str:
    dim = DIMENSIONS.get(dimension or "")
    if dim is None or raw in dim:
        return raw
    return dim.match(raw) or raw


def resolve_request(
    columns: dict[str, str | None], by: list[str], filters: list[dict]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The cube request (columns grouped by, column -> code filters), or InvalidInput."""
    problems: list[Problem] = []
    by_cols: list[str] = []
    for name in by:
        col = _column_for(name, columns)
        if col is None:
            problems.append(
                Problem("unknown_dimension", f"no dimension {name!r} in this dataset", field="by")
            )
        elif col in by_cols:
            problems.append(Problem("duplicate_dimension", f"{name!r} is given twice", field="by"))
        else:
            by_cols.append(col)
    filter_codes: dict[str, str] = {}
    for item in filters:
        col = _column_for(item["dimension"], columns)
        if col is None:
            problems.append(
                Problem(
                    "unknown_dimension",
                    f"no dimension {item['dimension']!r} in this dataset",
                    field="filter",
                )
            )
        elif col in by_cols or col in filter_codes:
            problems.append(
                Problem(
                    "duplicate_dimension", f"{item['dimension']!r} is used twice", field="filter"
                )
            )
        else:
            filter_codes[col] = _code_for(item["code"], columns[col])
    if len(by_cols) + len(filter_codes) > MAX_DIMENSIONS:
        problems.append(
            Problem(
                "too_many_dimensions",
                f"at most {MAX_DIMENSIONS} dimensions, counting filtered ones",
                field="by",
            )
        )
    if problems:
        code = (
            "too_many_dimensions"
            if any(p.code == "too_many_dimensions" for p in problems)
            else "invalid_aggregate"
        )
        raise InvalidInput(
            "The aggregate cannot be answered: " + "; ".join(p.message for p in problems),
            problems,
            code=code,
        )
    return tuple(by_cols), filter_codes


class AggregateQueries(graphene.ObjectType):
    aggregate = graphene.Field(
        Aggregate,
        required=True,
        dataset=graphene.String(required=True, description="Dataset id, global ID or slug"),
        by=graphene.List(graphene.NonNull(graphene.String), required=True),
        filter=graphene.List(graphene.NonNull(DimensionFilter)),
        description=(
            "Counts and means by up to three dimensions (filtered ones included), from the "
            "protected cube: small cells are suppressed, the rest perturbed."
        ),
    )

    @staticmethod
    def resolve_aggregate(root, info, dataset, by, filter=None):
        ctx = info.context
        dataset_id = published_dataset_id(ctx, dataset)
        doc = ctx.runtime.search.get_dataset(dataset_id)
        if doc is None:  # withdrawn since the reference was resolved
            raise NotFound(f"No dataset {dataset!r}.", code="dataset_not_found")
        engine = ctx.runtime.db.engine
        key = aggregate_cache.key_of(dataset_id, doc.get("version_id"), by, filter or [])
        generation_now, kept = aggregate_cache.get(engine, key)
        if kept is None:
            from catalog.models import DatasetVersion

            version_columns = (
                ctx.session.scalar(
                    select(DatasetVersion.columns).where(DatasetVersion.id == doc["version_id"])
                )
                if doc.get("version_id")
                else None
            )
            columns = dimension_columns(version_columns or {})
            by_cols, filter_codes = resolve_request(columns, list(by), list(filter or []))
            raw_cells = ctx.runtime.search.cube(dataset_id, by_cols, filter_codes or None)
            kept = (columns, by_cols, raw_cells)
            aggregate_cache.put(engine, generation_now, key, kept)
        columns, by_cols, raw_cells = kept
        cells = []
        for raw in raw_cells:
            dims = raw["dims"]
            order = [*by_cols, *[c for c in dims if c not in by_cols]]
            cells.append(
                AggregateCell(
                    dimensions=[
                        CellDimension(column=c, dimension=columns.get(c), code=str(dims[c]))
                        for c in order
                        if c in dims
                    ],
                    count=raw["count"],
                    suppressed=bool(raw["suppressed"]),
                    means=[
                        MeasureMean(measure=k, value=v) for k, v in (raw.get("means") or {}).items()
                    ],
                )
            )
        return Aggregate(dataset=DatasetSource(doc=doc), by=list(by_cols), cells=cells)
