"""Downloads of a published version's anonymised records: CSV, JSON, HXL row, Data Package.

Records are read from the published version's records file (written by the
anonymisation step), never from the raw upload; columns a version marks as
direct identifiers are dropped again here as a second line of defence.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import polars as pl

from api.federation.published import PublishedDataset
from catalog.models import DatasetVersion
from indexer.storage import FileStore
from schema.errors import NotFound
from schema.roles import ColumnRole, ColumnSpec
from schema.tableschema import table_schema
from schema.vocabularies import DIMENSIONS

_ATTR = re.compile(r"[^a-z0-9_]+")
#: A cell a spreadsheet would run as a formula (OWASP "CSV injection"), unless it is a plain number.
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_FORMULA_CELL = re.compile(_FORMULA_START)
_NUMBER_CELL = re.compile(_PLAIN_NUMBER)


def neutralise_cell(value: str) -> str:
    """``'=1+1`` for ``=1+1``: a spreadsheet shows the text instead of running it; numbers stay."""
    if _FORMULA_CELL.match(value) and not _NUMBER_CELL.match(value):
        return "'" + value
    return value


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that a spreadsheet would read as a formula gets a leading apostrophe."""
    text = [c for c, t in df.schema.items() if t == pl.Utf8]
    if not text:
        return df
    return df.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START) & ~pl.col(c).str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def column_specs(version: DatasetVersion) -> dict[str, ColumnSpec]:
    return {n: ColumnSpec.from_dict(n, c or {}) for n, c in (version.columns or {}).items()}


def public_records(files: FileStore, version: DatasetVersion | None) -> pl.DataFrame:
    """The anonymised records of a published version (NotFound when there are none)."""
    if version is None or not version.records_path:
        raise NotFound("This dataset has no downloadable records here.", code="no_records")
    df = pl.read_parquet(files.path(version.records_path))
    specs = column_specs(version)
    drop = [c for c in df.columns if c in specs and specs[c].role == ColumnRole.DIRECT_IDENTIFIER]
    return df.drop(drop) if drop else df


def hxl_tags(columns: list[str], specs: dict[str, ColumnSpec]) -> list[str]:
    """The HXL hashtag row: dimension tags from the vocabularies, measures as numeric indicators."""
    tags = []
    for name in columns:
        spec = specs.get(name)
        dim = DIMENSIONS.get(spec.dimension) if spec and spec.dimension else None
        attr = _ATTR.sub("_", name.lower()).strip("_")
        attr = f"+{attr}" if attr and attr[0].isalpha() else ""
        if dim is not None and dim.hxl is not None:
            tags.append(dim.hxl.tag())
        elif spec is not None and spec.role == ColumnRole.MEASURE:
            tags.append(f"#indicator+num{attr}")
        elif spec is not None and spec.role == ColumnRole.FREE_TEXT:
            tags.append("#description")
        elif dim is not None or (
            spec is not None and spec.role in (ColumnRole.DIMENSION, ColumnRole.QUASI_IDENTIFIER)
        ):
            tags.append(f"#group{attr}")
        else:
            tags.append("")
    return tags


def csv_text(df: pl.DataFrame, hxl: list[str] | None = None) -> str:
    """UTF-8 CSV with a header row, then the HXL row when given, then the records.

    CSV is opened in spreadsheets, so formula-like cells (and names) are neutralised.
    """
    head = io.StringIO()
    writer = csv.writer(head, lineterminator="\n")
    writer.writerow([neutralise_cell(c) for c in df.columns])
    if hxl is not None:
        writer.writerow(hxl)
    return head.getvalue() + neutralise_formulas(df).write_csv(include_header=False)


def json_text(df: pl.DataFrame, hxl: list[str] | None = None) -> str:
    """Records as a JSON array of objects; with HXL, the HXL JSON form (arrays: header, tags, rows)."""
    if hxl is None:
        return json.dumps(df.to_dicts(), ensure_ascii=False, default=str)
    rows = [list(r) for r in df.iter_rows()]
    return json.dumps([df.columns, hxl, *rows], ensure_ascii=False, default=str)


def records_schema(df: pl.DataFrame, version: DatasetVersion) -> dict[str, Any]:
    """Table Schema of the published CSV: fields in the CSV's order and true to its values."""
    specs = column_specs(version)
    ordered = {n: specs.get(n) or ColumnSpec(name=n, role=ColumnRole.OTHER) for n in df.columns}
    schema = table_schema(ordered)
    by_name = {f["name"]: f for f in schema["fields"]}
    fields = []
    for name in df.columns:
        field = dict(by_name.get(name) or {"name": name, "type": "string"})
        series = df[name]
        if field.get("type") == "number" and not series.dtype.is_numeric():
            cast = series.cast(pl.Float64, strict=False)
            if cast.null_count() != series.null_count():
                field["type"] = "string"  # a measure the anonymiser coarsened to bands
        enum = (field.get("constraints") or {}).get("enum")
        if enum is not None:
            seen = [str(v) for v in series.drop_nulls().unique().sort().to_list()]
            extra = [v for v in seen if v not in enum]
            if extra:
                # Generalisation adds codes such as "other"; the schema says what is there.
                field["constraints"] = {"enum": [*enum, *extra]}
        if series.dtype.is_integer():
            field["type"] = "integer"
        elif series.dtype.is_float():
            field["type"] = "number"
        elif series.dtype == pl.Boolean:
            field["type"] = "boolean"
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def datapackage(item: PublishedDataset, df: pl.DataFrame, *, csv_path: str) -> dict[str, Any]:
    """A Frictionless (tabular) Data Package descriptor for the published version."""
    version = item.version
    name = re.sub(r"[^a-z0-9._-]+", "-", item.dataset.slug.lower()) or "dataset"
    descriptor: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": name,
        "id": item.uri,
        "title": item.title("en"),
        "description": item.description("en"),
        "homepage": item.landing_page,
        "version": f"{version.number}.0.0" if version is not None else "1.0.0",
        "created": item.issued.isoformat() if item.issued else item.created.isoformat(),
        "keywords": item.keywords,
        "contributors": [
            {"title": item.publisher["name"], "path": item.publisher["uri"], "role": "publisher"}
        ],
        "sources": [{"title": item.publisher["name"], "path": item.landing_page}],
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": "records",
                "title": "Anonymised records",
                "path": csv_path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "header": True},
                "schema": records_schema(df, version),
            }
        ],
    }
    if item.licence_id:
        lic: dict[str, Any] = {"name": item.licence_id}
        if item.licence_url:
            lic["path"] = item.licence_url
        if item.licence_title:
            lic["title"] = item.licence_title
        descriptor["licenses"] = [lic]
    return descriptor
