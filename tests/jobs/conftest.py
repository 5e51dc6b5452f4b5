"""Fixtures for the job runners: a real Redis, a private RQ queue per test, uploads."""

from __future__ import annotations

import signal
import time
import uuid

import pytest

from catalog.models import JobStatus
from catalog.principal import system
from catalog.services import datasets, organisations
from catalog.services.jobs import get_job
from indexer.synthetic import demo_metadata, generate_survey
from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_error(url: str) -> str | None:
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).strip().splitlines()[0]


@pytest.fixture
def redis_url():
    require_service("Redis", _redis_error(REDIS_URL))
    return REDIS_URL


@pytest.fixture
def rq_queue(redis_url):
    """A queue name of this test's own, emptied afterwards."""
    from redis import Redis
    from rq import Queue

    name = f"cgd-test-{uuid.uuid4().hex[:10]}"
    yield name
    conn = Redis.from_url(redis_url)
    q = Queue(name, connection=conn)
    q.empty()
    for registry in (q.started_job_registry, q.finished_job_registry, q.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    conn.close()


def run_rq_burst(runtime, redis_url: str, queue: str) -> None:
    """Work the test's queue in this process until it is empty (a real RQ SimpleWorker)."""
    from indexer.rq_runner import run_worker

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_worker(lambda: runtime.ctx, redis_url, burst=True, queue_name=queue, simple=True)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def wait_job(runtime, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.db.session() as s:
            job = get_job(s, job_id)
            if job.status in (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value):
                return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def upload(
    runtime, *, rows=150, seed=5, content: bytes | None = None, org="samata", auto_publish=False
):
    """Create (once) the organisation and a dataset, store a synthetic upload, queue its ingest."""
    with runtime.db.session() as s:
        try:
            organisations.get_organisation(s, org)
        except Exception:  # noqa: BLE001 - first upload of the test
            organisations.create_organisation(s, system(), slug=org, name=org.title())
    with runtime.db.session() as s:
        ds = datasets.create_dataset(s, system(), org, demo_metadata())
        dataset_id = ds.id
    key = f"datasets/{dataset_id}/uploads/survey-{uuid.uuid4().hex[:6]}.csv"
    path = runtime.files.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        generate_survey(rows, seed=seed).write_csv(path)
    else:
        path.write_bytes(content)
    with runtime.db.session() as s:
        ds = datasets.get_dataset(s, dataset_id, system())
        version, job = datasets.create_version(
            s, system(), ds, filename="survey.csv", raw_path=key, auto_publish=auto_publish
        )
        return dataset_id, version.id, job.id
