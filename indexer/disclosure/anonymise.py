"""Anonymise one upload: drop identifiers, scrub free text, generalise, k-anonymise, measure risk."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from indexer.disclosure.config import DisclosureConfig
from indexer.disclosure.detect import detect_column
from indexer.disclosure.hierarchy import PLACE_LEVELS, build_ladder
from indexer.disclosure.kanon import QIColumn, enforce
from indexer.disclosure.report import AnonymisedTable, DisclosureReport, DroppedColumn
from indexer.disclosure.risk import measure_risk
from indexer.disclosure.scrub import scrub_columns
from schema.errors import InvalidInput, Problem
from schema.roles import ColumnRole, ColumnSpec

_PLACEHOLDER_OF = {"phone": "PHONE", "email": "EMAIL", "national_id": "ID", "gps": "GPS"}
_NOT_SCRUB_SOURCES = {"collection_metadata"}


def _factorise(series: pl.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distinct non-null values, each row's code (missing = len(uniques)), frequencies."""
    s = series.cast(pl.String)
    uniques = s.drop_nulls().unique().sort().to_list()
    if not uniques:
        return [], np.zeros(len(s), dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = (
        s.cast(pl.Enum(uniques)).to_physical().fill_null(len(uniques)).to_numpy().astype(np.int64)
    )
    counts = np.bincount(codes, minlength=len(uniques) + 1)[: len(uniques)]
    return uniques, codes, counts


def factorise_many(
    df: pl.DataFrame, names: list[str]
) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """:func:`_factorise` for several columns, with polars running the columns in parallel."""
    if not names:
        return {}
    strings = df.select(pl.col(c).cast(pl.String) for c in names)
    uniques = strings.select(pl.col(c).drop_nulls().unique().sort().implode() for c in names).row(0)
    uniques = dict(zip(names, uniques, strict=True))
    codes = strings.select(
        pl.col(c).cast(pl.Enum(uniques[c])).to_physical().cast(pl.Int64).fill_null(len(uniques[c]))
        if uniques[c]
        else pl.lit(0, dtype=pl.Int64).alias(c)
        for c in names
    )
    out = {}
    for c in names:
        column_codes = codes.get_column(c).to_numpy()
        if len(column_codes) != df.height:
            column_codes = np.zeros(df.height, dtype=np.int64)
        counts = np.bincount(column_codes, minlength=len(uniques[c]) + 1)[: len(uniques[c])]
        out[c] = (uniques[c], column_codes, counts)
    return out


def anonymise(
    df: pl.DataFrame,
    columns: dict[str, ColumnSpec],
    *,
    sensitive_topics: list[str] | tuple[str, ...] = (),
    country: str = "NP",
    config: DisclosureConfig | None = None,
) -> AnonymisedTable:
    """Make an upload safe to publish as records.

    Drops declared and detected identifiers and collection metadata, scrubs free
    text, generalises quasi-identifiers along the standard's hierarchies and
    enforces k-anonymity and l-diversity by generalisation then local
    suppression (cells set to null, counted in the report; no row is dropped).
    """
    config = config or DisclosureConfig()
    k = config.effective_k(list(sensitive_topics))
    regions = tuple(dict.fromkeys(r for r in ("NP", (country or "NP").upper()) if r))
    unknown = [name for name in columns if name not in df.columns]
    if unknown:
        raise InvalidInput(
            "Column roles name columns that are not in the file.",
            [
                Problem("unknown_column", "no such column in the file", column=name)
                for name in unknown
            ],
        )
    specs = {
        name: columns.get(name) or ColumnSpec(name=name, role=ColumnRole.OTHER)
        for name in df.columns
    }
    report = DisclosureReport(records_in=df.height, k_target=k, l_target=config.l)

    # 1. identifiers, declared and detected
    dropped: dict[str, DroppedColumn] = {}
    for name, spec in specs.items():
        if spec.role == ColumnRole.DIRECT_IDENTIFIER:
            found = detect_column(name, df.get_column(name), regions, config.detection_share)
            dropped[name] = DroppedColumn(
                name, "declared_identifier", found.kind if found else None, "role"
            )
            continue
        if name == config.weight_column:
            continue
        if spec.role == ColumnRole.DIMENSION or (
            spec.role == ColumnRole.MEASURE and df.schema[name].is_numeric()
        ):
            continue
        found = detect_column(name, df.get_column(name), regions, config.detection_share)
        if found is None:
            continue
        if (
            found.evidence == "column_name"
            and found.kind in ("name", "contact")
            and spec.role
            not in (
                ColumnRole.OTHER,
                ColumnRole.FREE_TEXT,
            )
        ):
            continue
        reason = (
            "collection_metadata" if found.kind == "collection_metadata" else "detected_identifier"
        )
        dropped[name] = DroppedColumn(name, reason, found.kind, found.evidence, found.share)
    report.dropped = list(dropped.values())

    identifier_values: dict[str, list[str]] = {}
    for name, drop in dropped.items():
        if drop.reason in _NOT_SCRUB_SOURCES:
            continue
        placeholder = _PLACEHOLDER_OF.get(drop.kind or "", "NAME")
        values = df.get_column(name).cast(pl.String).drop_nulls().unique().to_list()
        identifier_values.setdefault(placeholder, []).extend(values)

    kept = {name: spec for name, spec in specs.items() if name not in dropped}

    # 2. quasi-identifiers and sensitive attributes
    qi_names = [
        name
        for name, spec in kept.items()
        if name != config.weight_column
        and not spec.sensitive
        and (
            spec.role == ColumnRole.QUASI_IDENTIFIER
            or (spec.role == ColumnRole.DIMENSION and config.dimensions_are_quasi_identifiers)
        )
    ]
    sensitive_names = [
        name for name, spec in kept.items() if spec.sensitive and spec.role != ColumnRole.FREE_TEXT
    ]
    report.quasi_identifiers = qi_names
    report.sensitive_columns = sensitive_names

    weight = config.weight_column if config.weight_column in df.columns else None
    base = df.select(qi_names + ([weight] if weight else []))
    if weight:
        base = base.with_columns(pl.col(weight).cast(pl.Float64, strict=False))
    base = base.with_columns(pl.col(c).cast(pl.String) for c in qi_names)
    report.risk_before = measure_risk(
        base, qi_names, weight=weight, threshold=config.risk_threshold
    ).to_dict()

    # 3. free text (and names quoted in "other" answers)
    free_text = [n for n, s in kept.items() if s.role == ColumnRole.FREE_TEXT]
    other_text = [
        n
        for n, s in kept.items()
        if s.role == ColumnRole.OTHER and df.schema[n] == pl.String and n != weight
    ]
    scrubbed, counts = scrub_columns(
        df.select(free_text + other_text),
        free_text + other_text,
        identifier_values,
        regions=regions,
        recogniser=config.recogniser,
    )
    report.scrubbed = dict(sorted(counts.items()))
    report.scrubbed_columns = free_text + other_text

    # 4. generalise and k-anonymise
    qi_columns: list[QIColumn] = []
    factorised = factorise_many(df, qi_names + sensitive_names)
    for name in qi_names:
        uniques, codes, freq = factorised[name]
        ladder = build_ladder(
            name,
            kept[name].dimension,
            uniques,
            freq,
            age_band_width=config.age_band_width,
            age_top_code=config.age_top_code,
            place_level=config.place_level,
            date_level=config.date_level,
            rare_category_min=config.rare_category_min,
            other_code=config.other_code,
        )
        if not ladder.levels:
            ladder.levels.append(("as published", list(uniques)))
        qi_columns.append(QIColumn(name, ladder, codes))
    sensitive_codes = [factorised[n][1].copy() for n in sensitive_names]
    for name, codes in zip(sensitive_names, sensitive_codes, strict=True):
        missing = df.get_column(name).is_null().to_numpy()
        codes[missing] = -1
    result = enforce(
        qi_columns,
        sensitive_codes,
        k=k,
        l=config.l,
        max_suppression_share=config.max_suppression_share,
    )
    report.generalisations = [g for g in result.generalisations if _changes(g, qi_columns)]
    report.suppressed_cells = result.suppressed_cells
    report.records_with_suppression = result.records_with_suppression
    report.k = result.k if qi_columns else None
    report.l = result.l
    report.l_target_reachable = result.l_target_reachable
    if not result.l_target_reachable:
        report.warnings.append(
            f"A sensitive column has fewer than {config.l} distinct values; l-diversity cannot be reached."
        )

    # 5. assemble the published records
    out_columns: dict[str, pl.Series] = {}
    published: dict[str, ColumnSpec] = {}
    qi_by_name = {c.name: c for c in qi_columns}
    for name, spec in kept.items():
        if name in qi_by_name:
            column = qi_by_name[name]
            out_columns[name] = column.to_series()
            level_name = column.ladder.levels[column.level][0]
            if (
                column.ladder.kind == "place"
                and level_name in PLACE_LEVELS
                and spec.dimension in PLACE_LEVELS
            ):
                spec = dataclasses.replace(spec, dimension=level_name)
        elif name in scrubbed.columns:
            out_columns[name] = scrubbed.get_column(name)
        elif spec.role == ColumnRole.MEASURE:
            out_columns[name] = df.get_column(name).cast(pl.Float64, strict=False)
        else:
            out_columns[name] = df.get_column(name)
        published[name] = spec
    records = pl.DataFrame(list(out_columns.values())) if out_columns else pl.DataFrame()
    report.records_out = records.height

    after = records.select(qi_names + ([weight] if weight else []))
    report.risk_after = measure_risk(
        after, qi_names, weight=weight, threshold=config.risk_threshold
    ).to_dict()

    report.free_text_preview = _preview(df, records, free_text, config.preview_size)
    return AnonymisedTable(records=records, columns=published, report=report)


def _changes(generalisation: dict, columns: list[QIColumn]) -> bool:
    if generalisation["step"] != "base":
        return True
    return generalisation["to"] != "as published"


def _preview(
    original: pl.DataFrame, records: pl.DataFrame, columns: list[str], size: int
) -> list[dict]:
    """A few scrubbed texts, those with the most placeholders first."""
    samples: list[dict] = []
    for name in columns:
        changed = records.select(
            pl.col(name).alias("text"),
            pl.col(name).str.count_matches(r"\[(?:PHONE|EMAIL|URL|ID|DATE|GPS|NAME)\]").alias("n"),
        ).filter(pl.col("text").is_not_null())
        top = (
            changed.unique("text", maintain_order=True)
            .sort("n", descending=True, maintain_order=True)
            .head(size)
        )
        samples.extend(
            {"column": name, "text": text, "placeholders": int(n)} for text, n in top.iter_rows()
        )
    return samples[: max(size, len(columns))]
