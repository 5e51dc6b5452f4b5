"""The embedded backend answers through indexes, never by scanning its tables.

Every SQL statement a contract call runs is captured (sqlite3's trace
callback gives it with its values) and explained with EXPLAIN QUERY PLAN;
the plans must read the FTS index, B-tree indexes or the integer primary
key, and sort only bounded sets.  This is what keeps facet counts and
record paging fast on 100k datasets and 1M-row versions (bench/ measures it).
"""

from __future__ import annotations

import re

import pytest

from indexer.search import SearchQuery, get_backend
from tests.conformance.conformance_data import COLUMNS, cube_for, dataset_doc, survey

# A full pass over one of the backend's tables; ordered walks of the sort indexes
# (ORDER BY ... LIMIT) are allowed.
TABLE_SCAN = re.compile(r"^SCAN (\w+)(?! USING (COVERING )?INDEX ds_\d+_(published|title)\b)")


@pytest.fixture
def backend(tmp_path):
    b = get_backend("embedded", path=str(tmp_path / "search.sqlite3"))
    b.setup()
    b.index_datasets(
        dataset_doc(
            i,
            places=[f"NP-{i % 40:03d}"],
            topics=["water" if i % 3 else "land"],
            endorsed=i % 4 == 0,
        )
        for i in range(600)
    )
    df = survey(3000)
    b.index_version("ds-1", "v1", df, cube_for(df, [("sex",), ("district", "sex")]), COLUMNS)
    b.activate_version("ds-1", "v1")
    yield b
    b.close()


def plans(backend, call):
    """(sql, [plan lines]) of every SELECT that ``call()`` runs on the backend's connection."""
    conn = backend._conn()
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        conn.set_trace_callback(None)
    out = []
    for sql in seen:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue  # BEGIN/COMMIT and FTS5's own internal statements ("-- ...")
        lines = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        out.append((sql, lines))
    assert out, "the call ran no SELECT"
    return out


def assert_no_table_scan(found):
    for sql, lines in found:
        for line in lines:
            m = TABLE_SCAN.match(line)
            if m and not line.startswith("SCAN f VIRTUAL TABLE") and "subquery" not in line:
                pytest.fail(f"table scan {line!r} in {sql[:200]}")


def test_unfiltered_facets_and_total_read_the_kept_counts(backend):
    found = plans(backend, lambda: backend.search(SearchQuery()))
    assert_no_table_scan(found)
    facet_plans = [lines for sql, lines in found if "FROM facets_" in sql]
    assert len(facet_plans) == 9  # the total, then one per facet field
    for lines in facet_plans[1:]:
        assert lines == [f"SEARCH facets_{1} USING COVERING INDEX facets_1_top (field=?)"]
    assert not any("terms_" in sql for sql, _ in found)


def test_facets_of_a_text_search_are_read_from_the_matches_in_one_pass(backend):
    query = SearchQuery(text="household", filters={"topic": ["water"], "endorsed": ["true"]})
    found = plans(backend, lambda: backend.search(query))
    assert_no_table_scan(found)
    (facets,) = [lines for sql, lines in found if "CROSS JOIN terms_" in sql]
    assert "SEARCH t USING COVERING INDEX terms_1_ds (ds=? AND field=?)" in facets
    assert not any(line.startswith("SCAN t") for line in facets)


def test_filtered_facets_without_text_start_from_the_filter_index(backend):
    query = SearchQuery(filters={"place": ["NP-001", "NP-002"]})
    found = plans(backend, lambda: backend.search(query))
    assert_no_table_scan(found)
    (facets,) = [lines for sql, lines in found if "CROSS JOIN terms_" in sql]
    assert any("USING PRIMARY KEY (field=? AND value=?)" in line for line in facets)


def test_recent_sort_walks_its_index(backend):
    found = plans(backend, lambda: backend.search(SearchQuery(sort="recent", facets=())))
    assert_no_table_scan(found)
    (page,) = [lines for sql, lines in found if "ORDER BY d.published_at" in sql]
    assert page == ["SCAN d USING INDEX ds_1_published"]  # stops after offset + limit rows


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"sex": ["female"]},
        {"sex": ["female"], "district": ["NP-KTM", "NP-LAL"]},
        {"sex": ["female", "male"], "district": ["NP-KTM", "NP-LAL", "NP-BKT"]},
        {"has_water": ["true", "false"]},
    ],
)
def test_record_pages_follow_an_index_in_row_order(backend, filters):
    first = backend.records("ds-1", filters=filters, limit=25)
    assert first.next_cursor

    def second_page():
        backend.records("ds-1", filters=filters, limit=25, after=first.next_cursor)

    found = plans(backend, second_page)
    assert_no_table_scan(found)
    (page,) = [lines for sql, lines in found if "FROM rec_" in sql]
    reads = [line for line in page if line.startswith("SEARCH rec_")]
    assert reads, page
    for line in reads:
        assert "rowid>?" in line, line  # keyset: starts after the cursor, stops at the limit
    if not filters:
        assert reads == ["SEARCH rec_1 USING INTEGER PRIMARY KEY (rowid>?)"]
    else:
        assert all(" USING INDEX rec_1_f" in line for line in reads)
    # Later pages reuse the total the first page counted.
    assert not any("count(" in sql for sql, _ in found)


def test_record_totals_are_counted_on_an_index(backend):
    found = plans(
        backend, lambda: backend.records("ds-1", filters={"district": ["NP-KTM"]}, limit=5)
    )
    assert_no_table_scan(found)
    (count,) = [lines for sql, lines in found if "count(*)" in sql]
    assert count == ["SEARCH rec_1 USING COVERING INDEX rec_1_f2 (district=?)"]


def test_cube_cells_are_read_by_version_and_dimension_key(backend):
    found = plans(backend, lambda: backend.cube("ds-1", ("sex",), {"district": "NP-KTM"}))
    assert_no_table_scan(found)
    (cells,) = [lines for sql, lines in found if "FROM cube_cells" in sql]
    assert cells == ["SEARCH cube_cells USING INDEX cube_cells_key (vkey=? AND dim_key=?)"]
