"""Versions: records and cube indexed unseen, switched atomically, paged, rebuilt; crashes lose nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest

from indexer.search import SearchBackendError, SearchQuery
from schema.errors import InvalidInput
from tests.conformance.conformance_data import COLUMNS, CubeCell, cube_for, dataset_doc, survey

ROOT = Path(__file__).resolve().parents[2]
CUBE_DIMS = [
    ("sex",),
    ("district",),
    ("sex", "age_band"),
    ("district", "sex"),
    ("sex", "district", "disability"),
]


def publish(backend, dataset_id="ds-1", version_id="v1", rows=500, seed=1):
    df = survey(rows, seed=seed, tag=version_id)
    backend.index_dataset(
        dataset_doc(int(dataset_id.split("-")[1]), id=dataset_id, version_id=version_id)
    )
    backend.index_version(dataset_id, version_id, df, cube_for(df, CUBE_DIMS), COLUMNS)
    backend.activate_version(dataset_id, version_id)
    return df


def all_rows(backend, dataset_id, filters=None, limit=97):
    rows, after, pages = [], None, 0
    while True:
        page = backend.records(dataset_id, filters=filters, limit=limit, after=after)
        rows += page.rows
        pages += 1
        if page.next_cursor is None:
            return rows, page.total, pages
        after = page.next_cursor


def test_indexed_version_is_invisible_until_activated(backend):
    backend.index_dataset(dataset_doc(1))
    df = survey(50)
    backend.index_version("ds-1", "v1", df, cube_for(df, CUBE_DIMS), COLUMNS)
    assert backend.active_version("ds-1") is None
    assert backend.records("ds-1").rows == []
    assert backend.cube("ds-1", ("sex",)) == []
    backend.activate_version("ds-1", "v1")
    assert backend.active_version("ds-1") == "v1"
    assert backend.records("ds-1").total == 50


def test_records_page_through_every_row_once_in_order(backend):
    df = publish(backend, rows=1000)
    rows, total, pages = all_rows(backend, "ds-1", limit=97)
    assert total == 1000 and pages == 11
    assert rows == df.to_dicts()


def test_records_keep_their_types(backend):
    df = publish(backend, rows=20)
    row = backend.records("ds-1", limit=1).rows[0]
    assert row == df.row(0, named=True)
    assert isinstance(row["has_water"], bool) and isinstance(row["household_size"], int)
    assert isinstance(row["distance_km"], float)


def test_record_filters_or_values_and_columns(backend):
    df = publish(backend, rows=1000)
    filters = {
        "sex": ["female", "other"],
        "district": ["NP-KTM"],
        "has_water": ["true"],
        "household_size": ["3", "4"],
    }
    expected = df.filter(
        pl.col("sex").is_in(["female", "other"])
        & (pl.col("district") == "NP-KTM")
        & pl.col("has_water")
        & pl.col("household_size").is_in([3, 4])
    ).to_dicts()
    rows, total, _ = all_rows(backend, "ds-1", filters=filters, limit=7)
    assert total == len(expected) > 0
    assert rows == expected


def test_filtering_records_on_a_measure_or_unknown_column_is_refused(backend):
    publish(backend, rows=10)
    for column in ("distance_km", "comment", "no_such_column"):
        with pytest.raises(InvalidInput) as err:
            backend.records("ds-1", filters={column: ["1"]})
        assert err.value.problems[0].code == "not_filterable"


def test_bad_limits_and_cursors_are_refused(backend):
    publish(backend, rows=10)
    for limit in (0, -1, 100_000):
        with pytest.raises(InvalidInput):
            backend.records("ds-1", limit=limit)
    with pytest.raises(InvalidInput):
        backend.records("ds-1", after="not a cursor!")


def test_cursor_from_a_replaced_version_is_refused(backend):
    publish(backend, rows=50)
    cursor = backend.records("ds-1", limit=10).next_cursor
    publish(backend, version_id="v2", rows=50, seed=3)
    with pytest.raises(InvalidInput) as err:
        backend.records("ds-1", limit=10, after=cursor)
    assert err.value.code == "stale_cursor"


def test_direct_identifiers_are_never_indexed(backend):
    df = survey(10).with_columns(pl.lit("98412345").alias("phone"))
    with pytest.raises(InvalidInput):
        backend.index_version(
            "ds-1", "v1", df, [], {**COLUMNS, "phone": {"role": "direct_identifier"}}
        )
    assert backend.active_version("ds-1") is None


def test_cube_returns_cells_over_exactly_the_asked_dimensions(backend):
    df = publish(backend, rows=2000)
    by_sex = backend.cube("ds-1", ("sex",))
    assert [c["dims"] for c in by_sex] == [{"sex": s} for s in sorted(df["sex"].unique())]
    counts = df.group_by("sex").len()
    for cell in by_sex:
        assert cell["count"] == counts.filter(pl.col("sex") == cell["dims"]["sex"])["len"][0]
        assert cell["suppressed"] is False and isinstance(cell["means"]["distance_km"], float)
    # by + filter keys name the cells; the filter picks the values.
    crossed = backend.cube("ds-1", ("sex",), {"district": "NP-KTM"})
    assert {tuple(sorted(c["dims"].items())) for c in crossed} == {
        (("district", "NP-KTM"), ("sex", s))
        for s in df.filter(pl.col("district") == "NP-KTM")["sex"].unique()
    }
    assert backend.cube("ds-1", ("age_band",)) == []  # never computed alone
    assert backend.cube("ds-1", ("age_band", "sex")) == backend.cube("ds-1", ("sex", "age_band"))


def test_suppressed_cells_carry_no_count(backend):
    backend.index_version(
        "ds-1",
        "v1",
        survey(5),
        [
            CubeCell({"sex": "female"}, None, True, {"distance_km": None}),
            {
                "dims": {"sex": "male"},
                "count": 12,
                "suppressed": False,
                "means": {"distance_km": 1.5},
            },
        ],
        COLUMNS,
    )
    backend.activate_version("ds-1", "v1")
    assert backend.cube("ds-1", ("sex",)) == [
        {
            "dims": {"sex": "female"},
            "count": None,
            "suppressed": True,
            "means": {"distance_km": None},
        },
        {"dims": {"sex": "male"}, "count": 12, "suppressed": False, "means": {"distance_km": 1.5}},
    ]


def test_activation_switches_records_and_cube_together_and_drops_the_old(backend):
    publish(backend, rows=100)
    v2 = survey(60, seed=5, tag="v2")
    backend.index_version("ds-1", "v2", v2, cube_for(v2, CUBE_DIMS), COLUMNS)
    assert backend.records("ds-1").total == 100
    backend.activate_version("ds-1", "v2")
    assert backend.active_version("ds-1") == "v2"
    page = backend.records("ds-1", limit=1000)
    assert page.total == 60 and page.rows == v2.to_dicts()
    assert sum(c["count"] or 0 for c in backend.cube("ds-1", ("sex",))) <= 60
    with pytest.raises(SearchBackendError):
        backend.activate_version("ds-1", "v1")  # its data is gone


def test_activating_an_unknown_version_fails_and_keeps_the_current(backend):
    publish(backend, rows=10)
    with pytest.raises(SearchBackendError):
        backend.activate_version("ds-1", "nope")
    assert backend.active_version("ds-1") == "v1"


def test_reindexing_a_pending_version_replaces_it(backend):
    publish(backend, rows=10)
    backend.index_version("ds-1", "v2", survey(30, tag="v2"), [], COLUMNS)
    backend.index_version("ds-1", "v2", survey(40, tag="v2"), [], COLUMNS)
    backend.activate_version("ds-1", "v2")
    assert backend.records("ds-1").total == 40


def test_dropping_a_pending_version_keeps_the_active(backend):
    publish(backend, rows=10)
    backend.index_version("ds-1", "v2", survey(30), [], COLUMNS)
    backend.drop_version("ds-1", "v2")
    assert backend.active_version("ds-1") == "v1"
    with pytest.raises(SearchBackendError):
        backend.activate_version("ds-1", "v2")


def test_dropping_the_active_version_hides_its_records(backend):
    publish(backend, rows=10)
    backend.drop_version("ds-1", "v1")
    assert backend.active_version("ds-1") is None
    assert backend.records("ds-1").total == 0


def test_deleting_a_dataset_deletes_its_versions(backend):
    publish(backend, rows=10)
    backend.delete_dataset("ds-1")
    assert backend.active_version("ds-1") is None
    assert backend.records("ds-1").rows == [] and backend.cube("ds-1", ("sex",)) == []


def test_datasets_keep_separate_versions(backend):
    publish(backend, "ds-1", rows=10)
    publish(backend, "ds-2", rows=20, seed=9)
    assert backend.records("ds-1").total == 10 and backend.records("ds-2").total == 20


def test_rebuild_replaces_everything_in_one_step(backend):
    publish(backend, "ds-1", rows=30)
    publish(backend, "ds-2", rows=20)
    publish(backend, "ds-3", rows=10)
    fresh = survey(25, seed=7, tag="v9")
    count = backend.rebuild(
        [
            (dataset_doc(1, title={"en": "Rebuilt water survey"}), None, None, COLUMNS),
            (dataset_doc(2, version_id="v9"), fresh, cube_for(fresh, CUBE_DIMS), COLUMNS),
        ]
    )
    assert count == 2
    assert sorted(h.id for h in backend.search(SearchQuery()).hits) == ["ds-1", "ds-2"]
    assert [h.id for h in backend.search(SearchQuery(text="rebuilt")).hits] == ["ds-1"]
    assert backend.records("ds-1").total == 30  # kept its active version
    assert (
        backend.active_version("ds-2") == "v9"
        and backend.records("ds-2", limit=100).rows == fresh.to_dicts()
    )
    assert backend.records("ds-3").total == 0  # gone from the catalogue, gone from the index
    assert backend.get_dataset("ds-3") is None


def test_readers_see_the_old_index_until_a_rebuild_switches(backend):
    for i in range(1, 6):
        backend.index_dataset(dataset_doc(i))
    seen = []

    def read():
        seen.append(backend.search(SearchQuery(limit=50)).total)

    def items():
        for i in range(100, 120):
            if i == 110:  # half-way: another thread reads
                t = threading.Thread(target=read)
                t.start()
                t.join()
            yield dataset_doc(i), None, None, {}

    backend.rebuild(items())
    assert seen == [5]
    assert backend.search(SearchQuery()).total == 20


def test_a_failed_rebuild_leaves_the_live_index(backend):
    publish(backend, rows=10)

    def items():
        yield dataset_doc(50), None, None, {}
        raise RuntimeError("catalogue went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(items())
    assert [h.id for h in backend.search(SearchQuery()).hits] == ["ds-1"]
    assert backend.records("ds-1").total == 10


def _child(backend_spec, stage, rows):
    name, options = backend_spec
    spec = {
        "backend": name,
        "options": options,
        "dataset": "ds-1",
        "version": "v2",
        "rows": rows,
        "stage": stage,
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.conformance.ingest_child", json.dumps(spec)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_v1_answers(backend, v1):
    assert backend.active_version("ds-1") == "v1"
    rows, total, _ = all_rows(backend, "ds-1", limit=500)
    assert total == v1.height and rows == v1.to_dicts()
    assert sum(c["count"] or 0 for c in backend.cube("ds-1", ("sex",))) <= v1.height
    assert [h.id for h in backend.search(SearchQuery(text="household")).hits] == ["ds-1"]


def test_ingest_killed_between_index_and_switch_leaves_the_previous_version(backend, backend_spec):
    v1 = publish(backend, rows=300)
    child = _child(backend_spec, "after_index", rows=200)
    try:
        line = child.stdout.readline().strip()
        assert line == "indexed", child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    _assert_v1_answers(backend, v1)
    # The next attempt of the same ingest goes through.
    v2 = survey(200, seed=2, tag="v2")
    backend.index_version("ds-1", "v2", v2, cube_for(v2, CUBE_DIMS), COLUMNS)
    backend.activate_version("ds-1", "v2")
    assert backend.records("ds-1", limit=1000).rows == v2.to_dicts()


def test_ingest_killed_while_writing_records_leaves_the_previous_version(backend, backend_spec):
    v1 = publish(backend, rows=300)
    child = _child(backend_spec, "during_index", rows=400_000)
    try:
        assert child.stdout.readline().strip() == "starting", child.stderr.read()
        threading.Event().wait(0.5)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    _assert_v1_answers(backend, v1)
    backend.index_version("ds-1", "v2", survey(20, tag="v2"), [], COLUMNS)
    backend.activate_version("ds-1", "v2")
    assert backend.records("ds-1").total == 20


def test_records_filtered_on_several_values_of_every_column_page_in_row_order(backend):
    df = publish(backend, rows=1500)
    filters = {
        "sex": ["male", "female"],
        "district": ["NP-KTM", "NP-LAL", "NP-MOR"],
        "has_water": ["true", "1"],  # the same value twice over: each row once
    }
    expected = df.filter(
        pl.col("sex").is_in(["male", "female"])
        & pl.col("district").is_in(["NP-KTM", "NP-LAL", "NP-MOR"])
        & pl.col("has_water")
    ).to_dicts()
    rows, total, pages = all_rows(backend, "ds-1", filters=filters, limit=41)
    assert total == len(expected) > 41
    assert rows == expected
    assert pages == -(-len(expected) // 41)


def test_a_filter_with_no_values_matches_no_record(backend):
    publish(backend, rows=50)
    page = backend.records("ds-1", filters={"sex": []})
    assert page.rows == [] and page.total == 0 and page.next_cursor is None


def test_a_cursor_reused_with_other_filters_counts_them_afresh(backend):
    df = publish(backend, rows=400)
    cursor = backend.records("ds-1", limit=10).next_cursor
    page = backend.records("ds-1", filters={"sex": ["female"]}, limit=10, after=cursor)
    assert page.total == df.filter(pl.col("sex") == "female").height


def test_record_filter_values_are_compared_as_the_column_type(backend):
    df = publish(backend, rows=300)
    yes = df.filter(pl.col("has_water")).height
    for spelling in (["true"], ["TRUE"], ["1"], ["yes"], ["true", "1"]):
        assert backend.records("ds-1", filters={"has_water": spelling}).total == yes, spelling
    assert backend.records("ds-1", filters={"has_water": ["no"]}).total == df.height - yes
    three = df.filter(pl.col("household_size") == 3).height
    assert backend.records("ds-1", filters={"household_size": ["3", "3.0"]}).total == three
    assert backend.records("ds-1", filters={"household_size": ["three"]}).total == 0
