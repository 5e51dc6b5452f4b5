"""Protection intervals: what an attacker can still bound a hidden cell to.

Differencing is more than solving equations exactly. Given every published
cell of a family of tables (a highest-order table and the tables of its
sub-combinations, which add up from it), an attacker knows that each hidden
cell of the top table is a whole number of at least 1 (a cell is in the cube
only when someone is in it) and that the hidden cells must add up to every
published cell. The smallest and largest value a hidden cell can take under
those constraints is its *feasibility interval*; an exact derivation is the
case where both ends meet, but an interval of [7, 8] for a count of 7 gives
it away nearly as well.

The criterion is tau-argus's and sdcTable's upper protection level for
frequency tables: the interval of every primary suppressed cell (true count
1 .. threshold - 1) must reach the threshold, ``high >= threshold``, so the
attacker cannot tell it from a count that would have been published. (Its
lower bound cannot be protected the same way: a cell's own sub-cells are in
the cube, so it is at least the number of them; the cube publishes which
cells are non-empty.)

``family_intervals`` is the audit: one linear programme per hidden cell and
bound (``scipy.optimize.linprog``, HiGHS), on the connected block of hidden
cells that the target touches. The LP relaxation is the attacker's best case
(real values only widen the interval an integer attacker would get, and never
by a whole unit at a vertex, since the constraint matrix of a table is the
incidence matrix of sums).

``protect_family`` is the secondary suppression that makes it hold. For each
primary cell that fails, the LP relaxation of the single-cell protection model
(Fischetti and Salazar's attacker subproblem, as in tau-argus's optimal and
modular methods) finds a change ``y`` of the top table that moves the cell up
by ``threshold - count``, keeps every withheld cell and the grand total as they
are, keeps every top cell at 1 or more, and minimises the weighted size of the
change on the cells not hidden yet: a top cell weighs its count, a lower cell
its count times ``LOWER_WEIGHT`` per dimension it is a total in (the small
tables are what users read first), a hidden cell nothing. Every cell the change
touches is hidden. ``y`` is then a direction the attacker cannot rule out, so
the interval reaches the threshold by construction; the family is audited
again all the same, since the audit, not the construction, is the guarantee.

Families share their margins: a hidden two-way cell is the same unknown in
every three-way family that has it, so an attacker who uses all families at
once can pin what no single family does (on the 600-row demo survey, where the
Washington Group cut-off of difficulty walking and the disability identifier
are the same split, 32 small cells). ``cube_intervals`` audits that attacker
(every hidden cell of every table a variable, every family's sums an
equation) and ``protect_cube`` fixes what it finds with the same LP pattern
over every cell of every table; the builder runs it after the per-family step.

The hypercube method (Repsilber's GHMITER, tau-argus's fast default) was tried
first: a hypercube needs every ``-`` corner of the top table to hold
``threshold - count + 1`` or more, which sparse three-way tables rarely have,
so it fell back on corners in the one-way tables: on the 900-row differencing
tables it hid 9 of 14 one-way cells where the LP patterns hide 2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix, hstack, identity, vstack
from scipy.sparse.csgraph import connected_components

#: cost multiplier of a complement per dimension it is a total in
LOWER_WEIGHT = 6.0
#: rounds of audit + patterns per family (one is enough by construction; the
#: second audits it)
MAX_ROUNDS = 4
_EPS = 1e-6


@dataclass(frozen=True)
class Interval:
    """The attacker's feasibility interval for one hidden cell of a family."""

    family: tuple[str, ...]
    table: tuple[str, ...]
    row: int
    count: int
    low: float
    high: float  # inf when nothing bounds it from above
    #: hidden cells of the top table inside it; 0 means it is the sum of cells
    #: the attacker knows (withheld ones: the published records show them), which
    #: no suppression in the cube can protect
    hidden_parts: int = 1

    def protected(self, threshold: int) -> bool:
        return self.high >= threshold - _EPS

    @property
    def protectable(self) -> bool:
        return self.hidden_parts > 0


