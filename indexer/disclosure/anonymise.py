"""Anonymise one upload: drop identifiers, scrub free text, generalise, k-anonymise, measure risk."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from indexer.disclosure.config import DisclosureConfig
from indexer.disclosure.detect import detect_column
from indexer.disclosure.hierarchy import PLACE_LEVELS, build_ladder
from indexer.disclosure.kanon import Combos, KAnonResult, QIColumn, enforce
from indexer.disclosure.kanon import published as published_labels
from indexer.disclosure.report import AnonymisedTable, DisclosureReport, DroppedColumn
from indexer.disclosure.risk import measure_risk
from indexer.disclosure.scrub import scrub_columns
from schema.errors import InvalidInput, Problem
from schema.roles import ColumnRole, ColumnSpec
from schema.suggest import suggest_roles

#: What a column name may not hold: column names are published as they are.
_NAME_PLACEHOLDERS = ("PHONE", "EMAIL", "ID", "GPS")

_PLACEHOLDER_OF = {"phone": "PHONE", "email": "EMAIL", "national_id": "ID", "gps": "GPS"}
_NOT_SCRUB_SOURCES = {"collection_metadata"}


def factorise_many(
    df: pl.DataFrame, names: list[str]
) -> tuple[dict[str, list[str]], dict[str, np.ndarray], Combos]:
    """Distinct non-null values of several columns, each row's code in each
    (its value's index in the uniques; missing = len(uniques)), and the distinct
    combinations of those codes with their record counts.

    One pass per column: a cast to a Categorical with categories of its own
    numbers the values in order of first appearance (polars runs the columns in
    parallel), so the uniques are in that order, not sorted. Where that cannot
    be used, the sorted uniques and an Enum cast instead."""
    strings = df.select(pl.col(c).cast(pl.String) for c in names)
    categorised = _categorise(strings, names)
    if categorised is not None:
        physical, uniques = categorised
    else:
        found = strings.select(pl.col(c).drop_nulls().unique().sort().implode() for c in names)
        uniques = dict(zip(names, found.row(0) if names else (), strict=True))
        physical = strings.select(
            pl.col(c).cast(pl.Enum(uniques[c])).to_physical().cast(pl.UInt32)
            if uniques[c]
            else pl.repeat(0, df.height, dtype=pl.UInt32).alias(c)
            for c in names
        )
    nulls = {c: strings.get_column(c).null_count() for c in names}
    frame = physical.select(
        pl.col(c).fill_null(len(uniques[c])) if nulls[c] else pl.col(c) for c in names
    )
    codes = {c: frame.get_column(c).to_numpy() for c in names}
    combos = Combos.of(
        [codes[c] for c in names],
        # the missing code needs a place only in a column with nulls
        [len(uniques[c]) + (nulls[c] > 0) for c in names],
        [len(uniques[c]) for c in names],
    )
    return uniques, codes, combos


def _categorise(
    strings: pl.DataFrame, names: list[str]
) -> tuple[pl.DataFrame, dict[str, list[str]]] | None:
    """Each column's physical codes under categories of its own, and those
    categories in code order; None if a code has no category (polars may
    reserve codes under concurrent use) or polars refuses."""
    try:
        categories = {c: pl.Categories.random() for c in names}
        cast = strings.select(pl.col(c).cast(pl.Categorical(categories[c])) for c in names)
        uniques = {c: categories[c].to_series().to_list() for c in names}
        physical = cast.select(pl.col(c).to_physical() for c in names)
    except (pl.exceptions.PolarsError, AttributeError, TypeError):
        return None
    top = physical.select(pl.col(c).max() for c in names).row(0) if names else ()
    for c, highest in zip(names, top, strict=True):
        if None in uniques[c] or (highest is not None and highest >= len(uniques[c])):
            return None
    return physical, uniques


def _sorted_ladder(name: str, dimension: str | None, values: list[str], counts, config):
    """:func:`build_ladder` over the values in sorted order, its labels then put
    back in the order of ``values`` (the codes' order)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ladder = build_ladder(
        name,
        dimension,
        [values[i] for i in order],
        counts[order] if len(values) else counts,
        age_band_width=config.age_band_width,
        age_top_code=config.age_top_code,
        place_level=config.place_level,
        date_level=config.date_level,
        rare_category_min=config.rare_category_min,
        other_code=config.other_code,
    )
    position = np.argsort(np.array(order, dtype=np.int64))
    ladder.uniques = list(values)
    ladder.levels = [(level, [labels[p] for p in position]) for level, labels in ladder.levels]
    return ladder


def k_anonymise(
    df: pl.DataFrame,
    dimensions: dict[str, str | None],
    sensitive_names: list[str],
    *,
    k: int,
    config: DisclosureConfig,
) -> tuple[list[QIColumn], KAnonResult]:
    """Generalise the quasi-identifiers (name -> standard dimension) along their
    ladders and enforce k-anonymity and l-diversity over them by generalisation
    then local suppression. Returns the columns, at their published level with
    their withheld cells (:func:`indexer.disclosure.kanon.published`), and the result."""
    qi_names = list(dimensions)
    uniques, codes, combos = factorise_many(df, qi_names + sensitive_names)
    qi_columns: list[QIColumn] = []
    for i, name in enumerate(qi_names):
        values = uniques[name]
        ladder = _sorted_ladder(
            name, dimensions[name], values, combos.counts(i, len(values) + 1)[: len(values)], config
        )
        if not ladder.levels:
            ladder.levels.append(("as published", list(values)))
        qi_columns.append(QIColumn(name, ladder, codes[name]))
    result = enforce(
        qi_columns, combos, k=k, l=config.l, max_suppression_share=config.max_suppression_share
    )
    return qi_columns, result


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
    _refuse_identifiers_in_names(df.columns, regions)
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
        if spec.role == ColumnRole.DIMENSION:
            continue
        # A measure too: phone numbers typed as numbers are numbers.
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
    # A column declared "other" is kept no less protected than its suggested role: an
    # identifier by its values (unique codes, phone numbers) is dropped, a fact others can
    # know (a ward, a job, a year of birth) is a quasi-identifier.
    promoted = _protective_roles(df, specs, dropped, config)
    for name, suggestion in promoted.items():
        if suggestion.role == ColumnRole.DIRECT_IDENTIFIER:
            dropped[name] = DroppedColumn(name, "suggested_identifier", None, "suggestion")
        else:
            specs[name] = dataclasses.replace(
                specs[name], role=ColumnRole.QUASI_IDENTIFIER, dimension=suggestion.dimension
            )
    report.promoted = {n: str(s.role) for n, s in promoted.items()}
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
    # A quasi-identifier flagged sensitive is still one (generalised, k-anonymous): what
    # others can know links a record to a person whatever else it says. A sensitive
    # dimension is the sensitive attribute that l-diversity protects.
    qi_names = [
        name
        for name, spec in kept.items()
        if name != config.weight_column
        and (
            spec.role == ColumnRole.QUASI_IDENTIFIER
            or (
                spec.role == ColumnRole.DIMENSION
                and config.dimensions_are_quasi_identifiers
                and not spec.sensitive
            )
        )
    ]
    sensitive_names = [
        name
        for name, spec in kept.items()
        if spec.sensitive and spec.role != ColumnRole.FREE_TEXT and name not in qi_names
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
    qi_columns, result = k_anonymise(
        df, {name: kept[name].dimension for name in qi_names}, sensitive_names, k=k, config=config
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
    qi_frame = published_labels(qi_columns)
    for name, spec in kept.items():
        if name in qi_by_name:
            column = qi_by_name[name]
            out_columns[name] = qi_frame.get_column(name)
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


def _refuse_identifiers_in_names(names: list[str], regions: tuple[str, ...]) -> None:
    """Column names are published: one holding a phone number, an email address, an ID
    number or coordinates is an error naming it, not a header to publish."""
    if not names:
        return
    frame = pl.DataFrame({"name": list(names)}, schema={"name": pl.String})
    scrubbed, _counts = scrub_columns(frame, ["name"], {}, regions=regions)
    problems = []
    for name, clean in zip(names, scrubbed.get_column("name").to_list(), strict=True):
        found = [p for p in _NAME_PLACEHOLDERS if f"[{p}]" in clean and f"[{p}]" not in name]
        if found:
            what = ", ".join(p.lower() if p != "ID" else "ID number" for p in found)
            problems.append(
                Problem(
                    "identifier_in_column_name",
                    f"The column name holds what looks like personal data ({what}): column "
                    "names are published as they are. Rename the column.",
                    column=name,
                )
            )
    if problems:
        raise InvalidInput("A column name holds personal data.", problems)


def _protective_roles(
    df: pl.DataFrame,
    specs: dict[str, ColumnSpec],
    dropped: dict[str, DroppedColumn],
    config: DisclosureConfig,
) -> dict:
    """The "other" columns whose suggested role protects more: an identifier or a
    quasi-identifier (see :func:`schema.suggest.suggest_role`)."""
    others = [
        name
        for name, spec in specs.items()
        if spec.role == ColumnRole.OTHER
        and not spec.sensitive  # a sensitive attribute stays one (l-diversity)
        and name not in dropped
        and name != config.weight_column
    ]
    if not others:
        return {}
    protective = (ColumnRole.DIRECT_IDENTIFIER, ColumnRole.QUASI_IDENTIFIER)
    return {
        name: suggestion
        for name, suggestion in suggest_roles(df.select(others)).items()
        if suggestion.role in protective
    }


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
