"""One job interface, every runner: inline, the embedded worker thread and RQ on Redis.

Retries of transient failures, timeouts, recovery of jobs whose worker died,
and jobs committed while Redis was away.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import update

from catalog.models import Job
from catalog.principal import system
from catalog.services import datasets
from catalog.services import jobs as job_service
from indexer import jobs as job_runner
from indexer import pipeline
from tests.jobs.conftest import run_rq_burst, upload, wait_job


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _runner_app(make_app, database_url, runner, rq_queue=None, redis_url=None, **extra):
    config = dict(JOB_RUNNER_OVERRIDE=runner, **extra)
    if runner == "rq":
        config.update(REDIS_URL=redis_url, RQ_QUEUE=rq_queue)
    app = make_app(database_url, **config)
    runtime = app.extensions["cgd"]
    if runner == "embedded":
        runtime.jobs.start()
    return runtime


def _drive(runtime, runner, redis_url, rq_queue, job_id):
    """Let the runner work until the job is finished."""
    if runner == "rq":
        run_rq_burst(runtime, redis_url, rq_queue)
    return wait_job(runtime, job_id)


@pytest.fixture(params=["inline", "embedded", "rq"])
def runner(request):
    if request.param == "rq":
        request.getfixturevalue("redis_url")
    return request.param


@pytest.fixture
def queue_for(request):
    def get(runner):
        return request.getfixturevalue("rq_queue") if runner == "rq" else None

    return get


def test_ingest_and_publish_run_through_every_runner(make_app, database_url, runner, queue_for):
    queue = queue_for(runner)
    runtime = _runner_app(make_app, database_url, runner, queue, "redis://127.0.0.1:6379/0")
    dataset_id, version_id, job_id = upload(runtime)
    job = _drive(runtime, runner, "redis://127.0.0.1:6379/0", queue, job_id)
    assert job.status == "succeeded", job.error
    assert job.attempts == 1 and job.progress == 100 and job.worker
    with runtime.db.session() as s:
        version = datasets.get_version(s, version_id)
        assert version.status == "awaiting_approval"
        publish_id = datasets.request_publish(s, system(), version, approve_free_text=True).id
    assert (
        _drive(runtime, runner, "redis://127.0.0.1:6379/0", queue, publish_id).status == "succeeded"
    )
    assert runtime.search.active_version(dataset_id) == version_id
    assert runtime.search.get_dataset(dataset_id)["version_id"] == version_id


@pytest.fixture
def test_job_kind(monkeypatch):
    """Register a job kind for this test (a real function; the failures it meets are real)."""

    def register(name, fn):
        monkeypatch.setitem(pipeline.JOB_FUNCTIONS, name, fn)
        return name

    return register


def _queue(runtime, kind, payload=None):
    with runtime.db.session() as s:
        return job_service.enqueue(s, system(), kind, payload or {}).id


def test_a_lost_connection_is_retried_with_backoff_and_then_succeeds(make_app, test_job_kind):
    dead = _free_port()
    calls = []

    def flaky(ctx, payload):
        calls.append(time.monotonic())
        if len(calls) < 3:  # the first two attempts meet a Redis that is not there
            Redis(port=dead, socket_connect_timeout=1).ping()
        return {"ok": True}

    kind = test_job_kind("flaky_test", flaky)
    runtime = make_app(JOB_RETRY_BACKOFF=0.3).extensions["cgd"]
    job_id = _queue(runtime, kind)
    job = wait_job(runtime, job_id)
    assert job.status == "succeeded" and job.attempts == 3 and job.error is None
    assert calls[1] - calls[0] >= 0.3 and calls[2] - calls[1] >= 0.6  # the wait doubles


def test_a_service_that_stays_down_fails_the_job_after_its_attempts(make_app, test_job_kind):
    dead = _free_port()

    def always_down(ctx, payload):
        Redis(port=dead, socket_connect_timeout=1).ping()

    kind = test_job_kind("down_test", always_down)
    runtime = make_app(JOB_RETRY_BACKOFF=0.01, JOB_MAX_ATTEMPTS=2).extensions["cgd"]
    job = wait_job(runtime, _queue(runtime, kind))
    assert job.status == "failed" and job.attempts == 2
    assert job.error["code"] == "service_unavailable" and "ConnectionError" in job.error["message"]


def test_bad_input_fails_at_once_without_a_retry(make_app):
    runtime = make_app(JOB_RETRY_BACKOFF=0.01).extensions["cgd"]
    dataset_id, version_id, job_id = upload(runtime, content=b"\x00\x01\x02binary\xff" * 100)
    job = wait_job(runtime, job_id)
    assert job.status == "failed" and job.attempts == 1
    assert job.error["code"] not in ("internal_error", "service_unavailable")
    with runtime.db.session() as s:
        assert datasets.get_version(s, version_id).status == "failed"


def test_rq_stops_a_job_at_its_timeout(make_app, redis_url, rq_queue, test_job_kind):
    kind = test_job_kind("slow_test", lambda ctx, p: time.sleep(20) or {"ok": True})
    runtime = _runner_app(
        make_app, None, "rq", rq_queue, redis_url, JOB_TIMEOUT_SLOW_TEST=1, RQ_TIMEOUT_MARGIN=0
    )
    job_id = _queue(runtime, kind)
    started = time.monotonic()
    run_rq_burst(runtime, redis_url, rq_queue)
    job = wait_job(runtime, job_id)
    assert time.monotonic() - started < 10
    assert job.status == "failed" and job.error["code"] == "job_timeout"


def _backdate(runtime, job_id, seconds):
    past = datetime.now(UTC) - timedelta(seconds=seconds)
    with runtime.db.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(started_at=past, heartbeat_at=past))


def test_a_job_whose_worker_died_is_queued_again_then_failed_when_attempts_run_out(make_app):
    runtime = make_app(JOB_HEARTBEAT_SECONDS=0.2, JOB_MAX_ATTEMPTS=2).extensions["cgd"]
    runtime.jobs = job_runner.EmbeddedRunner(runtime.ctx)  # the table is polled; nothing runs yet
    job_service.set_dispatcher(runtime.db.engine, runtime.jobs.submit)
    _, version_id, job_id = upload(runtime)
    for attempt in (1, 2):
        with runtime.db.session() as s:
            assert job_service.claim(s, job_id, worker="host:1:gone") is not None
        assert job_runner.recover(runtime.ctx) == []  # its heartbeat is fresh: still alive
        _backdate(runtime, job_id, 5)  # then the worker is killed: no beat for 5 s
        settled = job_runner.recover(runtime.ctx)
        with runtime.db.session() as s:
            job = job_service.get_job(s, job_id)
            version = datasets.get_version(s, version_id)
        if attempt == 1:
            assert settled == [(job_id, "requeued")]
            assert job.status == "queued" and job.error["code"] == "worker_lost"
            assert version.status == "processing"
        else:
            assert settled == [(job_id, "failed")]
            assert job.status == "failed" and "no attempt is left" in job.error["message"]
            assert version.status == "failed" and version.error["code"] == "worker_lost"


def test_a_requeued_job_is_run_to_the_end_by_the_next_worker(make_app):
    runtime = make_app(JOB_HEARTBEAT_SECONDS=0.2).extensions["cgd"]
    job_service.set_dispatcher(runtime.db.engine, lambda job_id: None)  # nobody runs it yet
    _, version_id, job_id = upload(runtime)
    with runtime.db.session() as s:
        job_service.claim(s, job_id, worker="host:1:gone")
    _backdate(runtime, job_id, 5)
    embedded = job_runner.EmbeddedRunner(runtime.ctx, poll_seconds=0.1)
    embedded.start()
    try:
        job = wait_job(runtime, job_id)
    finally:
        embedded.stop()
    assert job.status == "succeeded" and job.attempts == 2
    with runtime.db.session() as s:
        assert datasets.get_version(s, version_id).status == "awaiting_approval"


def test_an_attempt_past_its_timeout_loses_the_job_and_cannot_record_a_late_end(
    make_app, test_job_kind
):
    release = []

    def stuck(ctx, payload):
        while not release:
            time.sleep(0.02)
        return {"late": True}

    kind = test_job_kind("stuck_test", stuck)
    runtime = make_app(
        JOB_TIMEOUT_STUCK_TEST=0.2, JOB_TIMEOUT_GRACE=0, JOB_HEARTBEAT_SECONDS=0.05
    ).extensions["cgd"]
    embedded = job_runner.EmbeddedRunner(runtime.ctx, poll_seconds=0.05)
    runtime.jobs = embedded
    job_service.set_dispatcher(runtime.db.engine, embedded.submit)
    embedded.start()
    try:
        job_id = _queue(runtime, kind)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            job_runner.recover(runtime.ctx)
            with runtime.db.session() as s:
                if job_service.get_job(s, job_id).status == "failed":
                    break
            time.sleep(0.05)
        release.append(True)
        time.sleep(0.3)
    finally:
        embedded.stop()
    with runtime.db.session() as s:
        job = job_service.get_job(s, job_id)
    assert job.status == "failed" and job.error["code"] == "job_timeout"
    assert job.result is None  # the late attempt's result was refused


def test_a_job_committed_while_redis_was_down_is_handed_over_by_the_sweeper(
    make_app, redis_url, rq_queue, caplog
):
    from indexer.rq_runner import RQRunner, sweep

    dead = f"redis://127.0.0.1:{_free_port()}/0"
    runtime = _runner_app(make_app, None, "rq", rq_queue, dead)
    with caplog.at_level(logging.ERROR, logger="indexer.rq_runner"):
        _, version_id, job_id = upload(runtime)  # the commit succeeds; Redis does not answer
    assert "Redis did not take it" in caplog.text
    with runtime.db.session() as s:
        assert job_service.get_job(s, job_id).status == "queued"
    live = RQRunner(runtime.ctx, redis_url, queue_name=rq_queue)
    assert sweep(runtime.ctx, live.queue, older_than=0)["handed_over"] == 1
    assert len(live.queue) == 1
    sweep(runtime.ctx, live.queue, older_than=0)  # a second sweep does not hand it over twice
    assert len(live.queue) == 1
    run_rq_burst(runtime, redis_url, rq_queue)
    assert wait_job(runtime, job_id).status == "succeeded"
    live.stop()