def _cell_of(
    top: pl.DataFrame,
    table: pl.DataFrame,
    sub: tuple[str, ...],
    cache: dict | None = None,
    family: tuple[str, ...] = (),
) -> np.ndarray:
    """For each row of the top table, the row of ``table`` (over ``sub``) it adds up to
    (kept in ``cache``: only the flags of a table change, never its rows)."""
    if not sub:
        return np.zeros(top.height, dtype=np.int64)
    key = ("cell_of", family, sub)
    if cache is not None and key in cache:
        return cache[key]
    joined = (
        top.select(list(sub))
        .with_row_index("_r")
        .join(table.select(list(sub)).with_row_index("_c"), on=list(sub), how="left")
        .sort("_r")
    )
    out = joined.get_column("_c").to_numpy().astype(np.int64)
    if cache is not None:
        cache[key] = out
    return out


def top_tables(tables: dict[tuple[str, ...], pl.DataFrame]) -> list[tuple[str, ...]]:
    """The highest-order tables: each heads a family with the tables of its sub-combinations."""
    top_size = max((len(c) for c in tables), default=0)
    return [c for c in tables if len(c) == top_size and top_size > 0]


@dataclass
class _System:
    """The attacker's view of one family: hidden top cells are the variables."""

    unknown: np.ndarray  # rows of the top table that are hidden
    truth: np.ndarray  # their true counts
    equations: csr_matrix  # published (or withheld) lower cells over the unknowns
    rhs: np.ndarray
    component: np.ndarray  # connected block of each unknown
    constrained: np.ndarray  # whether a block has any equation
    # (table, row, its hidden top cells as indices of the unknowns, true count)
    targets: list[tuple[tuple[str, ...], int, np.ndarray, int]]


def _system(
    tables: dict[tuple[str, ...], pl.DataFrame], family: tuple[str, ...], cache: dict | None
) -> _System:
    top = tables[family]
    sup = top.get_column("_sup").to_numpy()
    counts = top.get_column("_n").to_numpy().astype(np.int64)
    unknown = np.flatnonzero(sup)
    truth = counts[unknown]
    n = len(unknown)
    columns = np.arange(n)
    rows_eq: list[np.ndarray] = []
    cols_eq: list[np.ndarray] = []
    rhs: list[np.ndarray] = []
    offset = 0
    targets: list[tuple[tuple[str, ...], int, np.ndarray, int]] = [
        (family, int(r), np.array([j]), int(counts[r])) for j, r in enumerate(unknown)
    ]
    for size in range(len(family)):
        for sub in itertools.combinations(family, size):
            table = tables[sub]
            cell_of = _cell_of(top, table, sub, cache, family)[unknown]
            hidden = table.get_column("_sup").to_numpy()
            table_n = table.get_column("_n").to_numpy().astype(np.int64)
            # equations: known lower cells that contain hidden top cells
            known_members = ~hidden[cell_of]
            if known_members.any():
                local = cell_of[known_members]
                distinct, eq_index = np.unique(local, return_inverse=True)
                rows_eq.append(eq_index + offset)
                cols_eq.append(columns[known_members])
                rhs.append(np.bincount(eq_index, weights=truth[known_members]))
                offset += len(distinct)
            # targets: hidden lower cells, the sum of their hidden top cells
            order = np.argsort(cell_of, kind="stable")
            for cell in np.flatnonzero(hidden):
                lo, hi = np.searchsorted(cell_of[order], [cell, cell + 1])
                targets.append((sub, int(cell), order[lo:hi], int(table_n[cell])))
    if rows_eq:
        r = np.concatenate(rows_eq)
        c = np.concatenate(cols_eq)
        equations = coo_matrix((np.ones(len(r)), (r, c)), shape=(offset, n)).tocsr()
        b = np.concatenate(rhs)
    else:
        equations = csr_matrix((0, n))
        b = np.zeros(0)
    # blocks of unknowns linked by an equation
    link = (equations.T @ equations).tocsr() if n else csr_matrix((0, 0))
    n_blocks, component = connected_components(link, directed=False) if n else (0, np.zeros(0))
    constrained = np.zeros(n_blocks, dtype=bool)
    if equations.nnz:
        constrained[component[equations.indices]] = True
    return _System(unknown, truth, equations, b, component, constrained, targets)


