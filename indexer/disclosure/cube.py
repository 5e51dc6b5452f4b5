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
is, so a linear audit then checks, per family of tables (a highest-order
table and its sub-tables), which suppressed small cells lie in the span of the
published ones, and suppresses a sibling of each until none does (families
with more than ``MAX_AUDIT_UNKNOWNS`` suppressed cells are left to lines and
perturbation). A determined small cell with no sibling to hide (every one
hidden, or withheld and so known) gets instead the cell that closes its
equation: a published margin cell (a parent in a lower table) or a top cell
beside its unknowns that alone leaves it undetermined (top cells first, then the
smallest), else the cheapest margin cell and sibling pair that does; one such
cell per round, audited again. Combinations across families are not audited.

Cells unknown in a dimension (missing, or withheld by k-anonymity: its fully
suppressed class of exactly k records sits alone in a row and column of every
table) are hidden when under the threshold but are not protected: they
describe no group anyone can point at, and the published records show them
anyway. They count as known to the attacker (never a complement, always an
equation), so what they give away about cells of known categories is still
audited. Protecting them instead hid every cell around them (on the 3000-row
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

from schema.errors import InvalidInput, Problem
from schema.roles import ColumnRole, ColumnSpec

MIN_THRESHOLD = 5
#: families with more suppressed cells than this are protected by lines and
#: perturbation only (the audit's SVD costs equations x unknowns^2 per round)
MAX_AUDIT_UNKNOWNS = 250
#: rounds of the audit per family before it stops adding suppressions
MAX_AUDIT_ROUNDS = 25
#: top cells tried (smallest first) as the complement of a cell with no sibling to hide
MAX_TOP_OPTIONS = 24
KEY_RANGE = 256
MAX_PCV = 750
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
    threshold: int = 10,
    key_seed: bytes | str,
    max_dims: int = 3,
) -> ProtectedCube:
    """Counts and means for every combination of up to ``max_dims`` dimensions, protected."""
    if threshold < MIN_THRESHOLD:
        raise InvalidInput(
            f"The cube threshold may not be below {MIN_THRESHOLD}.",
            [
                Problem(
                    "threshold_too_low",
                    f"threshold {threshold} < {MIN_THRESHOLD}",
                    field="cube_threshold",
                )
            ],
        )
    dims, measures = _dimensions(records, columns)
    ptable = make_ptable(threshold)
    labelled = records.select(pl.col(d).cast(pl.String).fill_null(UNKNOWN) for d in dims)
    # group on integer codes (in label order), not strings: every table is a group_by
    labels = {
        d: sorted(v for v in labelled.get_column(d).unique().to_list() if v is not None)
        for d in dims
    }
    frame = pl.DataFrame(
        [labelled.get_column(d).cast(pl.Enum(labels[d])).to_physical() for d in dims]
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
    # small total), then the linear audit of every highest-order family, until
    # neither adds a suppression.
    while True:
        _complementary_suppression(tables, threshold)
        if not _linear_audit(tables, threshold):
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
                            else float(row[f"_mean_{m}"])
                        )
                        for m in measures
                    },
                )
            )
    return ProtectedCube(cells=cells, dimensions=dims, measures=measures, threshold=threshold)


def _perturb(table: pl.DataFrame, ptable: pl.DataFrame) -> pl.DataFrame:
    """count + pvalue(pcv, ckey), as ``cell_key_perturbation.create_perturbed_table``."""
    table = table.with_columns(
        (pl.col("_ksum") % KEY_RANGE).cast(pl.Int64).alias("ckey"),
        pl.when(pl.col("_n") <= MAX_PCV)
        .then(pl.col("_n"))
        .otherwise((pl.col("_n") - 1) % 250 + 501)
        .cast(pl.Int64)
        .alias("pcv"),
    )
    table = table.join(ptable, on=["pcv", "ckey"], how="left").with_columns(
        pl.col("pvalue").fill_null(0)
    )
    return table.with_columns((pl.col("_n") + pl.col("pvalue")).alias("_count"))


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
                    # the linear audit (withheld cells count as known) settles it
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


def _linear_audit(tables: dict[tuple[str, ...], pl.DataFrame], threshold: int) -> bool:
    """Suppress more until no small suppressed cell follows from published ones.

    Differencing is linear algebra: an attacker who combines any published
    cells (by, filter, complements, across tables) learns a suppressed cell
    exactly when its vector lies in the span of the published cells' vectors.
    For each family of tables (a highest-order table and the tables of its
    sub-combinations) the unknowns are the suppressed cells of the highest-order
    table; published lower cells are equations over them. A suppressed cell
    whose vector is orthogonal to the null space of those equations is
    determined; if its count is small, the smallest published cell of the top
    table beside it is suppressed too, and the family is audited again.
    Returns whether anything was added.
    """
    top_size = max((len(c) for c in tables), default=0)
    added = False
    for family in [c for c in tables if len(c) == top_size and top_size > 0]:
        for _ in range(MAX_AUDIT_ROUNDS):
            if not _audit_family(tables, family, threshold):
                break
            added = True
    return added


