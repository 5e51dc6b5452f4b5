"""The protected cube survives an attacker who bounds hidden cells, not only solves them.

The attacker of these tests is the strictest the cube claims to resist: every
published cell at its true value, every withheld cell (unknown in a
dimension) known, every cell of the cube at least 1, and linear programming
over a whole family of tables (a three-way table and its margins). For every
hidden cell with a true count 1..9, the largest value the attacker cannot rule
out must reach the threshold (tau-argus's upper protection level for
frequency tables).
"""

import numpy as np
import polars as pl
import pytest

from indexer.disclosure import anonymise, build_cube
from indexer.disclosure.cube import CubeCell, ProtectedCube, audit_cube
from schema.roles import ColumnRole, ColumnSpec
from tests.disclosure.synthetic import validated_demo
from tests.disclosure.test_differencing import records, roles

THRESHOLD = 10


def _demo(rows: int):
    out = anonymise(*validated_demo(rows), country="NP")
    return out.records, out.columns


@pytest.fixture(scope="module")
def demo():
    records_, columns = _demo(3000)
    cube = build_cube(records_, columns, threshold=THRESHOLD, key_seed="demo-seed")
    return records_, columns, cube


def test_every_small_hidden_cell_of_the_demo_cube_reaches_the_threshold(demo):
    records_, _, cube = demo
    intervals = audit_cube(records_, cube)
    assert len(intervals) >= 20  # the demo has small cells, in many families
    weak = [i for i in intervals if i.protectable and not i.protected(THRESHOLD)]
    assert not weak, weak[:5]
    for interval in intervals:
        assert interval.low <= interval.count <= interval.high


@pytest.mark.parametrize("rows", [600, 3000])
def test_combining_all_families_at_once_pins_no_small_cell_either(rows):
    # a hidden margin is one unknown in every family that has it: the families
    # together constrain it more than any one does (on the 600-row demo the
    # difficulty-walking cut-off and disability are the same split, and the
    # families together held 32 small cells under the threshold before the
    # whole-cube step, most of them exactly)
    records_, columns = _demo(rows)
    cube = build_cube(records_, columns, threshold=THRESHOLD, key_seed="demo-seed")
    intervals = audit_cube(records_, cube, whole=True)
    assert len(intervals) >= 20
    assert not [i for i in intervals if not i.protected(THRESHOLD)]


def test_what_the_audit_cannot_protect_is_shown_by_the_records_themselves():
    # a small cell all of whose people have another dimension of the family
    # withheld is the sum of withheld cells (which the published records show);
    # no suppression in the cube can change that, and the audit says so
    df = records(n=900, seed=3)
    small = df.group_by("sex", "district").len().filter(pl.col("len").is_between(1, 9))
    sex, district, count = small.sort("len").row(0)
    inside = (pl.col("sex") == sex) & (pl.col("district") == district)
    df = df.with_columns(pl.when(inside).then(None).otherwise(pl.col("caste")).alias("caste"))
    cube = build_cube(df, roles(), threshold=THRESHOLD, key_seed="records")
    intervals = audit_cube(df, cube)
    shown = [i for i in intervals if not i.protectable]
    assert shown
    for interval in shown:
        assert interval.low == interval.high == interval.count
    assert any(i.table == ("sex", "district") and i.count == count for i in shown)
    assert not [i for i in intervals if i.protectable and not i.protected(THRESHOLD)]


def test_the_audit_finds_the_cells_that_suppression_by_lines_alone_leaves_open(monkeypatch):
    import indexer.disclosure.cube as cube_module

    records_, columns = _demo(3000)
    monkeypatch.setattr(cube_module, "_protect_intervals", lambda *args, **kwargs: False)
    monkeypatch.setattr(cube_module, "protect_cube", lambda *args, **kwargs: False)
    cube = build_cube(records_, columns, threshold=THRESHOLD, key_seed="demo-seed")
    weak = [i for i in audit_cube(records_, cube) if i.protectable and not i.protected(THRESHOLD)]
    assert weak


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_small_three_way_surveys_are_protected_too(seed):
    df = records(seed=seed)
    cube = build_cube(df, roles(), threshold=THRESHOLD, key_seed=f"a{seed}")
    intervals = audit_cube(df, cube)
    assert intervals
    assert not [i for i in intervals if not i.protected(THRESHOLD)]


