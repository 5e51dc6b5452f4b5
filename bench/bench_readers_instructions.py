"""Reader benchmark in instructions: ours beside polars.read_csv, counted by callgrind.

Wall time on a shared 2-core machine varies by a third from run to run
(bench_readers.py keeps the fastest of several runs); the number of
instructions a run executes hardly does. This benchmark runs each side once
under ``valgrind --tool=callgrind`` in its own process, on a synthetic survey
of ``--rows`` rows (default 100k) and the 20 columns of bench_readers.py:

- ``imports``: the imports alone (subtracted from the other two);
- ``polars``: ``polars.read_csv`` of the file with default type inference;
- ``ours``: :func:`indexer.pipeline.read_and_validate`, what ingest does
  before anonymising (read with the declared roles, map the roles, validate).

It prints each side's instructions net of the imports and their ratio. With
``--stages``, also our CSV parse alone and ``read_table`` alone, so that a
change shows where it counts. Instructions are not seconds: they miss memory
stalls and parallelism (valgrind runs one thread at a time; polars is held to
one thread here), so the wall-time goal stays measured by bench_readers.py.
Threads that wait by spinning add a few million instructions of noise.

Run: .venv/bin/python bench/bench_readers_instructions.py [--rows 100000] [--stages]
Needs valgrind (on every machine of this workplace).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_readers  # noqa: E402  (the survey, its roles and the data generator)


def child(kind: str, path: str) -> None:
    import polars as pl

    from indexer.pipeline import read_and_validate
    from indexer.readers import read_table
    from indexer.readers.delimited import _SNIFF_BYTES, _dtypes, _head_info, _parse
    from indexer.readers.limits import DEFAULT_LIMITS
    from indexer.validate import coded_columns, measure_columns

    declared = {n: s.to_dict() for n, s in bench_readers.specs().items()}
    if kind == "imports":
        return
    if kind == "polars":
        pl.read_csv(path)
    elif kind == "ours":
        read_and_validate(path, Path(path).name, declared)
    elif kind == "read_table":
        read_table(path, categorical=coded_columns(declared), numeric=measure_columns(declared))
    elif kind == "parse":
        with open(path, "rb") as fh:
            delim, header = _head_info(fh.read(_SNIFF_BYTES), Path(path).name, DEFAULT_LIMITS, None)
        dtypes = _dtypes(header, coded_columns(declared), measure_columns(declared))
        _parse(path, delim, DEFAULT_LIMITS, dtypes)


def count(kind: str, path: Path, valgrind: str) -> int:
    env = dict(os.environ, POLARS_MAX_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(
        [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            kind,
            str(path),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"{kind} under callgrind failed:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--stages", action="store_true", help="also our parse and read_table alone")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)  # "imports" makes the same imports and stops there
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bench_readers_instr_") as tmp:
        path = Path(tmp) / "survey.csv"
        bench_readers.survey(args.rows).write_csv(path)
        kinds = ["imports", "polars", "ours"] + (["parse", "read_table"] if args.stages else [])
        counted = {kind: count(kind, path, valgrind) for kind in kinds}
    base = counted.pop("imports")
    net = {kind: n - base for kind, n in counted.items()}
    print(
        f"CSV {args.rows:,} rows x {len(bench_readers.COLUMNS)} cols; instructions net of the "
        f"imports ({base / 1e6:,.0f}M), one polars thread, under callgrind (fewer is better)"
    )
    for kind, n in net.items():
        print(f"  {kind:<11} {n / 1e6:>9,.1f}M  ({n / args.rows:,.0f} per row)")
    print(f"  ratio polars/ours {net['polars'] / net['ours']:.2f}x")


if __name__ == "__main__":
    main()