def _audit_family(
    tables: dict[tuple[str, ...], pl.DataFrame], family: tuple[str, ...], threshold: int
) -> bool:
    top = tables[family]
    sup = top.get_column("_sup").to_numpy()
    counts = top.get_column("_n").to_numpy()
    unknown = np.flatnonzero(sup)
    if len(unknown) == 0 or len(unknown) > MAX_AUDIT_UNKNOWNS:
        return False
    rows = np.arange(len(unknown))
    equations: list[np.ndarray] = []
    # which published cell each equation is: (table, row)
    labels: list[tuple[tuple[str, ...], int]] = []
    # (table, cell, vector over the unknowns, true count)
    targets: list[tuple[tuple[str, ...], int, np.ndarray, int]] = [
        (family, int(r), np.eye(1, len(unknown), j)[0], int(counts[r]))
        for j, r in enumerate(unknown)
    ]
    # a published lower cell whose top cells are all published is known whatever
    # is hidden in its own table: hiding it as a complement would protect nothing
    involved: dict[tuple[str, ...], np.ndarray] = {}
    cells_of: dict[tuple[str, ...], np.ndarray] = {}
    for size in range(len(family)):
        for sub in itertools.combinations(family, size):
            table = tables[sub]
            cell_of = _cell_of(top, table, sub)
            cells_of[sub] = cell_of
            matrix = np.zeros((table.height, len(unknown)))
            matrix[cell_of[unknown], rows] = 1.0
            involved[sub] = matrix.any(axis=1)
            table_sup = table.get_column("_sup").to_numpy()
            table_n = table.get_column("_n").to_numpy()
            for i in range(table.height):
                if table_sup[i]:
                    targets.append((sub, i, matrix[i], int(table_n[i])))
                else:
                    equations.append(matrix[i])
                    labels.append((sub, i))
    system = np.array(equations) if equations else np.zeros((0, len(unknown)))
    null = _null_space(system)
    chosen: dict[tuple[str, ...], set[int]] = {}
    closed = False
    for sub, cell, vector, count in targets:
        if count >= threshold or count == 0:
            continue
        if null.shape[0] and np.abs(null @ vector).max() > 1e-9:
            continue  # not determined by the published cells
        pick = _sibling(tables[sub], sub, cell, involved.get(sub))
        if pick is not None:
            chosen.setdefault(sub, set()).add(pick)
            continue
        # No complement on any line of its own table (every sibling is hidden, or
        # withheld and so known): hide either a published margin cell that closes
        # the equation (a parent in a lower table) or a top cell beside one of its
        # unknowns, preferring one that alone leaves it undetermined, then the
        # smallest; a margin cell otherwise, since lines then protect the margin.
        if closed:
            continue  # one at a time: what closes one often closes the next
        for sub_pick, row in _close_equation(
            tables, family, sub, cell, vector, system, labels, cells_of, unknown
        ):
            chosen.setdefault(sub_pick, set()).add(row)
            closed = True
    for sub, picks in chosen.items():
        flags = tables[sub].get_column("_sup").to_numpy().copy()
        flags[sorted(picks)] = True
        tables[sub] = tables[sub].with_columns(pl.Series("_sup", flags))
    return bool(chosen)


def _determined(system: np.ndarray, vector: np.ndarray) -> bool:
    """Whether ``vector`` lies in the row space of ``system`` (the attacker learns it)."""
    null = _null_space(system)
    return not (null.shape[0] and np.abs(null @ vector).max() > 1e-9)


