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

import numpy as np
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


def risk_values(fk: np.ndarray, Fk: np.ndarray | None) -> np.ndarray:  # noqa: N803
    """sdcMicro's individual risk from sample frequencies ``fk`` and weighted frequencies ``Fk``."""
    fk = fk.astype(np.float64)
    if Fk is None:
        return 1.0 / fk
    pk = fk / Fk - 0.0001
    ratio = pk / (1 - pk)
    log = np.log(1 / pk)
    return np.where(
        fk == 1, ratio * log, np.where(fk == 2, ratio - ratio**2 * log, pk / (fk - (1 - pk)))
    )


_DENSE_LIMIT = 8_000_000


def _codes(series: pl.Series) -> tuple[np.ndarray, int]:
    """Integer codes of a key column (-1 for missing) and how many distinct values it has."""
    s = series.cast(pl.String)
    uniques = s.drop_nulls().unique().to_list()
    if not uniques:
        return np.full(len(s), -1, dtype=np.int64), 0
    codes = s.cast(pl.Enum(uniques)).to_physical().cast(pl.Int64).fill_null(-1).to_numpy()
    return codes, len(uniques)


def _combined(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, int]:
    """One id per record for its combination of codes, and the id space (ids < space)."""
    ids, space = codes[0] + 1, sizes[0] + 1
    for c, size in zip(codes[1:], sizes[1:], strict=True):
        if space * (size + 1) > _DENSE_LIMIT:
            _, ids = np.unique(ids, return_inverse=True)
            ids, space = ids.reshape(-1), int(ids.max(initial=0)) + 1
        ids = ids * (size + 1) + c + 1
        space *= size + 1
    if space > _DENSE_LIMIT:
        _, ids = np.unique(ids, return_inverse=True)
        ids, space = ids.reshape(-1), int(ids.max(initial=0)) + 1
    return ids, space


def _frequencies(
    df: pl.DataFrame, keys: list[str], weight: str | None
) -> tuple[np.ndarray, np.ndarray | None]:
    n = df.height
    w = (
        df.get_column(weight).cast(pl.Float64, strict=False).fill_null(0.0).to_numpy()
        if weight
        else None
    )
    fk = np.full(n, n, dtype=np.int64)
    Fk = np.full(n, w.sum()) if w is not None else None  # noqa: N806
    if not keys or n == 0:
        return fk, Fk
    columns = [_codes(df.get_column(k)) for k in keys]
    # which keys each record is missing, as a bit mask; one pass per distinct mask
    pattern = np.zeros(n, dtype=np.int64)
    for i, (codes, _) in enumerate(columns):
        pattern |= (codes < 0).astype(np.int64) << i
    for p in np.unique(pattern).tolist():
        present = [i for i in range(len(keys)) if not (p >> i) & 1]
        if not present:
            continue  # missing everywhere: agrees with every record
        rows = pattern == p
        mask = sum(1 << i for i in present)
        # records that have every key this pattern has, whatever they miss elsewhere
        eligible = (pattern & mask) == 0
        ids, space = _combined([columns[i][0] for i in present], [columns[i][1] for i in present])
        counts = np.bincount(ids[eligible], minlength=space)
        fk[rows] = counts[ids[rows]]
        if w is not None:
            Fk[rows] = np.bincount(ids[eligible], weights=w[eligible], minlength=space)[ids[rows]]
    return fk, Fk


def frequencies(df: pl.DataFrame, keys: list[str], weight: str | None = None) -> pl.DataFrame:
    """f_k (and F_k) of every record, with sdcMicro's missing-matches-anything rule."""
    fk, Fk = _frequencies(df, keys, weight)  # noqa: N806
    out = pl.DataFrame({"_row": np.arange(df.height, dtype=np.uint32), "fk": fk})
    return out.with_columns(pl.Series("Fk", Fk)) if Fk is not None else out


def individual_risk(df: pl.DataFrame, keys: list[str], weight: str | None = None) -> pl.Series:
    """Per-record individual risk (sdcMicro ``measure_risk(...)$individual[, "risk"]``)."""
    fk, Fk = _frequencies(df, keys, weight)  # noqa: N806
    return pl.Series("risk", risk_values(fk, Fk))


def measure_risk(
    df: pl.DataFrame, keys: list[str], *, weight: str | None = None, threshold: float = 0.2
) -> RiskSummary:
    """Risk summary: expected re-identifications, global and maximum individual risk."""
    start = time.perf_counter()
    if df.height == 0:
        return RiskSummary(0, 0.0, 0.0, 0.0, 0, threshold, 0, 0.0)
    fk, Fk = _frequencies(df, keys, weight)  # noqa: N806
    risk = risk_values(fk, Fk)
    return RiskSummary(
        records=df.height,
        expected_reidentifications=float(risk.sum()),
        global_risk=float(risk.mean()),
        max_individual_risk=float(risk.max()),
        records_above_threshold=int(np.count_nonzero(risk > threshold)),
        risk_threshold=threshold,
        sample_uniques=int(np.count_nonzero(fk == 1)),
        seconds=time.perf_counter() - start,
    )