def _bounds(system: _System, members: np.ndarray, cache: dict) -> tuple[float, float]:
    """min and max of the sum of ``members`` (indices of unknowns), each >= 1."""
    if len(members) == 0:
        return 0.0, 0.0
    bottom = high = 0.0
    for block in np.unique(system.component[members]):
        inside = members[system.component[members] == block]
        if not system.constrained[block]:
            bottom += len(inside)
            high = np.inf
            continue
        key = (int(block), tuple(inside.tolist()))
        if key not in cache:
            cache[key] = _block_bounds(system, int(block), inside)
        lo, hi = cache[key]
        bottom += lo
        high += hi
    return bottom, high


def _block_bounds(system: _System, block: int, inside: np.ndarray) -> tuple[float, float]:
    variables = np.flatnonzero(system.component == block)
    position = {int(v): i for i, v in enumerate(variables)}
    sub = system.equations[:, variables]
    used = np.flatnonzero(np.diff(sub.tocsr().indptr) > 0)
    a_eq = sub[used]
    b_eq = system.rhs[used]
    c = np.zeros(len(variables))
    c[[position[int(v)] for v in inside]] = 1.0
    out = []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_eq=a_eq, b_eq=b_eq, bounds=(1, None), method="highs")
        if res.status == 3:  # unbounded
            out.append(np.inf if sign < 0 else float(len(inside)))
        elif res.status == 0:
            out.append(sign * float(res.fun))
        else:  # the truth is feasible, so this is numerical trouble: assume the worst
            truth = float(system.truth[inside].sum())
            out.append(truth)
    return out[0], out[1]


def family_intervals(
    tables: dict[tuple[str, ...], pl.DataFrame],
    family: tuple[str, ...],
    threshold: int,
    *,
    low: bool = True,
    cache: dict | None = None,
) -> list[Interval]:
    """The feasibility interval of every hidden small cell of the family (count
    1 .. threshold - 1) that is not withheld.

    With ``low`` false this is the quick check the builder runs: the lower ends
    are only bounds (the number of hidden cells inside), and an upper end that
    reaches the threshold is any feasible value at or above it rather than the
    maximum (see :func:`_screen`); an upper end under the threshold is exact.
    """
    system = _system(tables, family, cache)
    chosen = []
    for table, row, members, count in system.targets:
        if not (1 <= count < threshold):
            continue
        if tables[table]["_withheld"][row]:
            continue
        chosen.append((table, row, members, count, count - int(system.truth[members].sum())))
    if not low:
        highs = _screen(system, [(m, threshold - k) for _, _, m, _, k in chosen])
        return [
            Interval(family, t, r, n, float(len(m)) + k, h + k, len(m))
            for (t, r, m, n, k), h in zip(chosen, highs, strict=True)
        ]
    bounds: dict = {}
    out = []
    for table, row, members, count, known in chosen:
        bottom, high = _bounds(system, members, bounds)
        out.append(Interval(family, table, row, count, bottom + known, high + known, len(members)))
    return out


#: LPs that push all pending cells up at once before each is solved alone
SCREEN_ROUNDS = 6


