"""RQ workers on Redis: the scaled job runner behind the same job interface.

The app's ``RQRunner.submit`` puts the job id on an RQ queue (the RQ job id is
the catalogue job id, so handing a job over twice is harmless: only one
attempt can claim the row).  A worker process (``cgd worker``) runs
``perform(job_id)``, which is ``indexer.jobs.execute`` with the worker's own
services.  RQ's ``job_timeout`` stops an attempt that runs past its policy.

A sweeper thread in the worker process recovers jobs whose worker died
(``indexer.jobs.recover``) and hands Redis again the jobs it never received
(Redis was down when the app committed them), so no job is lost between the
table and the queue.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.job import Job as RQJob
from rq.job import JobStatus as RQJobStatus

from catalog.services import jobs as job_service
from indexer import jobs as job_runner
from indexer.jobs import JobRunner, policy_for
from indexer.pipeline import PipelineContext

log = logging.getLogger(__name__)

QUEUE_NAME = "cgd"


def rq_timeout(kind: str, settings: dict[str, Any]) -> int:
    """RQ's hard limit for one job: its policy timeout plus a margin (``RQ_TIMEOUT_MARGIN``, 30 s)."""
    margin = settings.get("RQ_TIMEOUT_MARGIN")
    return max(
        1, int(policy_for(kind, settings).timeout + (30 if margin is None else float(margin)))
    )


def redis_connection(url: str) -> Redis:
    """A Redis client that fails fast (seconds) when the server is away."""
    return Redis.from_url(
        url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30
    )


class RQRunner(JobRunner):
    """Hands committed job ids to RQ workers through a Redis queue."""

    name = "rq"

    def __init__(
        self, ctx: PipelineContext, redis_url: str | None, *, queue_name: str | None = None
    ) -> None:
        if not redis_url:
            raise RuntimeError("CGD_JOB_RUNNER=rq needs CGD_REDIS_URL (redis://host:6379/0).")
        self.ctx = ctx
        self.redis = redis_connection(redis_url)
        self.queue = Queue(
            queue_name or ctx.settings.get("RQ_QUEUE") or QUEUE_NAME, connection=self.redis
        )

    def submit(self, job_id: str) -> None:
        """Enqueue on Redis; if Redis is away the job stays queued in the table for the sweeper."""
        try:
            with self.ctx.db.session() as session:
                kind = job_service.get_job(session, job_id).kind
            hand_over(self.queue, job_id, rq_timeout(kind, self.ctx.settings))
        except RedisError as exc:
            log.error(
                "job %s is queued in the catalogue but Redis did not take it (%s); "
                "a worker's sweeper hands it over when Redis answers",
                job_id,
                exc,
            )

    def queue_length(self) -> int | None:
        return len(self.queue)

    def ping(self) -> None:
        self.redis.ping()

    def stop(self) -> None:
        self.redis.close()


def hand_over(queue: Queue, job_id: str, timeout: int) -> None:
    """Put one job id on the RQ queue (unless it already waits there).

    Called only for jobs the table says are queued: an RQ job still "started"
    is then the ghost of a worker that died, and is handed over again.
    """
    existing = RQJob.fetch_many([job_id], connection=queue.connection)[0]
    if existing is not None and existing.get_status(refresh=False) in (
        RQJobStatus.QUEUED,
        RQJobStatus.DEFERRED,
        RQJobStatus.SCHEDULED,
    ):
        return
    queue.enqueue(
        "indexer.rq_runner.perform",
        job_id,
        job_id=job_id,
        job_timeout=timeout,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"cgd job {job_id}",
    )


# -- the worker side ------------------------------------------------------------

_context_factory: Callable[[], PipelineContext] | None = None
_context: tuple[int, PipelineContext] | None = None
_context_lock = threading.Lock()


def configure(factory: Callable[[], PipelineContext]) -> None:
    """Tell this worker process how to open its services (called by ``cgd worker``)."""
    global _context_factory, _context
    _context_factory = factory
    _context = None


def _worker_context() -> PipelineContext:
    """The services of this process; a forked work horse opens its own connections."""
    global _context
    with _context_lock:
        if _context is not None and _context[0] == os.getpid():
            return _context[1]
        if _context is not None:
            # inherited across fork: never reuse the parent's pooled connections
            _context[1].db.engine.dispose(close=False)
        if _context_factory is None:
            raise RuntimeError("indexer.rq_runner.configure() was not called in this worker.")
        _context = (os.getpid(), _context_factory())
        return _context[1]


def perform(job_id: str) -> str:
    """The RQ task: run the catalogue job ``job_id``; returns its status afterwards."""
    return job_runner.execute(_worker_context(), job_id)


def sweep(ctx: PipelineContext, queue: Queue, *, older_than: float = 10.0) -> dict[str, Any]:
    """Recover lost jobs and hand Redis the queued jobs it does not hold. Returns what it did."""
    recovered = job_runner.recover(ctx)
    before = datetime.now(UTC) - timedelta(seconds=older_than)
    with ctx.db.session() as session:
        waiting = job_service.queued_before(session, before)
        kinds = {jid: job_service.get_job(session, jid).kind for jid in waiting}
    handed = 0
    for job_id in waiting:
        hand_over(queue, job_id, rq_timeout(kinds[job_id], ctx.settings))
        handed += 1
    return {"recovered": recovered, "handed_over": handed}


class _Sweeper(threading.Thread):
    def __init__(self, ctx: PipelineContext, queue: Queue, interval: float) -> None:
        super().__init__(name="cgd-sweeper", daemon=True)
        self.ctx, self.queue, self.interval = ctx, queue, interval
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            try:
                sweep(self.ctx, self.queue)
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: next round
                log.warning("sweeper: %s", exc)


def run_worker(
    factory: Callable[[], PipelineContext],
    redis_url: str,
    *,
    burst: bool = False,
    queue_name: str | None = None,
    sweep_seconds: float = 10.0,
    simple: bool = False,
) -> bool:
    """Work the queue until stopped (or, with ``burst``, until it is empty).

    ``simple`` runs jobs in this process instead of a forked work horse per job.
    """
    from rq.worker import SimpleWorker

    configure(factory)
    ctx = _worker_context()
    connection = redis_connection(redis_url)
    queue = Queue(queue_name or ctx.settings.get("RQ_QUEUE") or QUEUE_NAME, connection=connection)
    sweep(ctx, queue, older_than=0)
    sweeper = _Sweeper(ctx, queue, sweep_seconds)
    if not burst:
        sweeper.start()
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([queue], connection=connection)
    try:
        return worker.work(burst=burst, logging_level=logging.getLevelName(log.getEffectiveLevel()))
    finally:
        sweeper.halt.set()