def test_withheld_cells_count_as_known_and_the_rest_is_still_protected():
    df = records(n=600, seed=3)
    rng = np.random.default_rng(3)
    caste = df["caste"].to_list()
    for i in rng.choice(df.height, 40, replace=False):
        caste[i] = None
    df = df.with_columns(pl.Series("caste", caste))
    cube = build_cube(df, roles(), threshold=THRESHOLD, key_seed="w")
    intervals = audit_cube(df, cube)
    assert intervals
    assert not [i for i in intervals if i.protectable and not i.protected(THRESHOLD)]


def test_the_audit_gives_the_exact_interval_of_a_hand_worked_table():
    # rows A, B; columns x, y, z; hidden: the rectangle (A,x) (A,y) (B,x) (B,y).
    # With t = (A,x): (A,y) = 21 - t, (B,x) = 16 - t, (B,y) = 24 + t, each >= 1,
    # so t lies in [1, 15]; (B,x) = 16 - t in [1, 15]; (A,y) in [6, 20].
    counts = {("A", "x"): 1, ("A", "y"): 20, ("A", "z"): 30}
    counts |= {("B", "x"): 15, ("B", "y"): 25, ("B", "z"): 35}
    df = pl.DataFrame([{"row": r, "col": c} for (r, c), n in counts.items() for _ in range(n)])
    hidden = {("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")}
    cells = [CubeCell({}, df.height, False)]
    for r in ("A", "B"):
        cells.append(CubeCell({"row": r}, None, False))
    for c in ("x", "y", "z"):
        cells.append(CubeCell({"col": c}, None, False))
    for (r, c), n in counts.items():
        cells.append(
            CubeCell({"row": r, "col": c}, None if (r, c) in hidden else n, (r, c) in hidden)
        )
    cube = ProtectedCube(cells=cells, dimensions=["row", "col"], measures=[], threshold=10)
    by_count = {i.count: (i.low, i.high) for i in audit_cube(df, cube)}
    assert by_count == {1: (1.0, 15.0)}  # only the small cell is a primary one
    # publishing (B,y) pins the rectangle: the attacker gets (A,x) exactly
    cells = [
        CubeCell(c.dims, c.count, c.suppressed and c.dims != {"row": "B", "col": "y"})
        for c in cells
    ]
    cube = ProtectedCube(cells=cells, dimensions=["row", "col"], measures=[], threshold=10)
    (only,) = audit_cube(df, cube)
    assert (only.low, only.high) == (1.0, 1.0)
    assert not only.protected(10)


def test_a_small_cell_equal_to_all_of_its_own_margins_is_protected():
    # walking 'cannot' occurs only with disability 'with' and only in D0: the
    # three-way cell equals its two-way and one-way margins (structural zeros
    # everywhere around it), so its complements must move margins too
    n = 400
    rng = np.random.default_rng(1)
    district = rng.choice(["D0", "D1", "D2"], n).tolist()
    walking = rng.choice(["none", "some"], n, p=[0.8, 0.2]).tolist()
    for i in range(6):
        district[i], walking[i] = "D0", "cannot"
    for i in range(6, 40):
        walking[i] = "a lot"
    disability = ["with" if w in ("cannot", "a lot") else "without" for w in walking]
    df = pl.DataFrame({"district": district, "walking": walking, "disability": disability})
    specs = {d: ColumnSpec(d, ColumnRole.DIMENSION, d) for d in df.columns}
    cube = build_cube(df, specs, threshold=THRESHOLD, key_seed="alone")
    assert cube.cell(walking="cannot").suppressed
    intervals = audit_cube(df, cube)
    assert any(i.count == 6 and i.table == ("walking",) for i in intervals)
    assert not [i for i in intervals if not i.protected(THRESHOLD)]
