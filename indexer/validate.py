"""Validate an all-string frame against its column roles.

Measures are cast to Float64; dimension values are matched to their
vocabulary's codes (unmatched values are reported, never guessed). All
problems of a file are collected (capped) and raised together; a table is
returned only when it is wholly valid.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from schema.errors import InvalidInput, Problem
from schema.roles import ColumnRole, ColumnSpec
from schema.vocabularies import DIMENSIONS, Dimension

MAX_PROBLEMS = 200
_DEVANAGARI = "०१२३४५६७८९"
_ROWS_SHOWN = 5
_COUNT_SLICE = 1 << 16
_GLOBAL_CATEGORIES = pl.Categorical().categories.name()


@dataclass
class ValidatedTable:
    """A frame that meets the standard, with its specs, warnings and report.

    ``df`` has measures as Float64 and dimension columns as codes;
    ``problems`` holds warnings that do not stop the import; ``report`` is a
    JSON-ready summary per column.
    """

    df: pl.DataFrame
    columns: dict[str, ColumnSpec]
    problems: list[Problem] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


class _Collector:
    def __init__(self, filename: str, cap: int) -> None:
        self.filename, self.cap = filename, cap
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.dropped = 0

    def error(
        self, code: str, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        if len(self.errors) < self.cap:
            self.errors.append(Problem(code, message, file=self.filename, row=row, column=column))
        else:
            self.dropped += 1

    def warn(self, code: str, message: str, *, column: str | None = None) -> None:
        self.warnings.append(Problem(code, message, file=self.filename, column=column))


def _shown(value: str, limit: int = 60) -> str:
    """A cell value quoted for a message, cut short so a report stays readable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _clean(name: str) -> pl.Expr:
    s = pl.col(name).cast(pl.String).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def _measure_stats(df: pl.DataFrame, casts: pl.DataFrame, measures: list[str]) -> dict[str, Any]:
    """For every measure at once: whether a cell needs the careful parse, and min/max/mean.

    ``casts`` holds the measures cast to Float64 (non-strict). A cell needs
    care when it is not null but did not cast to a finite number; as a null
    cell never casts to a number, that is when the column has fewer finite
    values than non-null cells, which is counted without lining up the raw text.
    Usually one sum settles it: when every filled cell cast and the sum is
    finite, no value is infinite or NaN. Only otherwise (a sum that overflows
    is no verdict) are the finite values counted one by one. In a column that
    needs no care every value is finite, so the plain min/max/mean are those
    of the finite values (with no filtered copy); a careful column's are not used.
    """
    if not measures:
        return {}
    exprs = []
    for m in measures:
        exprs += [
            pl.col(m).sum().alias(f"sum:{m}"),
            pl.col(m).min().alias(f"min:{m}"),
            pl.col(m).max().alias(f"max:{m}"),
        ]
    stats = casts.select(exprs).row(0, named=True)
    for m in measures:
        filled = df.height - df.get_column(m).null_count()
        cast = casts.get_column(m)
        numbers = cast.len() - cast.null_count()
        total = stats.pop(f"sum:{m}")
        if numbers == filled and math.isfinite(total):
            stats[f"careful:{m}"] = False
            stats[f"mean:{m}"] = total / numbers if numbers else None
        else:
            stats[f"careful:{m}"] = cast.is_finite().sum() != filled
            stats[f"mean:{m}"] = cast.mean()
    return stats


def _measure(df: pl.DataFrame, name: str, out: _Collector) -> pl.Series:
    """The careful parse of a measure: spaces, Nepali digits, thousands separators."""
    raw = df.select(_clean(name)).to_series()
    text = raw
    if raw.str.contains(f"[{_DEVANAGARI}]").any():
        text = text.str.replace_many(list(_DEVANAGARI), list("0123456789"))
    if text.str.contains(",", literal=True).any():
        # Thousands separators ("1,234.5") are common in spreadsheets.
        text = text.str.replace_all(r"(\d),(\d{3})", "$1$2")
    values = text.cast(pl.Float64, strict=False)
    bad = (
        raw.is_not_null() & (values.is_null() | values.is_nan() | values.is_infinite())
    ).arg_true()
    room = max(out.cap - len(out.errors), 0)
    for idx in bad.head(room).to_list():
        out.error(
            "not_a_number",
            f"{_shown(raw[idx])} is not a number (the column is a measure).",
            row=idx + 2,
            column=name,
        )
    out.dropped += max(bad.len() - room, 0)
    return values.alias(name)