def _screen(system: _System, wanted: list[tuple[np.ndarray, float]]) -> list[float]:
    """For each (members, need): a value the sum of ``members`` can take that is
    at least ``need``, or else its exact maximum.

    Every LP solution is a feasible point of the attacker's polytope, and so is
    the truth; a target is settled as soon as some known point gives it
    ``need``. A few LPs maximise the sum of all pending targets at once (one
    point settles many: it maximises the sum of min(target, need)), then each
    target left is maximised alone. On a 1M-row
    cube this takes tens of LPs where one per target took thousands.
    """
    n = len(system.unknown)
    if not wanted:
        return []
    rows = np.concatenate([np.full(len(m), i) for i, (m, _) in enumerate(wanted)])
    cols = np.concatenate([m for m, _ in wanted])
    targets = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(wanted), n)).tocsr()
    need = np.array([w for _, w in wanted], dtype=float)
    best = targets @ system.truth.astype(float)
    pending = np.flatnonzero(best < need - _EPS)
    if len(pending) == 0 or n == 0:
        return best.tolist()
    upper = float(system.truth.sum()) + float(system.rhs.max(initial=0.0))

    a_eq = system.equations if system.equations.shape[0] else None
    b_eq = system.rhs if system.equations.shape[0] else None

    def solve(objective: np.ndarray) -> np.ndarray | None:
        res = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(1, upper), method="highs")
        return res.x if res.status == 0 else None

    for _ in range(SCREEN_ROUNDS):
        # maximise the sum of min(target, need) over the pending targets: one
        # point that brings as many as it can up to their need
        p = len(pending)
        sub = targets[pending]
        a_ub = hstack([-sub, identity(p, format="csr")]).tocsr()
        res = linprog(
            np.concatenate([np.zeros(n), -np.ones(p)]),
            A_ub=a_ub,
            b_ub=np.zeros(p),
            A_eq=hstack([a_eq, csr_matrix((a_eq.shape[0], p))]).tocsr()
            if a_eq is not None
            else None,
            b_eq=b_eq,
            bounds=[(1, upper)] * n + [(0, float(w)) for w in need[pending]],
            method="highs",
        )
        if res.status != 0:
            break
        best = np.maximum(best, targets @ res.x[:n])
        settled = best[pending] >= need[pending] - _EPS
        pending = pending[~settled]
        if len(pending) == 0 or not settled.any():
            break
    for i in pending.tolist():
        if best[i] >= need[i] - _EPS:
            continue  # settled by an earlier target's point
        point = solve(targets[i].toarray().ravel())
        if point is None:  # numerical trouble: keep what is known to be feasible
            continue
        best = np.maximum(best, targets @ point)
    return best.tolist()


def unprotected(
    tables: dict[tuple[str, ...], pl.DataFrame],
    family: tuple[str, ...],
    threshold: int,
    cache: dict | None = None,
) -> list[Interval]:
    """The primary cells of the family whose interval does not reach the threshold
    and that some suppression could protect (see :attr:`Interval.protectable`)."""
    return [
        i
        for i in family_intervals(tables, family, threshold, low=False, cache=cache)
        if i.protectable and not i.protected(threshold)
    ]


