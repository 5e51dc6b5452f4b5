"""Re-identification risk as sdcMicro's ``measure_risk`` computes it.

Source: sdcMicro (Templ, Kowarik, Meindl), ``src/Measure_Risk.h``,
``compute_risk`` and ``measure_risk_cpp``; the weighted formula is the
Benedetti–Franconi approximation of the individual risk (micro-Argus 4.1
manual, section 2.x; Benedetti & Franconi 1998):

* unweighted data: r_k = 1 / f_k;
* weighted data, with f_k the sample frequency of the key and F_k the sum of
  the weights of its records, p_k = f_k / F_k - 0.0001 (sdcMicro's guard
  against p_k = 1), and
    - f_k = 1: r_k = p_k / (1 - p_k) * log(1 / p_k)
    - f_k = 2: r_k = p_k / (1 - p_k) - (p_k / (1 - p_k))^2 * log(1 / p_k)
    - f_k > 2: r_k = p_k / (f_k - (1 - p_k))

The expected number of re-identifications is the sum of r_k over records and
the global risk its mean. A missing key value matches any value, as in
sdcMicro: the frequency of a record with missing values counts every record
that agrees with it on its non-missing values. (sdcMicro adds a group's
contribution once per record of a partly missing key and divides integers
in that branch; we do not copy those two slips.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class RiskSummary:
    """Individual re-identification risk of a table, summarised."""

    records: int
    expected_reidentifications: float
    global_risk: float
    max_individual_risk: float
    records_above_threshold: int
    risk_threshold: float
    sample_uniques: int
    seconds: float

    def to_dict(self) -> dict:
        return {
            "records": self.records,
            "expected_reidentifications": round(self.expected_reidentifications, 4),
            "global_risk": round(self.global_risk, 6),
            "max_individual_risk": round(self.max_individual_risk, 6),
            "records_above_threshold": self.records_above_threshold,
            "risk_threshold": self.risk_threshold,
            "sample_uniques": self.sample_uniques,
        }


def risk_expr(fk: pl.Expr, Fk: pl.Expr | None) -> pl.Expr:  # noqa: N803
    """sdcMicro's individual risk from sample frequency ``fk`` and weighted frequency ``Fk``."""
    if Fk is None:
        return 1.0 / fk
    pk = fk / Fk - 0.0001
    ratio = pk / (1 - pk)
    return (
        pl.when(fk == 1)
        .then(ratio * (1 / pk).log())
        .when(fk == 2)
        .then(ratio - ratio.pow(2) * (1 / pk).log())
        .otherwise(pk / (fk - (1 - pk)))
    )


def frequencies(df: pl.DataFrame, keys: list[str], weight: str | None = None) -> pl.DataFrame:
    """f_k (and F_k) of every record, with sdcMicro's missing-matches-anything rule."""
    n = df.height
    frame = df.select(keys + ([weight] if weight else [])).with_row_index("_row")
    if not keys:
        fk = pl.lit(n, dtype=pl.Int64)
        out = frame.select("_row", fk.alias("fk"))
        if weight:
            out = out.with_columns(pl.lit(frame[weight].sum()).alias("Fk"))
        return out
    mask = frame.select(pl.concat_list([pl.col(k).is_null() for k in keys]).alias("_pattern"))
    frame = frame.with_columns(mask["_pattern"])
    parts = []
    patterns = frame.get_column("_pattern").unique().to_list()
    for pattern in patterns:
        present = [k for k, missing in zip(keys, pattern, strict=True) if not missing]
        rows = frame.filter(pl.col("_pattern") == pl.lit(pattern, dtype=pl.List(pl.Boolean)))
        if not present:
            agg = {"fk": pl.lit(n, dtype=pl.UInt32)}
            if weight:
                agg["Fk"] = pl.lit(frame[weight].sum())
            parts.append(rows.select("_row", **agg))
            continue
        complete = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in present))
        aggs = [pl.len().alias("fk")] + ([pl.col(weight).sum().alias("Fk")] if weight else [])
        counts = complete.group_by(present).agg(aggs)
        parts.append(
            rows.join(counts, on=present, how="left", nulls_equal=False).select(
                "_row", "fk", *(["Fk"] if weight else [])
            )
        )
    return pl.concat(parts, how="vertical_relaxed").sort("_row")


def individual_risk(df: pl.DataFrame, keys: list[str], weight: str | None = None) -> pl.Series:
    """Per-record individual risk (sdcMicro ``measure_risk(...)$individual[, "risk"]``)."""
    freq = frequencies(df, keys, weight)
    return freq.select(
        risk_expr(
            pl.col("fk").cast(pl.Float64), pl.col("Fk").cast(pl.Float64) if weight else None
        ).alias("risk")
    ).to_series()


def measure_risk(
    df: pl.DataFrame, keys: list[str], *, weight: str | None = None, threshold: float = 0.2
) -> RiskSummary:
    """Risk summary: expected re-identifications, global and maximum individual risk."""
    start = time.perf_counter()
    if df.height == 0:
        return RiskSummary(0, 0.0, 0.0, 0.0, 0, threshold, 0, 0.0)
    freq = frequencies(df, keys, weight)
    risk = freq.select(
        risk_expr(
            pl.col("fk").cast(pl.Float64), pl.col("Fk").cast(pl.Float64) if weight else None
        ).alias("r")
    )
    stats = risk.select(
        pl.col("r").sum().alias("er"),
        pl.col("r").mean().alias("mean"),
        pl.col("r").max().alias("max"),
        (pl.col("r") > threshold).sum().alias("above"),
    ).row(0, named=True)
    uniques = int((freq.get_column("fk") == 1).sum())
    return RiskSummary(
        records=df.height,
        expected_reidentifications=float(stats["er"]),
        global_risk=float(stats["mean"]),
        max_individual_risk=float(stats["max"]),
        records_above_threshold=int(stats["above"]),
        risk_threshold=threshold,
        sample_uniques=uniques,
        seconds=time.perf_counter() - start,
    )
