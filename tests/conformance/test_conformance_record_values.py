"""Record values come back exactly as indexed, whichever way a backend stores a page.

The embedded backend keeps each record twice: in typed SQL columns (filters
read their indexes) and, when every value has an exact JSON form, as one JSON
text that a page decodes with a single ``json.loads``.  Both readings of the
same rows must agree value for value and type for type.
"""

from __future__ import annotations

import datetime
import math

import polars as pl
import pytest

from indexer.search import get_backend

COLUMNS = {
    "sex": {"role": "dimension", "dimension": "sex"},
    "has_water": {"role": "other"},
    "household_size": {"role": "other"},
    "distance_km": {"role": "measure"},
    "comment": {"role": "free_text"},
}


def awkward(rows: int) -> pl.DataFrame:
    """Nulls in every column, floats that print oddly, text that JSON must escape."""
    floats = [0.1, 1e-7, 1e20, 5e-324, 3.0, None, 2.5e300, -1.75]
    texts = ['say "hi"', "back\\slash", "line\nbreak", "नेपाल 😀", "nul", "", None, "tab\t"]
    return pl.DataFrame(
        {
            "sex": [["female", "male", None][i % 3] for i in range(rows)],
            "has_water": [[True, False, None][i % 3] for i in range(rows)],
            "household_size": [None if i % 5 == 0 else (i * 7919) % 13 - 3 for i in range(rows)],
            "distance_km": [floats[i % len(floats)] for i in range(rows)],
            "comment": [texts[i % len(texts)] for i in range(rows)],
        },
        schema={
            "sex": pl.String,
            "has_water": pl.Boolean,
            "household_size": pl.Int64,
            "distance_km": pl.Float64,
            "comment": pl.String,
        },
    )


def walk(backend, dataset_id, filters=None, limit=7):
    rows, after = [], None
    while True:
        page = backend.records(dataset_id, filters=filters, limit=limit, after=after)
        rows += page.rows
        after = page.next_cursor
        if after is None:
            return rows, page.total


def typed(rows):
    return [[(k, type(v).__name__, repr(v)) for k, v in row.items()] for row in rows]


def test_records_keep_nulls_odd_floats_and_escaped_text(backend):
    df = awkward(120)
    backend.index_version("ds-1", "v1", df, [], COLUMNS)
    backend.activate_version("ds-1", "v1")
    rows, total = walk(backend, "ds-1")
    assert total == 120 and typed(rows) == typed(df.to_dicts())
    rows, total = walk(backend, "ds-1", filters={"has_water": ["true"], "sex": ["female", "male"]})
    expected = df.filter(pl.col("has_water") & pl.col("sex").is_in(["female", "male"])).to_dicts()
    assert total == len(expected) > 0 and typed(rows) == typed(expected)


# -- the embedded backend's two readings of the same stored rows ------------------------


@pytest.fixture
def embedded(tmp_path):
    b = get_backend("embedded", path=str(tmp_path / "search.sqlite3"))
    b.setup()
    yield b
    b.close()


def both_readings(b, dataset_id, filters=None, limit=7):
    """(pages from the JSON text, pages from the columns, whether the JSON text was there)."""
    conn = b._conn()
    vkey = conn.execute(
        "SELECT vkey FROM versions WHERE dataset_id = ? ORDER BY vkey DESC LIMIT 1", (dataset_id,)
    ).fetchone()[0]
    table = f"rec_{vkey}"
    had_json = b._has_row_json(conn, table)
    from_json = walk(b, dataset_id, filters, limit)
    b._row_json_tables[table] = False  # read the typed columns instead
    try:
        from_columns = walk(b, dataset_id, filters, limit)
    finally:
        b._row_json_tables[table] = had_json
    return from_json, from_columns, had_json


SPECIAL = pl.DataFrame(
    {
        "sex": ["female", "male", None, "female", "other"],
        "has_water": [True, None, False, True, False],
        "household_size": [1, None, 3, -(2**63), 2**63 - 1],
        "distance_km": [1.5, float("nan"), None, -0.0, 1e300],
        "single": pl.Series([0.1, None, 2.5, 3.0, -0.0], dtype=pl.Float32),
        "day": [datetime.date(2020, 1, 2), None, datetime.date(2021, 3, 4), None, None],
        "at": [datetime.datetime(2020, 1, 2, 3, 4, 5, 6), None, None, None, None],
        "kind": pl.Series(["a", "b", None, "a", "c"], dtype=pl.Categorical),
        "amount": pl.Series(["1.25", "2.50", None, "0", "-3.1"]).str.to_decimal(),
        "empty": [None] * 5,
        "comment": ['é😀"\\\x00', None, "x", "", "नेपाल"],
    }
)


@pytest.mark.parametrize("filters", [None, {"sex": ["female", "other"]}, {"has_water": ["0"]}])
def test_embedded_pages_read_from_json_text_equal_the_typed_columns(embedded, filters):
    embedded.index_version("ds-1", "v1", SPECIAL, [], COLUMNS)
    embedded.activate_version("ds-1", "v1")
    (json_rows, json_total), (col_rows, col_total), had_json = both_readings(
        embedded, "ds-1", filters, limit=2
    )
    assert had_json
    assert json_total == col_total and typed(json_rows) == typed(col_rows)
    if filters is None:
        first = json_rows[0]
        assert first["single"] == 0.10000000149011612 and first["day"] == "2020-01-02"
        assert first["amount"] == 1.25 and first["kind"] == "a"
        # As SQLite stores them: NaN is null, -0.0 is 0.0.
        assert json_rows[1]["distance_km"] is None
        assert math.copysign(1.0, json_rows[3]["distance_km"]) == 1.0


@pytest.mark.parametrize(
    "extra",
    [
        {"distance_km": [1.0, float("inf"), None, float("-inf"), 2.0]},
        {"nested": [{"a": 1}, None, {"a": None}, {"a": 2}, {"a": 3}]},
    ],
    ids=["infinite float", "nested column"],
)
def test_embedded_versions_without_an_exact_json_form_page_from_the_columns(embedded, extra):
    df = SPECIAL.with_columns(**{k: pl.Series(k, v) for k, v in extra.items()})
    embedded.index_version("ds-1", "v1", df, [], COLUMNS)
    embedded.activate_version("ds-1", "v1")
    (json_rows, _), (col_rows, _), had_json = both_readings(embedded, "ds-1")
    assert not had_json and typed(json_rows) == typed(col_rows)
    if "nested" in extra:
        assert [r["nested"] for r in json_rows] == extra["nested"]
    else:
        assert json_rows[1]["distance_km"] == math.inf and json_rows[3]["distance_km"] == -math.inf
