"""Restart: PostgreSQL and Redis stop and start during a run; clear errors, then recovery.

Runs against services of its own, never the shared ones: a throwaway
PostgreSQL cluster (pg_createcluster on a free port, dropped afterwards) and
a redis-server on a free port.  The portal app (in process) has the catalogue
on that PostgreSQL and jobs on RQ over that Redis; an RQ worker process
(`cgd worker`) runs the jobs.

1. PostgreSQL stops while an ingest job runs: /readyz answers 503 naming the
   database, the job's attempt fails with a connection error and is retried
   with backoff; PostgreSQL starts again; the retry succeeds; /readyz is 200.
2. Redis stops: /readyz answers 503 naming the job queue; a version uploaded
   meanwhile is committed (the catalogue is the truth) and waits queued; Redis
   starts again; the worker's sweeper hands the job over and it succeeds.
3. No corruption: every published dataset's catalogue version, search index
   version and document agree; no job is left running.

Peer figure, from the same run: the time a plain psycopg connection and a
plain redis-py client take to answer again after each restart (the floor
for our recovery time).

Run: .venv/bin/python bench/bench_restart.py   (root: uses pg_createcluster)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
PG_VERSION = sorted(os.listdir("/etc/postgresql"))[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.port = _free_port()
        self.name = f"cgdrestart{uuid.uuid4().hex[:6]}"

    def create(self) -> None:
        _sh(
            "pg_createcluster",
            PG_VERSION,
            self.name,
            "-p",
            str(self.port),
            "--",
            "--auth-host=trust",
            "--auth-local=trust",
        )
        self.start()

    def start(self) -> None:
        _sh("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.name, "start")

    def stop(self) -> None:
        _sh(
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            PG_VERSION,
            self.name,
            "stop",
            "-m",
            "fast",
        )

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            _sh("pg_dropcluster", "--stop", PG_VERSION, self.name)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=1
            ) as c:
                c.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001
            return False


class ThrowawayRedis:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.answers, 10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        from redis import Redis

        try:
            return bool(Redis(port=self.port, socket_connect_timeout=1).ping())
        except Exception:  # noqa: BLE001
            return False


def _wait(predicate, timeout: float, step: float = 0.1) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    return None


def main() -> None:
    from sqlalchemy import select

    from catalog.models import Dataset, Job
    from catalog.principal import system
    from catalog.services import datasets as dataset_service
    from catalog.services import jobs as job_service
    from catalog.services import organisations
    from indexer.synthetic import demo_metadata, generate_survey
    from portal.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="cgd-restart-"))
    pg = ThrowawayPostgres()
    redis = ThrowawayRedis(tmp)
    worker = None
    findings: list[str] = []
    try:
        pg.create()
        redis.start()
        queue = "cgd-restart"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CGD_")}
        env.update(
            CGD_INSTANCE_PATH=str(tmp / "instance"),
            CGD_DATABASE_URL=pg.url,
            CGD_REDIS_URL=redis.url,
            CGD_JOB_RUNNER="rq",
            CGD_RQ_QUEUE=queue,
            CGD_SECRET_KEY="restart-" + uuid.uuid4().hex,
            CGD_JOB_RETRY_BACKOFF="2",
            CGD_JOB_MAX_ATTEMPTS="4",
            CGD_JOB_SWEEP_SECONDS="2",
            CGD_LOG_LEVEL="WARNING",
            CGD_RATELIMIT_ENABLED="false",
        )
        app = create_app(
            {
                "INSTANCE_PATH": env["CGD_INSTANCE_PATH"],
                "DATABASE_URL": pg.url,
                "REDIS_URL": redis.url,
                "JOB_RUNNER_OVERRIDE": "rq",
                "RQ_QUEUE": queue,
                "SECRET_KEY": env["CGD_SECRET_KEY"],
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
            },
            start_jobs=False,
        )
        rt = app.extensions["cgd"]
        client = app.test_client()
        worker = subprocess.Popen(
            [str(BIN / "cgd"), "worker"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def readyz():
            res = client.get("/readyz")
            return res.status_code, res.get_json()

        def upload(rows: int, seed: int) -> tuple[str, str, str]:
            with rt.db.session() as s:
                ds = dataset_service.create_dataset(s, system(), "samata", demo_metadata())
                dataset_id = ds.id
            key = f"datasets/{dataset_id}/uploads/s{seed}.csv"
            path = rt.files.path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            generate_survey(rows, seed=seed).write_csv(path)
            with rt.db.session() as s:
                ds = dataset_service.get_dataset(s, dataset_id, system())
                version, job = dataset_service.create_version(
                    s, system(), ds, filename="s.csv", raw_path=key, auto_publish=True
                )
                return dataset_id, version.id, job.id

        def job_state(job_id):
            with rt.db.session() as s:
                job = job_service.get_job(s, job_id)
                return job.status, job.attempts, job.error

        with rt.db.session() as s:
            organisations.create_organisation(s, system(), slug="samata", name="Samata")
        print(f"throwaway PostgreSQL {PG_VERSION} on :{pg.port}, redis-server on :{redis.port}")
        print(f"ready at start: {readyz()[0]}")
        _, _, first = upload(1500, 1)
        _wait(lambda: job_state(first)[0] in ("succeeded", "failed"), 120)
        print(f"first ingest+publish: {job_state(first)[0]}")

        # 1. PostgreSQL stops during an ingest
        print("\n1. PostgreSQL stops while an ingest runs")
        _, _, job_id = upload(20_000, 2)
        _wait(lambda: job_state(job_id)[0] == "running", 60, 0.05)
        time.sleep(0.5)
        pg.stop()
        stopped = time.monotonic()
        status, body = readyz()
        print(f"  /readyz: {status} database: {body['checks']['database']}")
        findings.append(
            f"PostgreSQL down: /readyz {status}, {body['checks']['database'].get('error', '')[:120]}"
        )
        page = client.get("/search?q=water")
        api = client.get("/api/v1/partnerships/x")
        print(
            f"  a page that needs the catalogue: HTTP {page.status_code}; the API: HTTP {api.status_code} {api.get_json()}"
        )
        findings.append(
            f"PostgreSQL down: page HTTP {page.status_code}, API HTTP {api.status_code}"
        )
        time.sleep(10)  # longer than the ingest's own work: its writes meet the outage
        pg.start()
        floor = _wait(pg.answers, 60)
        ready_after = _wait(lambda: readyz()[0] == 200, 60)
        print(
            f"  PostgreSQL back after {time.monotonic() - stopped:.1f} s; psycopg answers after {floor:.2f} s (peer), "
            f"/readyz 200 after {ready_after:.2f} s (ours)"
        )
        _wait(lambda: job_state(job_id)[0] in ("succeeded", "failed"), 300)
        status_, attempts, error = job_state(job_id)
        print(f"  the ingest job: {status_} after {attempts} attempt(s); last error: {error}")
        findings.append(f"ingest across a PostgreSQL restart: {status_}, {attempts} attempts")

        # 2. Redis stops
        print("\n2. Redis stops")
        redis.stop()
        stopped = time.monotonic()
        status, body = readyz()
        print(f"  /readyz: {status} jobs: {body['checks']['jobs']}")
        findings.append(
            f"Redis down: /readyz {status}, {body['checks']['jobs'].get('error', '')[:120]}"
        )
        _, _, queued_job = upload(1500, 3)
        print(
            f"  upload while Redis is down: committed, job {job_state(queued_job)[0]} (in the catalogue)"
        )
        time.sleep(2)
        redis.start()
        floor = _wait(redis.answers, 30)
        ready_after = _wait(lambda: readyz()[0] == 200, 60)
        done_after = _wait(lambda: job_state(queued_job)[0] in ("succeeded", "failed"), 180)
        print(
            f"  Redis back after {time.monotonic() - stopped:.1f} s; redis-py answers after {floor:.2f} s (peer), "
            f"/readyz 200 after {ready_after:.2f} s, the waiting job {job_state(queued_job)[0]} "
            f"{done_after if done_after is None else round(done_after, 1)} s after (ours)"
        )
        worker_alive = worker.poll() is None
        print(
            f"  the RQ worker process {'kept running' if worker_alive else f'exited with {worker.returncode}'}"
        )
        findings.append(
            f"job uploaded while Redis was down: {job_state(queued_job)[0]}; worker alive: {worker_alive}"
        )

        # 3. no corruption
        print("\n3. consistency")
        problems = []
        with rt.db.session() as s:
            for ds in s.scalars(select(Dataset).where(Dataset.published_version_id.is_not(None))):
                doc = rt.search.get_dataset(ds.id) or {}
                active = rt.search.active_version(ds.id)
                if not (ds.published_version_id == active == doc.get("version_id")):
                    problems.append(
                        f"{ds.id}: catalogue {ds.published_version_id}, index {active}, doc {doc.get('version_id')}"
                    )
            running = s.scalars(select(Job.id).where(Job.status.in_(["running", "queued"]))).all()
        print(f"  datasets whose catalogue and index disagree: {len(problems)} {problems}")
        print(f"  jobs left running or queued: {len(running)}")
        findings.append(f"disagreements: {len(problems)}, jobs left: {len(running)}")
        rt.close()
    finally:
        if worker and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        redis.stop()
        pg.drop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nsummary:")
    for line in findings:
        print(f"  - {line}")


if __name__ == "__main__":
    main()
