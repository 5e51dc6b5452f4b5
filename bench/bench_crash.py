"""Crash safety: kill -9 a job worker at random points of ingest and publish, 20 times.

Ours: RQ workers (`cgd worker --burst`, a forked work horse per job) on Redis
with the catalogue on PostgreSQL, the scaled deployment.  Peer, in the same
run: the embedded deployment's worker (a process over the jobs table, SQLite
catalogue).  Each round kills the worker's whole process group with SIGKILL
at a random moment while it holds the job, then checks (tests/reliability/
crash.py) that the public answers are unchanged (or, for a publish killed
after its atomic switch, entirely the new version), that the job is
recovered (requeued) or failed, and that a fresh worker finishes it.

Run: .venv/bin/python bench/bench_crash.py [--rounds 20] [--rows 3000]
Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.crash import crash_round, make_world  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def run(mode: str, rounds: int, rows: int, seed: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"cgd-crash-{mode}-"))
    database_url = None
    dbname = None
    if mode == "rq":
        dbname = f"cgd_crash_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
    started = time.monotonic()
    world = make_world(
        tmp, database_url=database_url, rows=rows, mode=mode, redis_url="redis://127.0.0.1:6379/0"
    )
    rng = random.Random(seed)
    results, failures = [], []
    try:
        for i in range(rounds):
            kind = ("ingest", "publish")[i % 2]
            try:
                results.append(crash_round(world, kind, rng))
            except AssertionError as exc:
                failures.append(f"round {i + 1} ({kind}): {exc}")
    finally:
        world.runtime.close()
        if dbname:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return {
        "mode": mode,
        "durations": world.durations,
        "results": results,
        "failures": failures,
        "seconds": time.monotonic() - started,
    }


def report(run_: dict) -> None:
    results = run_["results"]
    mid = [r for r in results if r.after_kill_status == "running"]
    print(
        f"\n== {run_['mode']} worker: {len(results) + len(run_['failures'])} rounds in {run_['seconds']:.0f} s "
        f"(clean job times: ingest {run_['durations']['ingest']:.2f} s, publish {run_['durations']['publish']:.2f} s)"
    )
    print(
        f"  kills in the middle of a job: {len(mid)} "
        f"(ingest {sum(r.kind == 'ingest' for r in mid)}, publish {sum(r.kind == 'publish' for r in mid)}); "
        f"after the job had ended: {len(results) - len(mid)}"
    )
    print(f"  recovery of killed jobs: {dict(Counter(r.recovery for r in mid))}")
    print(f"  final job states: {dict(Counter(r.final_status for r in results))}")
    print(
        f"  public answers after each kill: {dict(Counter(r.public for r in results))} "
        "(unchanged = the previous version, switched = wholly the new one after a completed publish)"
    )
    print(f"  broken promises: {len(run_['failures'])}")
    for failure in run_["failures"]:
        print(f"    {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    ours = run("rq", args.rounds, args.rows, args.seed)
    peer = run("embedded", args.rounds, args.rows, args.seed)
    report(ours)
    report(peer)
    if ours["failures"] or peer["failures"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
