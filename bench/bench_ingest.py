"""Ingest benchmark: a 1M-row anonymised survey, from DataFrame to searchable.

Ours: the embedded backend's index_version + activate_version (SQLite table,
one B-tree index per filterable column, cube cells) until the first filtered
records page answers.

Peer, measured in the same run: the CKAN DataStore path as ckanext-xloader
does it on PostgreSQL: CREATE TABLE with ``_id`` and ``_full_text``, COPY
the CSV, fill ``_full_text`` with to_tsvector over the text columns, then
the GIN index on ``_full_text`` (and ``_id`` primary key), until the first
full-text query answers.

Run: .venv/bin/python bench/bench_ingest.py [--rows 1000000]
Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.search import get_backend  # noqa: E402

PG = "host=127.0.0.1 port=5432 user=postgres"

COLUMNS = {
    "sex": {"role": "dimension"},
    "age_band": {"role": "quasi_identifier"},
    "district": {"role": "dimension"},
    "caste_group": {"role": "dimension"},
    "disability": {"role": "dimension"},
    "has_water": {"role": "other"},
    "household_size": {"role": "other"},
    "distance_km": {"role": "measure"},
    "comment": {"role": "free_text"},
}


def survey(rows: int, seed: int = 42) -> pl.DataFrame:
    rng = np.random.default_rng(seed)

    def pick(values):
        return np.asarray(values)[rng.integers(0, len(values), rows)]

    comments = [
        "पानी टाढा छ",
        "no water in dry season",
        "अपाङ्गता भएका सदस्यलाई पहुँच छैन",
        "tap broken since monsoon",
        "",
        "स्कुल नजिक छ",
    ]
    return pl.DataFrame(
        {
            "sex": pick(["female", "male", "other"]),
            "age_band": pick(["0-17", "18-29", "30-44", "45-59", "60+"]),
            "district": pick([f"NP-D{i:02d}" for i in range(77)]),
            "caste_group": pick(
                ["dalit", "janajati", "madhesi", "brahmin_chhetri", "muslim", "other"]
            ),
            "disability": pick(["none", "physical", "visual", "hearing", "intellectual"]),
            "has_water": rng.random(rows) < 0.6,
            "household_size": rng.integers(1, 12, rows),
            "distance_km": np.round(rng.random(rows) * 5, 2),
            "comment": pick(comments),
        }
    )


def cube(df: pl.DataFrame) -> list[dict]:
    cells = []
    for by in (["sex"], ["district"], ["sex", "age_band"], ["sex", "district", "disability"]):
        for row in (
            df.group_by(by)
            .agg(pl.len().alias("n"), pl.col("distance_km").mean().alias("m"))
            .iter_rows(named=True)
        ):
            small = row["n"] < 10
            cells.append(
                {
                    "dims": {d: str(row[d]) for d in by},
                    "count": None if small else row["n"],
                    "suppressed": small,
                    "means": {"distance_km": None if small else row["m"]},
                }
            )
    return cells


def ours(df: pl.DataFrame, cells: list[dict]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        backend = get_backend("embedded", path=os.path.join(tmp, "search.sqlite3"))
        backend.setup()
        start = time.perf_counter()
        backend.index_dataset({"id": "survey", "title": {"en": "Water survey"}, "version_id": "v1"})
        backend.index_version("survey", "v1", df, cells, COLUMNS)
        backend.activate_version("survey", "v1")
        page = backend.records(
            "survey", filters={"district": ["NP-D07"], "sex": ["female"]}, limit=100
        )
        elapsed = time.perf_counter() - start
        assert page.total > 0 and len(page.rows) == 100
        size = os.path.getsize(os.path.join(tmp, "search.sqlite3"))
        backend.close()
    print(f"  embedded file size {size / 1e6:.0f} MB", flush=True)
    return elapsed


def ckan_datastore(df: pl.DataFrame) -> float:
    db = f"cgd_bench_ingest_{os.getpid()}"
    with psycopg.connect(PG + " dbname=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
        admin.execute(f"CREATE DATABASE {db}")
    try:
        buf = io.BytesIO()
        df.write_csv(buf)  # xloader loads the uploaded CSV
        csv_bytes = buf.getvalue()
        with psycopg.connect(PG + f" dbname={db}") as conn:
            start = time.perf_counter()
            cols = ", ".join(f'"{c}" text' for c in df.columns)
            conn.execute(
                f"CREATE TABLE survey (_id serial PRIMARY KEY, _full_text tsvector, {cols})"
            )
            names = ", ".join(f'"{c}"' for c in df.columns)
            with conn.cursor().copy(
                f"COPY survey ({names}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                for offset in range(0, len(csv_bytes), 1 << 20):
                    copy.write(csv_bytes[offset : offset + (1 << 20)])
            text_cols = ", ".join(f"coalesce(\"{c}\", '')" for c in df.columns)
            conn.execute(f"UPDATE survey SET _full_text = to_tsvector(concat_ws(' ', {text_cols}))")
            conn.execute("CREATE INDEX survey_full_text ON survey USING gin (_full_text)")
            conn.commit()
            n = conn.execute(
                "SELECT count(*) FROM survey WHERE _full_text @@ plainto_tsquery('NP-D07 female')"
            ).fetchone()[0]
            elapsed = time.perf_counter() - start
            assert n > 0
        return elapsed
    finally:
        with psycopg.connect(PG + " dbname=postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {db}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    df = survey(args.rows)
    cells = cube(df)
    print(
        f"ingest of a {args.rows:,}-row survey ({df.width} columns, {len(cells):,} cube cells) to searchable",
        flush=True,
    )
    a = ours(df, cells)
    b = ckan_datastore(df)
    print(f"{'embedded (SQLite: table, index per filter column, cube)':<52} {a:8.2f} s")
    print(f"{'CKAN DataStore path (PG COPY + tsvector + GIN)':<52} {b:8.2f} s")
    print(f"ratio ours/peer: {a / b:.2f}x (goal <= 1.0x)")


if __name__ == "__main__":
    main()