def _lp_pattern(
    tables: dict[tuple[str, ...], pl.DataFrame],
    family: tuple[str, ...],
    interval: Interval,
    need: int,
    cache: dict | None = None,
) -> tuple[dict[tuple[str, ...], set[int]], np.ndarray | None]:
    """The cells to hide so ``interval``'s cell can move up by ``need``: the LP
    relaxation of the single-cell protection model (Fischetti and Salazar):
    find a change ``y`` of the top table, ``y >= 1 - count`` on its cells, that
    moves the cell by ``need``, keeps withheld cells and the grand total as
    they are, and minimises the weighted size of the change of every cell not
    hidden yet (top cells by count, lower cells by count x ``LOWER_WEIGHT`` per
    total). Every cell the change touches is hidden; empty when there is none.
    """
    top = tables[family]
    n = top.height
    counts = top.get_column("_n").to_numpy().astype(float)
    hidden = top.get_column("_sup").to_numpy()
    withheld = top.get_column("_withheld").to_numpy()
    m = len(family)
    blocks: list[tuple[tuple[str, ...], csr_matrix]] = []
    for size in range(m):
        for sub in itertools.combinations(family, size):
            cell_of = _cell_of(top, tables[sub], sub, cache, family)
            blocks.append(
                (
                    sub,
                    coo_matrix(
                        (np.ones(n), (cell_of, np.arange(n))), shape=(tables[sub].height, n)
                    ).tocsr(),
                )
            )
    # variables: u (n), v (n) with y = u - v, then t (one per lower cell) >= |M y|
    lower = sum(matrix.shape[0] for _, matrix in blocks)
    top_cost = np.where(hidden, 0.0, counts) + 1e-3
    cost = [top_cost, top_cost]
    ub_rows, eq_rows, eq_rhs = [], [], []
    offset = 2 * n
    for sub, matrix in blocks:
        table = tables[sub]
        h = matrix.shape[0]
        sub_hidden = table.get_column("_sup").to_numpy()
        sub_known = table.get_column("_withheld").to_numpy() | (len(sub) == 0)
        weight = LOWER_WEIGHT ** (m - len(sub))
        cost.append(np.where(sub_hidden, 0.0, table.get_column("_n").to_numpy() * weight) + 1e-3)
        eye = coo_matrix(
            (np.ones(h), (np.arange(h), offset + np.arange(h))), shape=(h, 2 * n + lower)
        )
        my = _pad(matrix, 2 * n + lower)
        ub_rows += [my - eye, -my - eye]
        fixed = np.flatnonzero(sub_known & ~sub_hidden)
        if len(fixed):
            eq_rows.append(my[fixed])
            eq_rhs.append(np.zeros(len(fixed)))
        if sub == interval.table:
            eq_rows.append(my[[interval.row]])
            eq_rhs.append(np.array([float(need)]))
        offset += h
    if interval.table == family:
        row = np.zeros((1, 2 * n + lower))
        row[0, interval.row], row[0, n + interval.row] = 1.0, -1.0
        eq_rows.append(csr_matrix(row))
        eq_rhs.append(np.array([float(need)]))
    bounds = (
        [(0, 0) if withheld[i] else (0, None) for i in range(n)]
        + [(0, 0) if withheld[i] else (0, max(counts[i] - 1, 0)) for i in range(n)]
        + [(0, None)] * lower
    )
    res = linprog(
        np.concatenate(cost),
        A_ub=vstack(ub_rows).tocsr(),
        b_ub=np.zeros(2 * lower),
        A_eq=vstack(eq_rows).tocsr(),
        b_eq=np.concatenate(eq_rhs),
        bounds=bounds,
        method="highs",
    )
    if res.status != 0:
        return {}, None
    y = res.x[:n] - res.x[n : 2 * n]
    out: dict[tuple[str, ...], set[int]] = {}
    moved = np.flatnonzero((np.abs(y) > 1e-7) & ~hidden)
    if len(moved):
        out[family] = set(moved.tolist())
    for sub, matrix in blocks:
        change = matrix @ y
        sub_hidden = tables[sub].get_column("_sup").to_numpy()
        rows = np.flatnonzero((np.abs(change) > 1e-7) & ~sub_hidden)
        if len(rows):
            out.setdefault(sub, set()).update(rows.tolist())
    return out, counts + y


def _pad(matrix: csr_matrix, width: int) -> csr_matrix:
    """``[matrix, -matrix, 0]``: the matrix applied to ``y = u - v`` in the LP's variables."""
    coo = matrix.tocoo()
    n = matrix.shape[1]
    return coo_matrix(
        (
            np.concatenate([coo.data, -coo.data]),
            (np.concatenate([coo.row, coo.row]), np.concatenate([coo.col, coo.col + n])),
        ),
        shape=(matrix.shape[0], width),
    ).tocsr()


