"""Load: 50 concurrent readers on 127.0.0.1 for 60 s under gunicorn while an ingest runs.

Ours: the portal under gunicorn (docker/gunicorn.conf.py: gthread workers)
with the catalogue on PostgreSQL, jobs on an RQ worker over Redis and the
embedded search index, 50 readers (5 processes x 10 threads, keep-alive)
cycling through full-text search pages, dataset pages and GraphQL
aggregates, while an RQ worker ingests and publishes a large new version.
Peer, measured in the same run on the same server: the same readers with no
ingest running (15 s).  Reports errors (goal 0) and p50/p95/p99 latency
(goal p95 < 300 ms) per request kind.

Rate limits are switched off (CGD_RATELIMIT_ENABLED=false): all readers come
from one address, and this measures serving, not the limiter.

Run: .venv/bin/python bench/bench_load.py [--seconds 60] [--readers 50] [--ingest-rows 200000] [--sqlite]
Needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psycopg
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PG = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
QUERIES = [
    "water",
    "sanitation",
    "disability",
    "Saptari",
    "women",
    "Dalit",
    "health",
    "tap",
    "survey",
    "",
]
AGGREGATE = """query($ds: String!, $by: [String!]!) {
  aggregate(dataset: $ds, by: $by) { suppressedCount cells { count suppressed dimensions { column code } } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reader(
    base: str, slugs: list[str], until: float, seed: int
) -> list[tuple[str, float, bool, str]]:
    rng = random.Random(seed)
    session = requests.Session()
    out = []
    kinds = ["search", "dataset", "graphql"]
    i = rng.randrange(3)
    while time.time() < until:
        kind = kinds[i % 3]
        i += 1
        slug = rng.choice(slugs)
        started = time.perf_counter()
        error = ""
        try:
            if kind == "search":
                res = session.get(f"{base}/search", params={"q": rng.choice(QUERIES)}, timeout=30)
            elif kind == "dataset":
                res = session.get(f"{base}/datasets/{slug}", timeout=30)
            else:
                by = rng.choice([["sex"], ["district"], ["district", "sex"]])
                res = session.post(
                    f"{base}/graphql",
                    json={"query": AGGREGATE, "variables": {"ds": slug, "by": by}},
                    timeout=30,
                )
            ok = res.status_code == 200
            if ok and kind == "graphql":
                body = res.json()
                ok = "errors" not in body and bool(body["data"]["aggregate"]["cells"])
                if not ok:
                    error = str(body.get("errors"))[:200]
            elif not ok:
                error = f"HTTP {res.status_code}"
        except requests.RequestException as exc:
            ok, error = False, type(exc).__name__
        out.append((kind, time.perf_counter() - started, ok, error))
    return out


def _reader_process(base: str, slugs: list[str], until: float, threads: int, seed: int):
    results: list = []
    lock = threading.Lock()

    def run(n):
        got = _reader(base, slugs, until, seed * 100 + n)
        with lock:
            results.extend(got)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def read_load(base: str, slugs: list[str], seconds: float, readers: int) -> list:
    procs = 5 if readers >= 5 else 1
    per = readers // procs
    until = time.time() + seconds
    with ProcessPoolExecutor(procs) as ex:
        futures = [ex.submit(_reader_process, base, slugs, until, per, n) for n in range(procs)]
        return [r for f in futures for r in f.result()]


def summarise(label: str, results: list, seconds: float) -> dict:
    print(f"\n{label}: {len(results)} requests in {seconds:.0f} s ({len(results) / seconds:.0f}/s)")
    print(f"  {'kind':<8} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    out = {}
    for kind in ("search", "dataset", "graphql", "all"):
        rows = [r for r in results if kind == "all" or r[0] == kind]
        if not rows:
            continue
        lat = sorted(r[1] * 1000 for r in rows)
        q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0]] * 99
        errors = sum(not r[2] for r in rows)
        out[kind] = {"n": len(rows), "errors": errors, "p50": q[49], "p95": q[94], "p99": q[98]}
        print(f"  {kind:<8} {len(rows):>8} {errors:>6} {q[49]:>8.1f} {q[94]:>8.1f} {q[98]:>8.1f}")
    samples = sorted({r[3] for r in results if not r[2]})[:5]
    if samples:
        print(f"  error samples: {samples}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--datasets", type=int, default=6)
    parser.add_argument("--ingest-rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument(
        "--sqlite", action="store_true", help="catalogue on SQLite instead of PostgreSQL"
    )
    args = parser.parse_args()

    from catalog.principal import system
    from catalog.services import datasets as dataset_service
    from catalog.services import jobs as job_service
    from catalog.services import organisations
    from indexer.runtime import build_runtime
    from indexer.synthetic import demo_metadata, generate_survey
    from portal.config import load_config
    from portal.ingest import ingest_file

    tmp = Path(tempfile.mkdtemp(prefix="cgd-load-"))
    dbname = None
    if args.sqlite:
        database_url = f"sqlite:///{tmp / 'catalog.sqlite3'}"
    else:
        dbname = f"cgd_load_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
    queue = f"cgd-load-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CGD_")}
    env.update(
        CGD_INSTANCE_PATH=str(tmp / "instance"),
        CGD_DATABASE_URL=database_url,
        CGD_SEARCH_BACKEND="embedded",
        CGD_REDIS_URL="redis://127.0.0.1:6379/0",
        CGD_JOB_RUNNER="rq",
        CGD_RQ_QUEUE=queue,
        CGD_RATELIMIT_ENABLED="false",
        CGD_LOG_LEVEL="WARNING",
        CGD_SECRET_KEY="load-" + uuid.uuid4().hex,
    )
    cfg = load_config(env=env)
    procs: list[subprocess.Popen] = []
    try:
        print(
            f"setting up {args.datasets} published datasets ({'SQLite' if args.sqlite else 'PostgreSQL'} catalogue) ..."
        )
        rt = build_runtime(cfg, runner="inline")
        slugs = []
        with rt.db.session() as s:
            organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
        for n in range(args.datasets):
            path = tmp / f"survey-{n}.csv"
            generate_survey(1200, seed=n).write_csv(path)
            meta = demo_metadata()
            meta["title"] = {"en": f"Access to water and sanitation, round {n + 1}"}
            slugs.append(ingest_file(rt, path, "samata", meta, publish=True)["slug"])
        big = tmp / "big.csv"
        generate_survey(args.ingest_rows, seed=99).write_csv(big)
        rt.close()

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        genv = dict(
            env,
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS=str(args.workers),
            GUNICORN_THREADS=str(args.threads),
            PROMETHEUS_MULTIPROC_DIR=str(tmp / "prom"),
        )
        gunicorn = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                str(REPO / "docker" / "gunicorn.conf.py"),
                "portal.wsgi:app",
            ],
            cwd=REPO,
            env=genv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(gunicorn)
        deadline = time.time() + 120
        while True:
            try:
                if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise SystemExit("gunicorn did not become ready")
            time.sleep(0.5)
        read_load(base, slugs, 5, args.readers)  # warm every process and thread (not counted)

        print(f"peer: {args.readers} readers, no ingest, {args.baseline_seconds:.0f} s ...")
        baseline = read_load(base, slugs, args.baseline_seconds, args.readers)

        # the ingest: large new versions, auto-published by an RQ worker process, one after
        # another for the whole window, so that every reader request meets an ingest
        rt = build_runtime(cfg, runner="rq", migrate=False)
        worker = subprocess.Popen(
            [str(BIN / "cgd"), "worker"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(worker)
        ingests: list[str] = []
        window_over = threading.Event()

        def queue_ingest() -> str:
            with rt.db.session() as s:
                ds = dataset_service.create_dataset(s, system(), "samata", demo_metadata())
                dataset_id = ds.id
            key = f"datasets/{dataset_id}/uploads/big.csv"
            rt.files.save_file(key, big)
            with rt.db.session() as s:
                ds = dataset_service.get_dataset(s, dataset_id, system())
                _version, job = dataset_service.create_version(
                    s, system(), ds, filename="big.csv", raw_path=key, auto_publish=True
                )
                return job.id

        def status(job_id: str) -> str:
            with rt.db.session() as s:
                return job_service.get_job(s, job_id).status

        def keep_ingesting() -> None:
            while not window_over.is_set():
                job_id = queue_ingest()
                ingests.append(job_id)
                while status(job_id) in ("queued", "running") and not window_over.is_set():
                    time.sleep(0.2)

        feeder = threading.Thread(target=keep_ingesting, daemon=True)
        feeder.start()
        while not ingests or status(ingests[0]) != "running":  # the worker has begun
            time.sleep(0.1)
        print(
            f"ours: {args.readers} readers for {args.seconds:.0f} s while an RQ worker ingests and publishes "
            f"{args.ingest_rows}-row versions one after another ..."
        )
        loaded = read_load(base, slugs, args.seconds, args.readers)
        window_over.set()
        feeder.join()
        with rt.db.session() as s:
            jobs = [job_service.get_job(s, j) for j in ingests]
            done = [j for j in jobs if j.status in ("succeeded", "failed")]
            seconds = [(j.finished_at - j.started_at).total_seconds() for j in done if j.started_at]
        print(
            f"\ningests during the window: {len(done)} finished ({sum(j.status == 'succeeded' for j in done)} succeeded), "
            f"{len(jobs) - len(done)} still running at its end; "
            f"{statistics.mean(seconds) if seconds else float('nan'):.1f} s each on average (claim to end)"
        )
        rt.close()

        ours = summarise("ours, during the ingest", loaded, args.seconds)
        peer = summarise("peer, same server without an ingest", baseline, args.baseline_seconds)
        print(f"\nerrors: ours {ours['all']['errors']}, peer {peer['all']['errors']}  (goal 0)")
        print(
            f"p95: ours {ours['all']['p95']:.0f} ms, peer {peer['all']['p95']:.0f} ms  (goal < 300 ms)"
        )
        print(
            f"machine: {os.cpu_count()} CPUs shared with other work; gunicorn {args.workers} workers x {args.threads} threads"
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        from redis import Redis
        from rq import Queue

        Queue(queue, connection=Redis.from_url("redis://127.0.0.1:6379/0")).empty()
        if dbname:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
