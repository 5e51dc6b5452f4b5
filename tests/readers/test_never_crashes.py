"""Damaged files of every format give InvalidInput or a frame, never another exception."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from indexer.readers import Limits, read_table
from schema.errors import InvalidInput

from .bad_corpus import _xlsx

LIMITS = Limits(max_bytes=2_000_000, max_rows=5_000, max_problems=20)


def _good_files() -> dict[str, bytes]:
    rows = [["sex", "district", "litres", "note"]] + [
        ["महिला" if i % 2 else "M", "Saptari", i * 1.5, f'said "hi", {i}\nok'] for i in range(60)
    ]
    csv_text = "\n".join(",".join('"' + str(v).replace('"', '""') + '"' for v in r) for r in rows)
    return {
        "g.csv": csv_text.encode(),
        "g.tsv": "\n".join("\t".join(str(v).replace("\n", " ") for v in r) for r in rows).encode(),
        "g.xlsx": _xlsx(rows),
        "g.json": json.dumps([dict(zip(rows[0], r, strict=True)) for r in rows[1:]]).encode(),
    }


def _mutations(seed: int = 20240201):
    rng = random.Random(seed)
    for name, data in _good_files().items():
        for i in range(12):
            kind = i % 4
            if kind == 0:  # truncated anywhere
                yield f"{name}-cut{i}", name, data[: rng.randrange(1, len(data))]
            elif kind == 1:  # bytes overwritten
                b = bytearray(data)
                for _ in range(rng.randint(1, 40)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
                yield f"{name}-flip{i}", name, bytes(b)
            elif kind == 2:  # a slice repeated or removed
                a, z = sorted(rng.sample(range(len(data)), 2))
                yield f"{name}-splice{i}", name, data[:a] + data[a:z] * rng.randint(0, 3) + data[z:]
            else:  # noise with the right name
                yield f"{name}-noise{i}", name, rng.randbytes(rng.randint(1, 4000))


CASES = list(_mutations())


@pytest.mark.parametrize(("label", "filename", "data"), CASES, ids=[c[0] for c in CASES])
def test_damaged_file_is_refused_cleanly_or_read(label, filename, data):
    try:
        df = read_table(data, filename=filename, limits=LIMITS)
    except InvalidInput as err:
        assert err.problems and all(p.file == filename for p in err.problems)
        assert len(err.problems) <= LIMITS.max_problems + 1
        return
    assert isinstance(df, pl.DataFrame)
    assert all(dtype == pl.String for dtype in df.schema.values())