def protect_family(
    tables: dict[tuple[str, ...], pl.DataFrame],
    family: tuple[str, ...],
    threshold: int,
    cache: dict | None = None,
) -> bool:
    """Hide complements until every primary cell of the family that some suppression
    can protect reaches the threshold (or rounds run out). Returns whether anything
    was hidden (the builder then audits again; :func:`family_intervals` tells what
    is left)."""
    cache = {} if cache is None else cache
    added = False
    for _ in range(MAX_ROUNDS):
        failing = unprotected(tables, family, threshold, cache)
        if not failing:
            return added
        changed = False
        points: list[np.ndarray] = []  # top tables the attacker cannot rule out now
        top = tables[family]
        for interval in failing:
            inside = (
                np.flatnonzero(
                    _cell_of(top, tables[interval.table], interval.table, cache, family)
                    == interval.row
                )
                if interval.table != family
                else np.array([interval.row])
            )
            if any(point[inside].sum() >= threshold - _EPS for point in points):
                continue  # an earlier pattern of this round protects it too
            # one at a time: what one pattern hides is free for the next
            picks, point = _lp_pattern(tables, family, interval, threshold - interval.count, cache)
            if point is not None:
                points.append(point)
            for sub, rows in picks.items():
                flags = tables[sub].get_column("_sup").to_numpy().copy()
                flags[sorted(rows)] = True
                tables[sub] = tables[sub].with_columns(pl.Series("_sup", flags))
                changed = True
        if not changed:
            return added
        added = True
    return added


@dataclass
class _Cube:
    """Every cell of every table as one index, and how they add up across families."""

    tables: list[tuple[str, ...]]
    offset: dict[tuple[str, ...], int]
    counts: np.ndarray
    hidden: np.ndarray
    withheld: np.ndarray
    relations: csr_matrix  # rows: lower cell - sum of its top cells in one family = 0


def _cube(tables: dict[tuple[str, ...], pl.DataFrame], cache: dict | None) -> _Cube:
    names = list(tables)
    offset, start = {}, 0
    for name in names:
        offset[name] = start
        start += tables[name].height
    counts = np.concatenate([tables[t].get_column("_n").to_numpy() for t in names]).astype(float)
    hidden = np.concatenate([tables[t].get_column("_sup").to_numpy() for t in names])
    withheld = np.concatenate([tables[t].get_column("_withheld").to_numpy() for t in names])
    rows, cols, vals = [], [], []
    rel = 0
    for family in top_tables(tables):
        top = tables[family]
        tops = offset[family] + np.arange(top.height)
        for size in range(len(family)):
            for sub in itertools.combinations(family, size):
                cell_of = _cell_of(top, tables[sub], sub, cache, family)
                distinct, index = np.unique(cell_of, return_inverse=True)
                rows += [index + rel, np.arange(len(distinct)) + rel]
                cols += [tops, offset[sub] + distinct]
                vals += [np.ones(len(tops)), -np.ones(len(distinct))]
                rel += len(distinct)
    relations = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(rel, start),
    ).tocsr()
    return _Cube(names, offset, counts, hidden, withheld, relations)


def _cube_system(cube: _Cube) -> _System:
    """The attacker's system over the whole cube: hidden cells (not withheld) are the
    variables, every relation with a hidden cell in it is an equation."""
    unknown = np.flatnonzero(cube.hidden & ~cube.withheld)
    known = np.setdiff1d(np.arange(len(cube.counts)), unknown)
    a = cube.relations[:, unknown]
    b = -(cube.relations[:, known] @ cube.counts[known])
    used = np.flatnonzero(np.diff(a.indptr) > 0)
    return _System(
        unknown,
        cube.counts[unknown].astype(np.int64),
        a[used],
        b[used],
        np.zeros(len(unknown), dtype=np.int64),
        np.ones(1, dtype=bool),
        [],
    )


