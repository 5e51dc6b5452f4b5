"""Running jobs: one job interface, three runners.

The jobs table is the truth; a runner only carries job ids to ``execute``:

- ``InlineRunner`` runs each job to the end in the caller's thread (CLI, tests);
- ``EmbeddedRunner`` (the default) is a worker thread over the jobs table;
- ``indexer.rq_runner.RQRunner`` hands ids to RQ workers on Redis.

``execute`` is the same for all three: it claims the job, keeps a heartbeat
while it runs, retries transient failures (a database, Redis or Elasticsearch
connection lost) with backoff, records everything else as a failure with its
problems, and only the attempt that holds the job may record its end.  A job
whose worker died (kill -9) stops beating; ``recover`` queues it again while
attempts remain, else fails it.  Every pipeline step is safe to run again: it
writes beside what is public and switches in one step at the end.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from catalog.models import DatasetVersion, JobStatus
from catalog.services import datasets as dataset_service
from catalog.services import jobs as job_service
from indexer import pipeline
from indexer.pipeline import PipelineContext
from indexer.search.base import SearchBackendError
from schema.errors import CGDError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobPolicy:
    """How long a kind of job may run and how often it is tried."""

    timeout: float  # seconds for one attempt
    max_attempts: int = 3
    backoff: float = 2.0  # seconds before the second attempt; doubles after


DEFAULT_POLICY = JobPolicy(timeout=1800)
POLICIES: dict[str, JobPolicy] = {
    "ingest": JobPolicy(timeout=3600),
    "publish": JobPolicy(timeout=3600),
    "withdraw": JobPolicy(timeout=600),
    "reindex": JobPolicy(timeout=4 * 3600, max_attempts=2),
    "reindex_dataset": JobPolicy(timeout=900),
    "harvest": JobPolicy(timeout=3600, max_attempts=2),
}


def policy_for(kind: str, settings: dict[str, Any] | None = None) -> JobPolicy:
    """The policy of a job kind; ``JOB_TIMEOUT_<KIND>`` / ``JOB_MAX_ATTEMPTS`` settings override."""
    base = POLICIES.get(kind, DEFAULT_POLICY)
    settings = settings or {}
    timeout = (
        settings.get(f"JOB_TIMEOUT_{kind.upper()}") or settings.get("JOB_TIMEOUT") or base.timeout
    )
    attempts = settings.get("JOB_MAX_ATTEMPTS") or base.max_attempts
    backoff = settings.get("JOB_RETRY_BACKOFF")
    return JobPolicy(
        timeout=float(timeout),
        max_attempts=int(attempts),
        backoff=base.backoff if backoff is None else float(backoff),
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def heartbeat_seconds(settings: dict[str, Any]) -> float:
    return float(settings.get("JOB_HEARTBEAT_SECONDS") or 5.0)


def stale_after(settings: dict[str, Any]) -> timedelta:
    """No heartbeat for this long means the worker is gone (3 missed beats by default)."""
    seconds = settings.get("JOB_STALE_SECONDS") or 3 * heartbeat_seconds(settings)
    return timedelta(seconds=float(seconds))


class JobTimeout(Exception):
    """An attempt ran past its policy's timeout."""