def _rows_per_id(ids: pl.Series, size: int) -> np.ndarray:
    """How many rows hold each number 0..size-1 of ``ids`` (nulls not counted).

    Counted slice by slice, so that numpy's temporaries stay small (one
    bincount of a whole column would convert it to int64 at once: memory
    that a fresh process pays for in page faults). A number >= ``size``
    makes the result longer than ``size``.
    """
    if ids.null_count():
        ids = ids.fill_null(size)  # counted in bin ``size``, then dropped
    values = ids.rechunk().to_numpy()
    counts = np.zeros(size + 1, dtype=np.int64)
    for start in range(0, len(values), _COUNT_SLICE):
        found = np.bincount(values[start : start + _COUNT_SLICE], minlength=size + 1)
        if len(found) > len(counts):
            found[: len(counts)] += counts
            counts = found
        else:
            counts += found
    return counts[:size] if len(counts) == size + 1 else counts


@dataclass
class _Coded:
    """A dimension column's distinct raw values, their codes and each row's number."""

    dim: Dimension
    distinct: list[str]
    ids: pl.Series
    mapping: dict[str, str]
    unmatched: list[str]
    codes: pl.Series

    @classmethod
    def of(cls, name: str, dim: Dimension, distinct: list[str], ids: pl.Series) -> _Coded:
        # Every distinct value is matched, also one no row holds (such a value is
        # never gathered, and not reported: see _dimension).
        mapping, unmatched = dim.match_column(distinct)
        codes = pl.Series(name, [mapping.get(v) for v in distinct], dtype=pl.String)
        return cls(dim, distinct, ids.alias(name), mapping, unmatched, codes)


def _coded(name: str, dim_code: str, as_categories: pl.Series, categories: pl.Categories) -> _Coded:
    """``as_categories`` is the column cast, beforehand in bulk, to its own ``categories``.

    One hashing pass: the private category list numbers the distinct raw
    values (0..k-1), which are matched once each.
    """
    # Read the list while the column holds it alive: polars frees unused categories.
    distinct = categories.to_series().to_list()
    return _Coded.of(name, DIMENSIONS[dim_code], distinct, as_categories.to_physical())


def _gather_codes(coded: Mapping[str, _Coded]) -> dict[str, pl.Series]:
    """Each row's code, for every dimension at once (polars runs them in parallel)."""
    ids = pl.DataFrame([c.ids for c in coded.values()])
    found = ids.select(pl.lit(c.codes).gather(pl.col(n)).alias(n) for n, c in coded.items())
    return {s.name: s for s in found.get_columns()}