def cube_intervals(
    tables: dict[tuple[str, ...], pl.DataFrame],
    threshold: int,
    *,
    exact: bool = True,
    cache: dict | None = None,
) -> list[tuple[tuple[str, ...], int, int, float]]:
    """(table, row, count, high) for every hidden small cell (not withheld) against
    an attacker who combines all families of the cube at once (a hidden margin
    is the same unknown in every family that has it). ``high`` is the exact
    maximum, or with ``exact`` false any attainable value once it reaches the
    threshold."""
    cube = _cube(tables, {} if cache is None else cache)
    system = _cube_system(cube)
    small = np.flatnonzero((system.truth >= 1) & (system.truth < threshold))
    if exact:
        highs = []
        for j in small:
            highs.extend(_screen(system, [(np.array([j]), np.inf)]))
    else:
        highs = _screen(system, [(np.array([j]), float(threshold)) for j in small])
    out = []
    for j, high in zip(small, highs, strict=True):
        index = int(system.unknown[j])
        table = [t for t in cube.tables if cube.offset[t] <= index][-1]
        out.append((table, index - cube.offset[table], int(system.truth[j]), float(high)))
    return out


def protect_cube(
    tables: dict[tuple[str, ...], pl.DataFrame], threshold: int, cache: dict | None = None
) -> bool:
    """Complements until no hidden small cell is pinned under the threshold by the
    whole cube (families combined), with the same LP patterns as
    :func:`protect_family` over every cell of every table. Returns whether
    anything was hidden."""
    cache = {} if cache is None else cache
    added = False
    for _ in range(MAX_ROUNDS):
        failing = [
            (t, r, n)
            for t, r, n, h in cube_intervals(tables, threshold, exact=False, cache=cache)
            if h < threshold - _EPS
        ]
        if not failing:
            return added
        cube = _cube(tables, cache)
        points: list[np.ndarray] = []
        changed = False
        for table, row, count in failing:
            index = cube.offset[table] + row
            if any(point[index] >= threshold - _EPS for point in points):
                continue
            picks, point = _cube_pattern(cube, index, threshold - count)
            if point is not None:
                points.append(point)
            for cell in picks:
                cube.hidden[cell] = True
                changed = True
        if not changed:
            return added
        for name in cube.tables:
            start = cube.offset[name]
            flags = cube.hidden[start : start + tables[name].height]
            tables[name] = tables[name].with_columns(pl.Series("_sup", flags.copy()))
        added = True
    return added


def _cube_pattern(cube: _Cube, target: int, need: int) -> tuple[list[int], np.ndarray | None]:
    """:func:`_lp_pattern` over the whole cube: the cheapest change of every cell,
    consistent in every family, that moves ``target`` up by ``need``."""
    n = len(cube.counts)
    top_size = max(len(t) for t in cube.tables)
    sizes = np.zeros(n)  # dimensions of each cell's table
    for i, name in enumerate(cube.tables):
        start = cube.offset[name]
        end = cube.offset[cube.tables[i + 1]] if i + 1 < len(cube.tables) else n
        sizes[start:end] = len(name)
    weight = np.where(cube.hidden, 0.0, cube.counts * LOWER_WEIGHT ** (top_size - sizes)) + 1e-3
    fixed = cube.withheld | (sizes == 0)
    bounds = [(0, 0) if fixed[i] else (0, None) for i in range(n)] + [
        (0, 0) if fixed[i] else (0, max(cube.counts[i] - 1, 0)) for i in range(n)
    ]
    moved = csr_matrix(([1.0, -1.0], ([0, 0], [target, n + target])), shape=(1, 2 * n))
    a_eq = vstack([hstack([cube.relations, -cube.relations]), moved]).tocsr()
    b_eq = np.append(np.zeros(cube.relations.shape[0]), float(need))
    res = linprog(
        np.concatenate([weight, weight]), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    if res.status != 0:
        return [], None
    y = res.x[:n] - res.x[n:]
    picks = np.flatnonzero((np.abs(y) > 1e-7) & ~cube.hidden).tolist()
    return picks, cube.counts + y