def is_transient(exc: BaseException) -> bool:
    """Failures worth another attempt: a service that did not answer, not bad input or a bug."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout
    except ImportError:  # pragma: no cover - redis is a dependency
        RedisConnectionError = RedisTimeout = ConnectionError  # noqa: N806
    try:
        from elastic_transport import ConnectionError as ESConnectionError
        from elastic_transport import ConnectionTimeout as ESTimeout
    except ImportError:  # pragma: no cover
        ESConnectionError = ESTimeout = ConnectionError  # noqa: N806

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, RedisConnectionError | RedisTimeout | ESConnectionError | ESTimeout):
            return True
        if isinstance(exc, ConnectionError | TimeoutError) and not isinstance(exc, JobTimeout):
            return True
        if isinstance(exc, CGDError) and not isinstance(exc, SearchBackendError):
            return False
        exc = exc.__cause__ or exc.__context__
    return False


def _error_dict(exc: BaseException, attempt: int) -> dict[str, Any]:
    if isinstance(exc, CGDError):
        error = exc.to_dict()
    elif _is_timeout(exc):
        error = {
            "code": "job_timeout",
            "message": "The job ran longer than its timeout and was stopped.",
        }
    elif is_transient(exc):
        error = {
            "code": "service_unavailable",
            "message": f"A service did not answer ({type(exc).__name__}); the job was tried {attempt} times.",
        }
    else:
        error = {"code": "internal_error", "message": "The job failed unexpectedly; it was logged."}
    error["attempt"] = attempt
    return error


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, JobTimeout):
        return True
    try:
        from rq.timeouts import JobTimeoutException
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, JobTimeoutException)


class _Heartbeat:
    """Touches the job row every few seconds while an attempt runs (its own session)."""

    def __init__(self, ctx: PipelineContext, job_id: str, attempt: int) -> None:
        self.ctx, self.job_id, self.attempt = ctx, job_id, attempt
        self.interval = heartbeat_seconds(ctx.settings)
        self.lost = threading.Event()  # the job was taken from this attempt
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"cgd-heartbeat-{job_id[:8]}", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.ctx.db.session() as session:
                    if not job_service.heartbeat(session, self.job_id, self.attempt):
                        self.lost.set()
                        return
            except Exception as exc:  # noqa: BLE001 - a missed beat is not fatal
                log.warning("job %s: heartbeat failed: %s", self.job_id, exc)


def execute(
    ctx: PipelineContext,
    job_id: str,
    *,
    claimed: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Run one job: claim it (unless ``claimed``), try it up to its policy's attempts, record the end.

    Returns the job's status afterwards (``succeeded``, ``failed``, or ``running``
    when no end could be recorded, e.g. the database stayed down; ``recover``
    settles such a job later).  Never raises for a job's own failure.
    """
    with ctx.db.session() as session:
        if claimed:
            job = job_service.get_job(session, job_id)
        else:
            job = job_service.claim(session, job_id, worker=worker_name())
            if job is None:
                return job_service.get_job(session, job_id).status
        kind, payload, attempt = job.kind, dict(job.payload or {}), job.attempts
    policy = policy_for(kind, ctx.settings)
    fn = pipeline.JOB_FUNCTIONS.get(kind)
    started = time.monotonic()
    while True:
        try:
            if fn is None:
                raise CGDError(f"No job function for {kind!r}.", code="unknown_job_kind")
            with _Heartbeat(ctx, job_id, attempt):
                result = fn(ctx, payload)
        except Exception as exc:  # a job never takes the worker down
            error = _error_dict(exc, attempt)
            if is_transient(exc) and attempt < policy.max_attempts:
                delay = policy.backoff * (2 ** (attempt - 1))
                log.warning(
                    "job %s (%s) attempt %d failed (%s); retrying in %.1f s",
                    job_id,
                    kind,
                    attempt,
                    type(exc).__name__,
                    delay,
                )
                sleep(delay)
                if _record(ctx, job_service.note_retry, job_id, attempt, error):
                    attempt += 1
                    continue
                return _status(ctx, job_id)
            if not isinstance(exc, CGDError):
                log.exception("job %s (%s) failed", job_id, kind)
            _record(ctx, _fail_with_version(kind, payload), job_id, attempt, error)
            _observe(kind, "failed", time.monotonic() - started)
            return _status(ctx, job_id)
        _record(ctx, job_service.finish_attempt, job_id, attempt, result)
        _observe(kind, "succeeded", time.monotonic() - started)
        return _status(ctx, job_id)


def _record(
    ctx: PipelineContext, change: Callable[..., bool], job_id: str, attempt: int, value: Any
) -> bool:
    """Apply a fenced change to the job row; False when the attempt lost the job or the database is down."""
    try:
        with ctx.db.session() as session:
            return change(session, job_id, attempt, value)
    except Exception as exc:  # noqa: BLE001 - the row stays running; recover() settles it
        log.error("job %s: could not record its state (%s); it will be recovered", job_id, exc)
        return False


def _status(ctx: PipelineContext, job_id: str) -> str:
    try:
        with ctx.db.session() as session:
            return job_service.get_job(session, job_id).status
    except Exception:  # noqa: BLE001
        return JobStatus.RUNNING.value


