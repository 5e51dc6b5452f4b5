"""Kill -9 a job worker at random points of ingest and publish, and check what the public sees.

Used by tests/reliability (a few rounds) and bench/bench_crash.py (20 rounds).
A round queues one job (an ingest of a new version, or the publication of
the version ingested before), starts a worker process, kills its process
group with SIGKILL at a random moment while it holds the job, then checks:

- right after the kill the public answers (catalogue's published version, the
  search index's active version and dataset document, records, an aggregate)
  are exactly those before the round, or, for a publish killed after its
  atomic switch, exactly those of the new version, never a mix;
- the job is running with a stale heartbeat, and ``recover`` queues it again
  (resumable) or fails it when no attempt is left;
- a fresh worker then takes it to the end, and catalogue and index agree.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.principal import system
from catalog.services import datasets, organisations
from catalog.services import jobs as job_service
from indexer import jobs as job_runner
from indexer.runtime import Runtime, build_runtime
from indexer.synthetic import demo_metadata, generate_survey

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CrashWorld:
    cfg: dict[str, Any]
    runtime: Runtime
    dataset_id: str
    rows: int
    mode: str = "embedded"  # or "rq": the worker is `cgd worker --burst`
    durations: dict[str, float] = field(default_factory=dict)
    awaiting: str | None = None  # a version ingested and not yet published
    seed: int = 100
    # finish jobs (calibration, after recovery) in this process instead of a fresh worker
    finish_in_process: bool = False


def make_world(
    tmp: Path,
    *,
    database_url: str | None = None,
    rows: int = 3000,
    mode: str = "embedded",
    redis_url: str | None = None,
    finish_in_process: bool = False,
) -> CrashWorld:
    """A catalogue with one published version, ingested and published by worker processes."""
    instance = tmp / "instance"
    cfg: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url or f"sqlite:///{instance / 'catalog.sqlite3'}",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_PATH": str(instance / "search.sqlite3"),
        "FILES_PATH": str(instance / "files"),
        "SECRET_KEY": "crash-" + uuid.uuid4().hex,
        "JOB_HEARTBEAT_SECONDS": 0.2,
        "JOB_STALE_SECONDS": 1.0,
        "JOB_MAX_ATTEMPTS": 3,
        "JOB_RETRY_BACKOFF": 0.1,
    }
    if mode == "rq":
        cfg.update(
            REDIS_URL=redis_url, RQ_QUEUE=f"cgd-crash-{uuid.uuid4().hex[:8]}", JOB_SWEEP_SECONDS=0.5
        )
    instance.mkdir(parents=True, exist_ok=True)
    runtime = build_runtime(cfg, runner="rq" if mode == "rq" else "inline")
    if mode != "rq":
        job_service.set_dispatcher(runtime.db.engine, None)  # jobs wait for the worker process
    with runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata")
        dataset_id = datasets.create_dataset(s, system(), "samata", demo_metadata()).id
    world = CrashWorld(
        cfg=cfg,
        runtime=runtime,
        dataset_id=dataset_id,
        rows=rows,
        mode=mode,
        finish_in_process=finish_in_process and mode != "rq",
    )
    for kind in ("ingest", "publish"):
        job_id = queue_job(world, kind)
        finish(world, job_id)
        assert job_status(world, job_id) == "succeeded", job_error(world, job_id)
        with runtime.db.session() as s:
            job = job_service.get_job(s, job_id)
            world.durations[kind] = (job.finished_at - job.started_at).total_seconds()
    return world


def queue_job(world: CrashWorld, kind: str) -> str:
    """Queue an ingest of a new synthetic version, or the publication of the one awaiting."""
    rt = world.runtime
    if kind == "ingest":
        world.seed += 1
        key = f"datasets/{world.dataset_id}/uploads/{uuid.uuid4().hex[:8]}.csv"
        path = rt.files.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        generate_survey(world.rows, seed=world.seed).write_csv(path)
        with rt.db.session() as s:
            ds = datasets.get_dataset(s, world.dataset_id, system())
            version, job = datasets.create_version(
                s, system(), ds, filename="survey.csv", raw_path=key
            )
            world.awaiting = version.id
            return job.id
    with rt.db.session() as s:
        version = datasets.get_version(s, world.awaiting)
        return datasets.request_publish(s, system(), version, approve_free_text=True).id


def job_status(world: CrashWorld, job_id: str) -> str:
    with world.runtime.db.session() as s:
        return job_service.get_job(s, job_id).status


def job_error(world: CrashWorld, job_id: str):
    with world.runtime.db.session() as s:
        return job_service.get_job(s, job_id).error


def _command(world: CrashWorld) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CGD_")}
    if world.mode == "rq":
        for key, value in world.cfg.items():
            env[f"CGD_{key}"] = str(value)
        env["CGD_JOB_RUNNER"] = "rq"
        return [str(Path(sys.executable).parent / "cgd"), "worker", "--burst"], env
    return [sys.executable, "-m", "tests.reliability.worker_child", json.dumps(world.cfg)], env


def run_worker(
    world: CrashWorld, job_id: str, *, kill_after: float | None, timeout: float = 300
) -> str:
    """Run a worker process; with ``kill_after``, SIGKILL its process group that many seconds
    after it claimed ``job_id``.  Returns "killed" or "finished"."""
    cmd, env = _command(world)
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        if kill_after is not None:
            while job_status(world, job_id) == "queued" and proc.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError("the worker never claimed the job")
                time.sleep(0.01)
            until = time.monotonic() + kill_after
            while time.monotonic() < until and proc.poll() is None:
                time.sleep(0.005)
            if proc.poll() is None:
                _kill_all(world, job_id, proc)
                return "killed"
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        return "finished"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def finish(world: CrashWorld, job_id: str) -> None:
    """Run a queued job to its end, in a fresh worker process or in this one."""
    if world.finish_in_process:
        job_runner.execute(world.runtime.ctx, job_id)
    else:
        run_worker(world, job_id, kill_after=None)


def _kill_all(world: CrashWorld, job_id: str, proc: subprocess.Popen) -> None:
    """SIGKILL the worker and the process running the job: an RQ work horse leaves the
    worker's process group (setsid), and a crashed machine or container takes both."""
    with world.runtime.db.session() as s:
        holder = job_service.get_job(s, job_id).worker or ""
    parts = holder.split(":")
    horse = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
    if horse is not None and horse != proc.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(horse, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def public_answers(world: CrashWorld) -> dict[str, Any]:
    """Everything a reader can see of the dataset."""
    rt = world.runtime
    with rt.db.session() as s:
        published = datasets.get_dataset(s, world.dataset_id, system()).published_version_id
    doc = rt.search.get_dataset(world.dataset_id) or {}
    page = rt.search.records(world.dataset_id, limit=20)
    return {
        "catalogue": published,
        "active": rt.search.active_version(world.dataset_id),
        "document": doc.get("version_id"),
        "record_count": doc.get("record_count"),
        "records_total": page.total,
        "records": page.rows,
        "cube": rt.search.cube(world.dataset_id, ("sex",)),
    }


@dataclass
class RoundResult:
    kind: str
    delay: float
    outcome: str  # killed | finished (the job ended before the kill)
    after_kill_status: str  # "running" when the kill came in the middle of the job
    recovery: str  # requeued | failed | none
    final_status: str
    public: str  # unchanged | switched


def crash_round(world: CrashWorld, kind: str, rng: random.Random) -> RoundResult:
    """One kill at a random point of ``kind``; raises AssertionError on any broken promise."""
    if kind == "publish" and world.awaiting is None:
        finish(world, queue_job(world, "ingest"))
    before = public_answers(world)
    job_id = queue_job(world, kind)
    version_id = world.awaiting
    # a moment while the worker holds the job (its clean run took durations[kind])
    delay = rng.uniform(0.0, world.durations[kind] * 0.8)
    outcome = run_worker(world, job_id, kill_after=delay)
    after_kill = public_answers(world)
    status = job_status(world, job_id)
    recovery = "none"
    if outcome == "killed" and status == "running":
        time.sleep(float(world.cfg["JOB_STALE_SECONDS"]) + 0.3)
        if world.mode == "rq":
            # the next worker's sweeper recovers it (requeues and hands it to Redis) first
            finish(world, job_id)
            with world.runtime.db.session() as s:
                attempts = job_service.get_job(s, job_id).attempts
            recovery = "requeued" if attempts >= 2 else "none"
            assert recovery == "requeued", "the killed job was not recovered by the next worker"
        else:
            settled = dict(job_runner.recover(world.runtime.ctx))
            recovery = settled.get(job_id, "none")
            assert recovery in ("requeued", "failed"), f"a killed job was not recovered: {settled}"
    if job_status(world, job_id) == "queued":
        finish(world, job_id)
    final_status = job_status(world, job_id)
    final = public_answers(world)
    assert final_status in ("succeeded", "failed"), f"job left {final_status}"
    # catalogue and index always agree once the job has ended
    assert final["catalogue"] == final["active"] == final["document"], final
    if kind == "ingest":
        assert after_kill == before, "an ingest changed what the public sees"
        assert final == before
        with world.runtime.db.session() as s:
            version = datasets.get_version(s, version_id)
            expected = "awaiting_approval" if final_status == "succeeded" else "failed"
            assert version.status == expected, (version.status, final_status)
        if final_status == "failed":
            world.awaiting = None
        public = "unchanged"
    else:
        if final_status == "succeeded":
            assert final["catalogue"] == version_id
            assert final["records_total"] == final["record_count"] > 0
            assert after_kill in (before, final), "a killed publish left a mix of two versions"
            world.awaiting = None
            public = "switched"
        else:
            assert after_kill == before and final == before
            public = "unchanged"
    return RoundResult(kind, delay, outcome, status, recovery, final_status, public)