def _dimension(
    df: pl.DataFrame, name: str, c: _Coded, per_id: np.ndarray, out: _Collector, report: dict
) -> _Coded:
    """Report the unknown codes of a column (with their rows) and count its codes.

    ``per_id`` counts the rows of each number (:func:`_rows_per_id`). Returns
    ``c``, or a new one when the category list was not complete.
    """
    dim, distinct, ids = c.dim, c.distinct, c.ids
    if len(per_id) > len(distinct):  # the list was not complete: hash again
        distinct = df.get_column(name).unique(maintain_order=True).drop_nulls().to_list()
        ids = df.get_column(name).replace_strict(
            distinct, list(range(len(distinct))), default=None, return_dtype=pl.UInt32
        )
        c = _Coded.of(name, dim, distinct, ids)
        per_id = _rows_per_id(ids, len(distinct))
    per_id = np.pad(per_id, (0, len(distinct) - len(per_id)))
    # Categories no row uses (such as a value seen by a parse that was then
    # done again) are not reported.
    present = {v for v, n in zip(distinct, per_id.tolist(), strict=True) if n}
    unmatched = [u for u in c.unmatched if u in present]
    if unmatched:
        bad = set(unmatched)
        bad_ids = pl.Series([i for i, v in enumerate(distinct) if v in bad])
        firsts = (
            pl.DataFrame({"v": ids})
            .with_row_index("i")
            .filter(pl.col("v").is_in(bad_ids.cast(ids.dtype)))
            .group_by("v")
            .agg(pl.col("i").head(_ROWS_SHOWN), pl.len().alias("n"))
            .sort(pl.col("i").list.first())
        )
        for v, rows, n in firsts.iter_rows():
            more = (
                f" (also rows {', '.join(str(r + 2) for r in rows[1:])}{' and more' if n > len(rows) else ''})"
                if n > 1
                else ""
            )
            out.error(
                "unknown_code",
                f"{_shown(distinct[v].strip())} is not a known {dim.code} value{more}; "
                f"use a code or label of the {dim.code} vocabulary.",
                row=rows[0] + 2,
                column=name,
            )
    counts: dict[str, int] = {}
    for value, n in zip(distinct, per_id.tolist(), strict=True):
        code = c.mapping.get(value)
        if code is not None and n:
            counts[code] = counts.get(code, 0) + n
    report["codes"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    report["unmatched"] = [u.strip() for u in unmatched[:50]]
    return c


def _declared_specs(
    declared: Mapping[str, ColumnSpec | Mapping[str, Any]],
) -> Iterator[ColumnSpec]:
    for name, spec in declared.items():
        if not isinstance(spec, ColumnSpec):
            try:
                spec = ColumnSpec.from_dict(name, dict(spec or {}))
            except (TypeError, ValueError):
                continue  # an unknown role: validate_table reports it
        yield spec if spec.name == name else ColumnSpec(name, spec.role, spec.dimension)


def coded_columns(declared: Mapping[str, ColumnSpec | Mapping[str, Any]]) -> list[str]:
    """The declared columns whose values are matched to a vocabulary's codes.

    ``declared`` maps names to ColumnSpecs or their dicts (as stored with a
    version). These are the columns to hand :func:`indexer.readers.read_table`
    as ``categorical=`` when the roles are known before reading.
    """
    return [
        spec.name
        for spec in _declared_specs(declared)
        if spec.role in (ColumnRole.DIMENSION, ColumnRole.QUASI_IDENTIFIER)
        and spec.dimension in DIMENSIONS
    ]


def measure_columns(declared: Mapping[str, ColumnSpec | Mapping[str, Any]]) -> list[str]:
    """The declared measures: the columns to hand :func:`indexer.readers.read_table`
    as ``numeric=``, so that a CSV parses their numbers while it is read."""
    return [spec.name for spec in _declared_specs(declared) if spec.role == ColumnRole.MEASURE]


def validate_table(
    df: pl.DataFrame,
    columns: dict[str, ColumnSpec],
    *,
    filename: str,
    max_problems: int = MAX_PROBLEMS,
) -> ValidatedTable:
    """Check ``df`` (all strings, as from :func:`indexer.readers.read_table`) against ``columns``.

    Returns a :class:`ValidatedTable` or raises InvalidInput listing every
    problem (missing or undeclared columns, unknown dimension codes,
    non-numeric measures), capped at ``max_problems``. Row numbers count the
    header as row 1.
    """
    out = _Collector(filename, max_problems)
    specs = {
        name: (
            spec
            if spec.name == name
            else ColumnSpec(name, spec.role, spec.dimension, spec.sensitive, spec.label)
        )
        for name, spec in columns.items()
    }
    for name in specs:
        if name not in df.columns:
            out.error(
                "missing_column",
                "The metadata describes this column but the file does not have it.",
                row=1,
                column=name,
            )
    for name in df.columns:
        if name not in specs:
            out.error(
                "undeclared_column",
                "The file has this column but no role was given for it.",
                row=1,
                column=name,
            )
    if df.height == 0:
        # A header alone describes no one: there is nothing to anonymise or publish.
        out.error("no_rows", "The file has a header but no data rows.", row=2)
    report: dict[str, Any] = {"rows": df.height, "columns": {}}
    new: list[pl.Series] = []
    coded: dict[str, _Coded] = {}
    coded_names = [name for name in coded_columns(specs) if name in df.columns]
    # A dimension the reader handed over as Categorical keeps its own categories
    # (see read_table's ``categorical``); every other column is matched as text.
    given = {
        n: df.schema[n].categories
        for n in coded_names
        if isinstance(df.schema[n], pl.Categorical)
        and df.schema[n].categories.name() != _GLOBAL_CATEGORIES
    }
    measures = [
        n for n, spec in specs.items() if n in df.columns and spec.role == ColumnRole.MEASURE
    ]
    # A measure the reader parsed as numbers (read_table's ``numeric``) stays Float64.
    to_text = [
        n
        for n in specs
        if n in df.columns
        and n not in given
        and df.schema[n] != pl.String
        and not (n in measures and df.schema[n] == pl.Float64)
    ]
    if to_text:
        df = df.with_columns(pl.col(to_text).cast(pl.String))
    categories = {n: given.get(n) or pl.Categories.random() for n in coded_names}
    # Every cast in one select, so that polars runs them in parallel over the columns.
    casts = df.select(
        [
            pl.col(n) if n in given else pl.col(n).cast(pl.Categorical(c))
            for n, c in categories.items()
        ]
        + [pl.col(n).cast(pl.Float64, strict=False) for n in measures]
    )
    prepared = {
        n: _coded(n, specs[n].dimension, casts.get_column(n), categories[n]) for n in coded_names
    }
    # The codes are gathered (polars, without the GIL) while numpy counts the rows of
    # each value and the measures are summed up; the gathered codes are dropped if the
    # table turns out invalid.
    with ThreadPoolExecutor(1, thread_name_prefix="cgd-validate") as pool:
        gathering = pool.submit(_gather_codes, prepared) if prepared else None
        counted = {n: _rows_per_id(c.ids, len(c.distinct)) for n, c in prepared.items()}
        stats = _measure_stats(df, casts, measures)
        gathered = gathering.result() if gathering else {}
    for name, spec in specs.items():
        if name not in df.columns:
            continue
        col_report: dict[str, Any] = {"role": str(spec.role)}
        if spec.dimension:
            col_report["dimension"] = spec.dimension
        if spec.role == ColumnRole.MEASURE:
            if stats[f"careful:{name}"]:
                series = _measure(df, name, out)
                finite = series.filter(series.is_finite())
                col_report.update(min=finite.min(), max=finite.max(), mean=finite.mean())
            else:
                series = casts.get_column(name)
                col_report.update({k: stats[f"{k}:{name}"] for k in ("min", "max", "mean")})
            new.append(series)
        elif spec.role in (ColumnRole.DIMENSION, ColumnRole.QUASI_IDENTIFIER) and spec.dimension:
            if spec.dimension in DIMENSIONS:
                coded[name] = _dimension(df, name, prepared[name], counted[name], out, col_report)
            else:
                out.error(
                    "unknown_dimension", f"Unknown dimension {spec.dimension!r}.", column=name
                )
        elif spec.role == ColumnRole.DIMENSION:
            out.error(
                "missing_dimension", "A dimension column must name its dimension.", column=name
            )
        col_report["nulls"] = df.get_column(name).null_count()
        if col_report["nulls"] == df.height and df.height:
            out.warn("empty_column", "The column is entirely empty.", column=name)
        report["columns"][name] = col_report
    if out.errors:
        problems = list(out.errors)
        if out.dropped:
            problems.append(
                Problem(
                    "too_many_problems",
                    f"... and {out.dropped} more problems not listed.",
                    file=filename,
                )
            )
        n = len(out.errors) + out.dropped
        raise InvalidInput(
            f"{filename}: {n} problem{'s' if n != 1 else ''} against the column roles.",
            problems,
            code="invalid_table",
        )
    redo = {n: c for n, c in coded.items() if c is not prepared[n]}
    if redo:
        gathered.update(_gather_codes(redo))
    new += [gathered[n] for n in coded]
    if new:
        df = df.with_columns(new)
    report["problems"] = [p.to_dict() for p in out.warnings]
    return ValidatedTable(df=df, columns=specs, problems=out.warnings, report=report)


__all__ = ["MAX_PROBLEMS", "ValidatedTable", "coded_columns", "measure_columns", "validate_table"]
