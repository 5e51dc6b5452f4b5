"""The protected aggregate cube: counts and means for every combination of up to
three dimensions, with threshold suppression, complementary suppression and
cell-key perturbation (the ONS method).

Cell-key method (ONS, "Cell key perturbation", as implemented by the
``cell-key-perturbation`` package): every record gets a fixed record key in
0..255 derived from a per-dataset secret seed; a cell's key is the sum of its
records' keys mod 256; the published count is ``count + ptable[pcv, ckey]``.
The same records always give the same cell key, so the same cell always
answers the same, however it is reached. We build the cube with polars
group_bys (one pass per combination) and apply the same arithmetic as
``create_perturbed_table`` (pcv above 750 reuse rows 501..750); a test checks
that both agree cell by cell.

Differencing: cells under the threshold are suppressed; then, until nothing
changes, in every line of every table (the cells that add up to a published
parent along one dimension) a lone suppressed cell, or suppressed cells whose
true total is under the threshold, get the smallest published sibling
suppressed too, so no suppressed count follows from a parent minus its
published children, and what does follow is never a small count. Lines are
not the only attack: any sum and difference of published cells across tables
is, and an attacker who also uses that every cell in the cube holds at least
one person can bound a hidden cell without solving it exactly. So secondary
suppression then works per family of tables (a highest-order table and its
sub-tables): an LP audit computes every hidden small cell's feasibility
interval given everything published, and a cell whose interval does not reach
the threshold (tau-argus's upper protection level) gets the complements of the
cheapest change that moves it up to the threshold (the LP relaxation of the
single-cell protection model), audited again until every small cell is
protected (:mod:`indexer.disclosure.intervals`). Combinations across families
are not audited.

Cells unknown in a dimension (missing, or withheld by k-anonymity: its fully
suppressed class of exactly k records sits alone in a row and column of every
table) are hidden when under the threshold but are not protected: they
describe no group anyone can point at, and the published records show them
anyway. They count as known to the attacker (never a complement, always an
equation), so what they give away about cells of known categories is still
audited; a cell that is the sum of withheld cells alone is shown by the records
themselves and no suppression in the cube can protect it (the audit reports it
as not protectable). Protecting them instead hid every cell around them (on the 3000-row
demo, the whole male/female and urban/rural splits). A complement in a lower
table must also be able to protect: a cell whose top-table cells are all
published is known whatever its own table hides, and is never chosen.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from indexer.disclosure.intervals import (
    Interval,
    cube_intervals,
    family_intervals,
    protect_cube,
    protect_family,
    top_tables,
)
from schema.errors import InvalidInput, Problem
from schema.metadata import DEFAULT_CUBE_THRESHOLD, MAX_CUBE_THRESHOLD, MIN_CUBE_THRESHOLD
from schema.roles import ColumnRole, ColumnSpec

#: the standard's bounds on a dataset's threshold; counts above MAX_PCV take the
#: noise of rows 501..750, so the threshold may not reach them
MIN_THRESHOLD = MIN_CUBE_THRESHOLD
MAX_THRESHOLD = MAX_CUBE_THRESHOLD
KEY_RANGE = 256
MAX_PCV = 750
assert MAX_THRESHOLD <= MAX_PCV - 249
#: largest number of dimensions in one table of the cube
MAX_DIMS = 3
UNKNOWN = "_unknown"  # dimension value missing or suppressed in the records

# Noise added to published counts, by position of the cell key in 0..255:
# unbiased, mostly small.
_NOISE = np.array([-2, -1, 0, 1, 2])
_NOISE_P = np.array([0.08, 0.2, 0.44, 0.2, 0.08])


@dataclass
class CubeCell:
    """One aggregate: ``dims`` maps dimension -> code; a dimension absent means all."""

    dims: dict[str, str]
    count: int | None
    suppressed: bool
    means: dict[str, float | None] = field(default_factory=dict)

    def to_row(self) -> dict:
        return {
            "dims": dict(self.dims),
            "count": self.count,
            "suppressed": self.suppressed,
            "means": dict(self.means),
        }


@dataclass
class ProtectedCube:
    """Every published aggregate of one dataset version."""

    cells: list[CubeCell]
    dimensions: list[str]
    measures: list[str]
    threshold: int

    def to_rows(self) -> list[dict]:
        """Plain dicts for storage (JSON-serialisable)."""
        return [cell.to_row() for cell in self.cells]

    def cell(self, **dims: str) -> CubeCell | None:
        """The cell for exactly these dimension codes (others: all), if present."""
        for cell in self.cells:
            if cell.dims == dims:
                return cell
        return None


def make_ptable(
    threshold: int, *, key_range: int = KEY_RANGE, max_pcv: int = MAX_PCV
) -> pl.DataFrame:
    """The perturbation table (columns pcv, ckey, pvalue) in the package's shape.

    Counts under ``threshold`` go to 0 (suppressed); others get noise in -2..2
    chosen by the cell key, never taking a count under the threshold.
    """
    cumulative = np.cumsum(_NOISE_P)
    pcv = np.repeat(np.arange(1, max_pcv + 1), key_range)
    ckey = np.tile(np.arange(key_range), max_pcv)
    # rotate the key per pcv so that one cell key does not mean one noise everywhere
    u = (((ckey + pcv * 97) % key_range) + 0.5) / key_range
    noise = _NOISE[np.searchsorted(cumulative, u)]
    noise = np.where(pcv + noise < threshold, threshold - pcv, noise)
    pvalue = np.where(pcv < threshold, -pcv, noise)
    return pl.DataFrame({"pcv": pcv, "ckey": ckey, "pvalue": pvalue}).cast(pl.Int64)


def record_keys(n: int, key_seed: bytes | str) -> np.ndarray:
    """Record keys 0..255 from a secret seed (splitmix64 of the row number: stable across versions of any library)."""
    seed = key_seed.encode() if isinstance(key_seed, str) else bytes(key_seed)
    if not seed:
        raise InvalidInput(
            "A cell-key seed is needed.",
            [Problem("missing_seed", "key_seed is empty", field="key_seed")],
        )
    base = np.uint64(
        int.from_bytes(
            hashlib.blake2b(seed, digest_size=8, person=b"cgd-cellkey").digest(), "little"
        )
    )
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + base
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(56)).astype(np.int64)


def _dimensions(
    records: pl.DataFrame, columns: dict[str, ColumnSpec]
) -> tuple[list[str], list[str]]:
    dims = [
        name
        for name, spec in columns.items()
        if name in records.columns
        and (
            spec.role == ColumnRole.DIMENSION
            or (spec.role == ColumnRole.QUASI_IDENTIFIER and spec.dimension)
        )
    ]
    measures = [
        name
        for name, spec in columns.items()
        if name in records.columns and spec.role == ColumnRole.MEASURE
    ]
    return dims, measures


def build_cube(
    records: pl.DataFrame,
    columns: dict[str, ColumnSpec],
    *,
    threshold: int = DEFAULT_CUBE_THRESHOLD,
    key_seed: bytes | str,
    max_dims: int = MAX_DIMS,
) -> ProtectedCube:
    """Counts and means for every combination of up to ``max_dims`` dimensions, protected."""
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        low = threshold < MIN_THRESHOLD
        raise InvalidInput(
            f"The cube threshold must be from {MIN_THRESHOLD} to {MAX_THRESHOLD}, not {threshold}.",
            [
                Problem(
                    "threshold_too_low" if low else "threshold_too_high",
                    f"threshold {threshold} {'<' if low else '>'} "
                    f"{MIN_THRESHOLD if low else MAX_THRESHOLD}",
                    field="cube_threshold",
                )
            ],
        )
    dims, measures = _dimensions(records, columns)
    ptable = _ptable_array(make_ptable(threshold))
    # group on integer codes (in label order), not strings: every table is a group_by
    labels, codes = _coded(records, dims)
    frame = pl.DataFrame(
        codes
        + [records.get_column(m).cast(pl.Float64, strict=False) for m in measures]
        + [pl.Series("_rkey", record_keys(records.height, key_seed))]
    )

    tables: dict[tuple[str, ...], pl.DataFrame] = {}
    aggs = [pl.len().alias("_n"), pl.col("_rkey").sum().alias("_ksum")] + [
        pl.col(m).mean().alias(f"_mean_{m}") for m in measures
    ]
    for size in range(0, min(max_dims, len(dims)) + 1):
        for combo in itertools.combinations(dims, size):
            table = frame.group_by(list(combo)).agg(aggs) if combo else frame.select(aggs)
            if table.height and table["_n"][0] == 0 and not combo:
                table = table.clear()
            # a cell unknown in a dimension describes no group of people (k-anonymity's
            # fully suppressed class lands there in every table): it is hidden when
            # small but is not protected, and counts as known
            withheld = pl.lit(False)
            for d in combo:
                if UNKNOWN in labels[d]:
                    withheld = withheld | (pl.col(d) == labels[d].index(UNKNOWN))
            tables[combo] = table.with_columns(
                ((pl.col("_n") < threshold) & ~withheld).alias("_sup"),
                ((pl.col("_n") < threshold) & withheld).alias("_withheld"),
            ).sort(list(combo) or "_n")

    # Lines first (cheap, and they also keep what a line gives away from being a
    # small total), then the LP audit of every highest-order family, then of the
    # families combined, until none adds a suppression.
    joins: dict = {}  # which lower cell each top cell adds up to, per family: rows never move
    while True:
        _complementary_suppression(tables, threshold)
        if _protect_intervals(tables, threshold, cache=joins):
            continue
        if not protect_cube(tables, threshold, cache=joins):
            break

    cells: list[CubeCell] = []
    for combo, table in tables.items():
        table = _perturb(table, ptable)
        for row in table.iter_rows(named=True):
            suppressed = bool(row["_sup"] or row["_withheld"])
            cells.append(
                CubeCell(
                    dims={d: labels[d][row[d]] for d in combo},
                    count=None if suppressed else int(row["_count"]),
                    suppressed=suppressed,
                    means={
                        m: (
                            None
                            if suppressed or row[f"_mean_{m}"] is None
                            else published_mean(row[f"_mean_{m}"])
                        )
                        for m in measures
                    },
                )
            )
    return ProtectedCube(cells=cells, dimensions=dims, measures=measures, threshold=threshold)


#: Significant figures of a published mean: a full-precision mean of a yes/no or whole-number
#: measure gives away its cell's true count (the one denominator that makes mean x n whole),
#: which undoes the count's perturbation and, through the margins, suppressed cells.
MEAN_FIGURES = 3


def published_mean(value: float) -> float:
    """``value`` rounded to :data:`MEAN_FIGURES` significant figures."""
    return float(f"{float(value):.{MEAN_FIGURES}g}")


def _coded(records: pl.DataFrame, dims: list[str]) -> tuple[dict[str, list[str]], list[pl.Series]]:
    """Each dimension's labels (sorted; a missing value is ``UNKNOWN``) and its values
    as codes in that order."""
    labelled = records.select(pl.col(d).cast(pl.String).fill_null(UNKNOWN) for d in dims)
    labels = {d: sorted(labelled.get_column(d).unique().to_list()) for d in dims}
    return labels, [labelled.get_column(d).cast(pl.Enum(labels[d])).to_physical() for d in dims]


def audit_cube(
    records: pl.DataFrame, cube: ProtectedCube, *, whole: bool = False
) -> list[Interval]:
    """The attacker's feasibility interval of every hidden small cell of ``cube``
    (true count 1 .. threshold - 1, no dimension unknown), family by family.

    Rebuilds the true counts from ``records`` (the records the cube was built
    from) and takes what is hidden from the cube itself, so it checks what was
    published, not the builder's own bookkeeping. Every published cell is
    given to the attacker at its true value; withheld cells (unknown in a
    dimension) count as known. With ``whole``, the attacker combines every
    family at once (a hidden margin is one unknown in all the families that
    have it); the intervals then have ``family == ()`` and their low end is
    only a bound.
    """
    dims = cube.dimensions
    labels, codes = _coded(records, dims)
    frame = pl.DataFrame(codes)
    hidden = {
        tuple(sorted((d, labels[d].index(v)) for d, v in cell.dims.items()))
        for cell in cube.cells
        if cell.suppressed
    }
    max_dims = max((len(c.dims) for c in cube.cells), default=0)
    tables: dict[tuple[str, ...], pl.DataFrame] = {}
    for size in range(max_dims + 1):
        for combo in itertools.combinations(dims, size):
            table = (
                frame.group_by(list(combo)).agg(pl.len().alias("_n"))
                if combo
                else frame.select(pl.len().alias("_n"))
            ).sort(list(combo) or "_n")
            sup, withheld = [], []
            for row in table.iter_rows(named=True):
                key = tuple(sorted((d, row[d]) for d in combo))
                unknown = any(labels[d][row[d]] == UNKNOWN for d in combo)
                small = row["_n"] < cube.threshold
                withheld.append(key in hidden and unknown and small)
                sup.append(key in hidden and not withheld[-1])
            tables[combo] = table.with_columns(
                pl.Series("_sup", sup, dtype=pl.Boolean),
                pl.Series("_withheld", withheld, dtype=pl.Boolean),
            )
    if whole:
        return [
            Interval((), table, row, count, 1.0, high)
            for table, row, count, high in cube_intervals(tables, cube.threshold)
        ]
    return [
        i for family in top_tables(tables) for i in family_intervals(tables, family, cube.threshold)
    ]


def _protect_intervals(
    tables: dict[tuple[str, ...], pl.DataFrame], threshold: int, cache: dict | None = None
) -> bool:
    """LP-pattern complements until every primary cell's feasibility interval reaches
    the threshold, family by family (see :mod:`indexer.disclosure.intervals`)."""
    added = False
    cache = {} if cache is None else cache
    for family in top_tables(tables):
        added |= protect_family(tables, family, threshold, cache)
    return added


def _perturb(table: pl.DataFrame, ptable: np.ndarray) -> pl.DataFrame:
    """count + pvalue(pcv, ckey), as ``cell_key_perturbation.create_perturbed_table``
    (``ptable`` is the table as an array indexed by pcv and ckey)."""
    n = table.get_column("_n").to_numpy().astype(np.int64)
    ckey = table.get_column("_ksum").to_numpy().astype(np.int64) % KEY_RANGE
    pcv = np.where(n <= MAX_PCV, n, (n - 1) % 250 + 501)
    inside = (pcv >= 1) & (pcv < ptable.shape[0])
    pvalue = np.where(inside, ptable[np.clip(pcv, 0, ptable.shape[0] - 1), ckey], 0)
    return table.with_columns(pl.Series("_count", n + pvalue))


def _ptable_array(ptable: pl.DataFrame) -> np.ndarray:
    """The perturbation table as an array: ``array[pcv, ckey]`` is the pvalue (0 when absent)."""
    pcv = ptable.get_column("pcv").to_numpy()
    ckey = ptable.get_column("ckey").to_numpy()
    out = np.zeros((int(pcv.max(initial=0)) + 1, KEY_RANGE), dtype=np.int64)
    out[pcv, ckey] = ptable.get_column("pvalue").to_numpy()
    return out


def _complementary_suppression(tables: dict[tuple[str, ...], pl.DataFrame], threshold: int) -> None:
    """Suppress siblings until no line of any table gives away a small count."""
    changed = True
    while changed:
        changed = False
        for combo, children in tables.items():
            for dim in combo:
                parent_dims = [d for d in combo if d != dim]
                parent = tables[tuple(parent_dims)]
                lines = children.group_by(parent_dims or pl.lit(0).alias("_all")).agg(
                    pl.col("_sup").sum().alias("_nsup"),
                    pl.col("_n").filter(pl.col("_sup")).sum().alias("_supn"),
                    (~pl.col("_sup") & ~pl.col("_withheld")).sum().alias("_npub"),
                )
                if parent_dims:
                    lines = lines.join(
                        parent.select(parent_dims + [pl.col("_sup").alias("_psup")]),
                        on=parent_dims,
                        how="left",
                    )
                else:
                    lines = lines.drop("_all").with_columns(
                        pl.lit(bool(parent["_sup"][0]) if parent.height else True).alias("_psup")
                    )
                weak = lines.filter(
                    ~pl.col("_psup").fill_null(True)
                    & (pl.col("_nsup") > 0)
                    & ((pl.col("_nsup") == 1) | (pl.col("_supn") < threshold))
                    # a line whose other cells are known has nothing to hide here;
                    # the LP audit (withheld cells count as known) settles it
                    & (pl.col("_npub") > 0)
                )
                if weak.height == 0:
                    continue
                # the smallest published sibling in each weak line
                candidates = children.with_row_index("_i").filter(
                    ~pl.col("_sup") & ~pl.col("_withheld")
                )
                if parent_dims:
                    candidates = candidates.join(
                        weak.select(parent_dims), on=parent_dims, how="semi"
                    )
                pick = (
                    candidates.sort(["_n", "_i"])
                    .group_by(parent_dims or pl.lit(0).alias("_all"), maintain_order=True)
                    .first()
                )
                rows = pick.get_column("_i")
                flags = children.get_column("_sup").to_numpy().copy()
                flags[rows.to_numpy()] = True
                tables[combo] = children.with_columns(pl.Series("_sup", flags))
                children = tables[combo]
                changed = True