def _close_equation(
    tables: dict[tuple[str, ...], pl.DataFrame],
    family: tuple[str, ...],
    sub: tuple[str, ...],
    cell: int,
    vector: np.ndarray,
    system: np.ndarray,
    labels: list[tuple[tuple[str, ...], int]],
    cells_of: dict[tuple[str, ...], np.ndarray],
    unknown: np.ndarray,
) -> list[tuple[tuple[str, ...], int]]:
    """The cells to hide so a determined small cell with no sibling to hide stops
    being determined, as (table, row): one cell that alone is enough (a margin
    cell closing the equation or a top cell beside its unknowns), the smallest;
    else a margin cell and a sibling of its own, the pair of smallest total;
    else none (the cell stays determined whatever one or two cells are hidden)."""
    top = tables[family]
    row_of = {label: k for k, label in enumerate(labels)}
    # (effective, count, order, table, row)
    options: list[tuple[bool, int, int, tuple[str, ...], int]] = []
    table = tables[sub]
    for d in sub:
        parent = tuple(x for x in sub if x != d)
        prow = _parent_row(table, sub, cell, tables[parent], parent)
        k = row_of.get((parent, prow))
        if k is None:
            continue  # hidden already, or withheld (known whatever we do)
        effective = not _determined(np.delete(system, k, axis=0), vector)
        options.append((effective, int(tables[parent]["_n"][prow]), 0, parent, prow))
    top_n = top.get_column("_n").to_numpy()
    beside = sorted(
        {
            sib
            for j in np.flatnonzero(vector > 0)
            for sib in _siblings(top, family, int(unknown[j]))
        },
        key=lambda r: (top_n[r], r),
    )
    for pick in beside[:MAX_TOP_OPTIONS]:
        # the top cell becomes one more unknown, in every equation that adds it up
        column = np.array(
            [1.0 if (cells_of[s][pick] == i if s != family else False) else 0.0 for s, i in labels]
        )
        inside = 1.0 if sub != family and cells_of[sub][pick] == cell else 0.0
        effective = not _determined(
            np.column_stack([system, column]) if system.size else system,
            np.append(vector, inside),
        )
        options.append((effective, int(top_n[pick]), 1, family, pick))
    if not options:
        return []
    effective = [o for o in options if o[0]]
    if effective:
        best = min(effective, key=lambda o: (-o[2], o[1]))
        return [(best[3], best[4])]
    # a margin cell and one of its own siblings (the complement lines would add,
    # chosen here so that the pair leaves the cell undetermined): the cheapest pair
    pairs: list[tuple[int, tuple[str, ...], int]] = []
    for _, n, kind, parent, prow in options:
        if kind != 0:
            continue
        k = row_of[(parent, prow)]
        ptable = tables[parent]
        p_n = ptable.get_column("_n").to_numpy()
        for sib in _siblings(ptable, parent, prow):
            k2 = row_of.get((parent, sib))
            if k2 is None:
                continue
            if not _determined(np.delete(system, [k, k2], axis=0), vector):
                pairs.append((n + int(p_n[sib]), parent, prow, sib))
    if pairs:
        _, parent, prow, sib = min(pairs, key=lambda o: (-len(o[1]), o[0]))
        return [(parent, prow), (parent, sib)]
    return []


def _parent_row(
    table: pl.DataFrame,
    dims: tuple[str, ...],
    cell: int,
    parent: pl.DataFrame,
    parent_dims: tuple[str, ...],
) -> int:
    """The row of ``parent`` (over ``parent_dims``) that ``cell`` of ``table`` adds up to."""
    if not parent_dims:
        return 0
    match = np.ones(parent.height, dtype=bool)
    for d in parent_dims:
        match &= parent.get_column(d).to_numpy() == table.get_column(d)[cell]
    return int(np.flatnonzero(match)[0])


def _cell_of(top: pl.DataFrame, table: pl.DataFrame, sub: tuple[str, ...]) -> np.ndarray:
    """For each cell of the top table, the row of ``table`` (over ``sub``) it adds up to."""
    if not sub:
        return np.zeros(top.height, dtype=np.int64)
    joined = (
        top.select(list(sub))
        .with_row_index("_r")
        .join(table.select(list(sub)).with_row_index("_c"), on=list(sub), how="left")
        .sort("_r")
    )
    return joined.get_column("_c").to_numpy().astype(np.int64)


def _null_space(matrix: np.ndarray) -> np.ndarray:
    """Rows spanning the null space of ``matrix`` (vectors it sends to zero)."""
    columns = matrix.shape[1]
    matrix = matrix[matrix.any(axis=1)]  # equations over published cells only say nothing
    if matrix.shape[0] == 0:
        return np.eye(columns)
    # eigenvectors of the Gram matrix with eigenvalue 0 span the null space; it is
    # unknowns x unknowns whatever the number of equations
    gram = matrix.T @ matrix
    values, vectors = np.linalg.eigh(gram)
    return vectors[:, values <= 1e-9 * max(1.0, float(values.max(initial=0.0)))].T


def _siblings(table: pl.DataFrame, dims: tuple[str, ...], cell: int) -> list[int]:
    """The published cells of ``table`` on a line with ``cell``."""
    if not dims:
        return []
    differing = np.zeros(table.height, dtype=np.int64)
    for d in dims:
        codes = table.get_column(d).to_numpy()
        differing += codes != codes[cell]
    sup = table.get_column("_sup").to_numpy()
    withheld = table.get_column("_withheld").to_numpy()
    return np.flatnonzero((differing == 1) & ~sup & ~withheld).tolist()


def _sibling(
    table: pl.DataFrame, dims: tuple[str, ...], cell: int, allowed: np.ndarray | None = None
) -> int | None:
    """The smallest published cell of ``table`` on a line with ``cell`` (all codes but
    one equal), among ``allowed`` rows if given."""
    if not dims:
        return None
    sup = table.get_column("_sup").to_numpy()
    counts = table.get_column("_n").to_numpy()
    codes = {d: table.get_column(d).to_numpy() for d in dims}
    differing = np.zeros(table.height, dtype=np.int64)
    for d in dims:
        differing += codes[d] != codes[d][cell]
    withheld = table.get_column("_withheld").to_numpy()
    eligible = (differing == 1) & ~sup & ~withheld
    if allowed is not None:
        eligible &= allowed
    candidates = np.flatnonzero(eligible)
    if len(candidates) == 0:
        return None
    return int(min(candidates.tolist(), key=lambda r: (counts[r], r)))
