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
    """The spreadsheet CSV (``download.csv``): header row, the HXL row when given, then the records.

    This is the file people open in Excel or LibreOffice, so formula-like cells
    (and names) are neutralised with a leading apostrophe. That changes values,
    so no Data Package describes this file: see :func:`package_csv_text`.
    """
    head = io.StringIO()
    writer = csv.writer(head, lineterminator="\n")
    writer.writerow([neutralise_cell(c) for c in df.columns])
    if hxl is not None:
        writer.writerow(hxl)
    return head.getvalue() + neutralise_formulas(df).write_csv(include_header=False)


def package_csv_text(df: pl.DataFrame) -> str:
    """The CSV a Data Package describes: the true header and values, RFC 4180 quoting only.

    A Data Package is a contract for programs (frictionless, pandas, R, a
    harvester): its Table Schema names the fields and types, and the CSV must
    carry exactly those names and the values ``download.json`` gives. The
    apostrophe that protects a spreadsheet user would be data here (``'@ward``
    instead of ``@ward``, ``'- note`` instead of ``- note``), so it is not
    added. CSV readers do not execute cells; quoting (a cell with a comma,
    quote or line break, or a name like that, is quoted and its quotes doubled)
    is all they need. People who open records in a spreadsheet are given
    ``download.csv``, which stays neutralised; the package's resource says so.
    """
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(df.columns)
    return head.getvalue() + df.write_csv(include_header=False)


def json_text(df: pl.DataFrame, hxl: list[str] | None = None) -> str:
    """Records as a JSON array of objects; with HXL, the HXL JSON form (arrays: header, tags, rows)."""
    if hxl is None:
        return json.dumps(df.to_dicts(), ensure_ascii=False, default=str)
    rows = [list(r) for r in df.iter_rows()]
    return json.dumps([df.columns, hxl, *rows], ensure_ascii=False, default=str)


def _typed(value: Any, kind: str) -> Any:
    """``value`` as a Table Schema field of ``kind`` holds it (ValueError when it cannot)."""
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(value)
        if not number.is_integer():
            raise ValueError(value)
        return int(number)
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(value)
    return str(value)


#: Table Schema's default ``trueValues`` / ``falseValues``.
_TRUE = {"true", "True", "TRUE", "1"}
_FALSE = {"false", "False", "FALSE", "0"}
#: Constraints Table Schema allows only on string fields.
_STRING_ONLY = ("pattern", "minLength", "maxLength")


def _constraints(field: dict[str, Any], series: pl.Series) -> dict[str, Any]:
    """The field's constraints made to agree with its (final) type and the published values.

    A dimension read as numbers (district codes ``1``..``7``) keeps its code
    list as numbers; codes that cannot be of that type cannot occur and are
    left out. ``pattern`` (the age bands') applies only to strings, so a
    column of single years read as integers drops it.
    """
    kind = field.get("type", "string")
    constraints = dict(field.get("constraints") or {})
    if kind != "string":
        for name in _STRING_ONLY:
            constraints.pop(name, None)
    enum = constraints.get("enum")
    if enum is not None:
        typed: list[Any] = []
        for value in enum:
            try:
                item = _typed(value, kind)
            except (TypeError, ValueError):
                continue
            if item not in typed:
                typed.append(item)
        seen = [_typed(v, kind) for v in series.drop_nulls().unique().sort().to_list()]
        # Generalisation adds codes such as "other"; the schema says what is there.
        typed.extend(v for v in seen if v not in typed)
        constraints["enum"] = typed
    return constraints


def records_schema(df: pl.DataFrame, version: DatasetVersion) -> dict[str, Any]:
    """Table Schema of the published CSV: fields in the CSV's order and true to its values.

    The type follows the published column (the anonymiser may have banded a
    measure or the reader typed codes as numbers), and the constraints follow
    the type (see :func:`_constraints`).
    """
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
        if series.dtype.is_integer():
            field["type"] = "integer"
        elif series.dtype.is_float():
            field["type"] = "number"
        elif series.dtype == pl.Boolean:
            field["type"] = "boolean"
        if "constraints" in field:
            constraints = _constraints(field, series)
            if constraints:
                field["constraints"] = constraints
            else:
                del field["constraints"]
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def datapackage(item: PublishedDataset, df: pl.DataFrame, *, csv_path: str) -> dict[str, Any]:
    """A Frictionless (tabular) Data Package descriptor for the published version.

    ``csv_path`` must point at :func:`package_csv_text` of ``df`` (true values),
    never at the neutralised ``download.csv``.
    """
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
                "description": (
                    "The anonymised records with their true values. Cells are not"
                    " neutralised for spreadsheets: to open the records in a"
                    " spreadsheet, use download.csv."
                ),
                "path": csv_path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "doubleQuote": True, "header": True},
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