def _fail_with_version(kind: str, payload: dict[str, Any]) -> Callable[..., bool]:
    """Fail the job and, in the same transaction, its version (so readers never see one without the other)."""

    def change(session, job_id: str, attempt: int, error: dict[str, Any]) -> bool:
        if not job_service.fail_attempt(session, job_id, attempt, error):
            return False
        _mark_version_failed(session, kind, payload, error)
        return True

    return change


def _mark_version_failed(
    session, kind: str, payload: dict[str, Any], error: dict[str, Any]
) -> None:
    version_id = payload.get("version_id")
    if kind != "ingest" or not version_id:
        return
    version = session.get(DatasetVersion, version_id)
    if version is not None and version.status == "processing":
        dataset_service.mark_failed(session, version, error)


# Job durations observed by the process that runs them (the embedded runner's
# are on the app's /metrics; an RQ worker serves its own, see rq_runner).
_observers: list[Callable[[str, str, float], None]] = []


def add_duration_observer(observer: Callable[[str, str, float], None]) -> None:
    if observer not in _observers:
        _observers.append(observer)


def _observe(kind: str, status: str, seconds: float) -> None:
    for observer in _observers:
        try:
            observer(kind, status, seconds)
        except Exception:  # noqa: BLE001 - metrics never break a job
            log.debug("duration observer failed", exc_info=True)


def recover(ctx: PipelineContext) -> list[tuple[str, str]]:
    """Settle jobs whose worker died or that ran past their timeout.

    Each is queued again (and handed to the runner after commit) while attempts
    remain, else failed; a failed ingest marks its version failed.  Returns
    ``(job_id, "requeued" | "failed")`` pairs.
    """
    settings = ctx.settings
    grace = float(settings.get("JOB_TIMEOUT_GRACE", 60))
    with ctx.db.session() as session:
        settled = job_service.recover_stale(
            session,
            stale_after=stale_after(settings),
            max_attempts=lambda kind: policy_for(kind, settings).max_attempts,
            # a limit well past the policy (RQ stops its own attempts at the policy
            # timeout): a live but stuck attempt of the embedded runner loses its job
            timeout_of=lambda kind: policy_for(kind, settings).timeout * 1.5 + grace,
            on_failed=lambda s, job, error: _mark_version_failed(
                s, job.kind, dict(job.payload or {}), error
            ),
        )
        out = [(job.id, action) for job, action in settled]
    for job_id, action in out:
        log.warning(
            "job %s: worker lost or timed out; %s", job_id, action, extra={"job_id": job_id}
        )
    return out


class JobRunner:
    """What the app asks for: submit a committed job id to be run."""

    name = "base"

    def submit(self, job_id: str) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Start working (threads, connections)."""

    def stop(self) -> None:
        """Stop working, letting a running job finish."""

    def queue_length(self) -> int | None:
        """Jobs waiting in the runner's own queue (None: the jobs table is the queue)."""
        return None

    def ping(self) -> None:
        """Raise when the runner's queue cannot take jobs (for readiness checks)."""


class InlineRunner(JobRunner):
    """Runs each job to the end in the caller's thread (CLI, tests)."""

    name = "inline"

    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx

    def submit(self, job_id: str) -> None:
        execute(self.ctx, job_id)


class EmbeddedRunner(JobRunner):
    """A worker thread over the jobs table: wakes on submit, polls for jobs left queued,
    and recovers jobs whose worker (another process sharing the table) died."""

    name = "embedded"

    def __init__(self, ctx: PipelineContext, *, poll_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.poll_seconds = float(poll_seconds or ctx.settings.get("JOB_POLL_SECONDS") or 5.0)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, job_id: str) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cgd-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                recover(self.ctx)
                ran = self.run_pending()
            except Exception:
                log.exception("job runner loop failed; retrying")
                ran = 0
            if not ran:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def run_pending(self) -> int:
        """Run queued jobs until none is left; return how many ran."""
        ran = 0
        while not self._stop.is_set():
            with self.ctx.db.session() as session:
                job = job_service.claim_next(session, worker=worker_name())
                job_id = job.id if job else None
            if job_id is None:
                return ran
            execute(self.ctx, job_id, claimed=True)
            ran += 1
        return ran
