"""Jobs: the table is the truth; queues (in-process thread or RQ) only carry ids.

A job row is created in the caller's transaction; once that transaction
commits, the configured dispatcher is told (so a rolled-back request never
starts a job).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from catalog.models import Job, JobStatus, as_utc
from catalog.principal import Principal
from schema.errors import NotFound

_PENDING_KEY = "cgd_jobs_to_dispatch"
# One dispatcher per database engine, so that several apps (tests, two nodes)
# can live in one process.
_dispatchers: weakref.WeakKeyDictionary[Engine, Callable[[str], None]] = weakref.WeakKeyDictionary()


def set_dispatcher(engine: Engine, dispatch: Callable[[str], None] | None) -> None:
    """Register what to call with a job id once its row is committed on ``engine``."""
    if dispatch is None:
        _dispatchers.pop(engine, None)
    else:
        _dispatchers[engine] = dispatch


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    if not pending:
        return
    dispatch = _dispatchers.get(session.get_bind())
    if dispatch is not None:
        for job_id in pending:
            dispatch(job_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def enqueue(
    session: Session,
    principal: Principal,
    kind: str,
    payload: dict[str, Any],
    *,
    organisation_id: int | None = None,
) -> Job:
    job = Job(
        kind=kind,
        payload=payload,
        organisation_id=organisation_id,
        created_by_id=principal.user_id,
    )
    session.add(job)
    session.flush()
    session.info.setdefault(_PENDING_KEY, []).append(job.id)
    return job


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"No job {job_id!r}.", code="job_not_found")
    return job


def _claim_values(worker: str | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "status": JobStatus.RUNNING.value,
        "started_at": now,
        "heartbeat_at": now,
        "worker": worker,
        "attempts": Job.attempts + 1,
    }


def claim_next(
    session: Session, kinds: set[str] | None = None, *, worker: str | None = None
) -> Job | None:
    """Take the oldest queued job; safe when several workers poll the same table."""
    stmt = select(Job.id).where(Job.status == JobStatus.QUEUED.value).order_by(Job.created_at)
    if kinds:
        stmt = stmt.where(Job.kind.in_(kinds))
    for job_id in session.scalars(stmt.limit(5)).all():
        job = claim(session, job_id, worker=worker)
        if job is not None:
            return job
    return None


def claim(session: Session, job_id: str, *, worker: str | None = None) -> Job | None:
    """Move one queued job to running (committed); None when another worker has it or it is done."""
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
        .values(**_claim_values(worker))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not claimed:
        return None
    return session.get(Job, job_id, populate_existing=True)


def _running_attempt(job_id: str, attempt: int):
    """Only the attempt that holds the job may change it (a timed-out or lost attempt may not)."""
    return (Job.id == job_id, Job.status == JobStatus.RUNNING.value, Job.attempts == attempt)


def heartbeat(session: Session, job_id: str, attempt: int, *, progress: int | None = None) -> bool:
    """Record that the attempt is alive; False when the job was taken from it (stop working)."""
    values: dict[str, Any] = {"heartbeat_at": datetime.now(UTC)}
    if progress is not None:
        values["progress"] = max(0, min(99, int(progress)))
    return bool(
        session.execute(
            update(Job)
            .where(*_running_attempt(job_id, attempt))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def finish_attempt(
    session: Session, job_id: str, attempt: int, result: dict[str, Any] | None
) -> bool:
    """Mark the job succeeded, if this attempt still holds it."""
    return bool(
        session.execute(
            update(Job)
            .where(*_running_attempt(job_id, attempt))
            .values(
                status=JobStatus.SUCCEEDED.value,
                result=result or {},
                progress=100,
                error=None,
                finished_at=datetime.now(UTC),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def fail_attempt(session: Session, job_id: str, attempt: int, error: dict[str, Any]) -> bool:
    """Mark the job failed, if this attempt still holds it."""
    return bool(
        session.execute(
            update(Job)
            .where(*_running_attempt(job_id, attempt))
            .values(status=JobStatus.FAILED.value, error=error, finished_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def note_retry(session: Session, job_id: str, attempt: int, error: dict[str, Any]) -> bool:
    """Record a transient failure; the same worker tries again as attempt ``attempt + 1``."""
    now = datetime.now(UTC)
    return bool(
        session.execute(
            update(Job)
            .where(*_running_attempt(job_id, attempt))
            .values(error=error, attempts=Job.attempts + 1, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def recover_stale(
    session: Session,
    *,
    stale_after: timedelta,
    max_attempts: Callable[[str], int],
    timeout_of: Callable[[str], float] | None = None,
    on_failed: Callable[[Session, Job, dict[str, Any]], None] | None = None,
    now: datetime | None = None,
) -> list[tuple[Job, str]]:
    """Find running jobs whose worker is gone (no heartbeat for ``stale_after``) or that ran
    past their timeout; queue each again while attempts remain, else fail it.

    ``on_failed(session, job, error)`` runs in the same transaction for each job failed.
    Returns ``(job, "requeued" | "failed")`` pairs; requeued jobs are dispatched after commit.
    """
    now = now or datetime.now(UTC)
    out: list[tuple[Job, str]] = []
    running = session.scalars(select(Job).where(Job.status == JobStatus.RUNNING.value)).all()
    for job in running:
        beat = as_utc(job.heartbeat_at or job.started_at or job.created_at)
        started = as_utc(job.started_at or job.created_at)
        lost = now - beat > stale_after
        timed_out = timeout_of is not None and (now - started).total_seconds() > timeout_of(
            job.kind
        )
        if not (lost or timed_out):
            continue
        attempt = job.attempts
        if timed_out and not lost:
            error = {
                "code": "job_timeout",
                "message": f"The job ran longer than its {timeout_of(job.kind):.0f} s timeout.",
            }
            if fail_attempt(session, job.id, attempt, error):
                if on_failed is not None:
                    on_failed(session, job, error)
                out.append((job, "failed"))
            continue
        error = {
            "code": "worker_lost",
            "message": "The worker running this job stopped (crashed or was killed) before it finished.",
            "worker": job.worker,
        }
        if attempt < max_attempts(job.kind):
            changed = session.execute(
                update(Job)
                .where(*_running_attempt(job.id, attempt))
                .values(status=JobStatus.QUEUED.value, error=error, worker=None, heartbeat_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed:
                session.info.setdefault(_PENDING_KEY, []).append(job.id)
                out.append((job, "requeued"))
        else:
            error["message"] += f" It was tried {attempt} times; no attempt is left."
            if fail_attempt(session, job.id, attempt, error):
                if on_failed is not None:
                    on_failed(session, job, error)
                out.append((job, "failed"))
    session.flush()
    session.expire_all()  # the rows changed by UPDATE above: read them afresh
    return out


def queued_before(session: Session, before: datetime) -> list[str]:
    """Ids of jobs queued before ``before`` (to hand again to a queue that lost them)."""
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED.value, Job.created_at < before)
            .order_by(Job.created_at)
        )
    )


def redispatch(session: Session, job_ids: Iterable[str]) -> None:
    """Tell the runner about these queued jobs again once the session commits."""
    session.info.setdefault(_PENDING_KEY, []).extend(job_ids)


def queue_depth(session: Session) -> dict[tuple[str, str], int]:
    """How many jobs there are of each (kind, status) that is not finished."""
    rows = session.execute(
        select(Job.kind, Job.status, func.count())
        .where(Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
        .group_by(Job.kind, Job.status)
    )
    return {(kind, status): count for kind, status, count in rows}


def duration_stats(session: Session) -> list[tuple[str, str, int, float]]:
    """(kind, status, count, total seconds) of every finished job, from its recorded times.

    Computed by the database, so every process (web, embedded runner, RQ worker)
    reports the same monotonic totals.
    """
    if session.get_bind().dialect.name == "sqlite":
        seconds = (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0
    else:
        seconds = func.extract("epoch", Job.finished_at - Job.started_at)
    rows = session.execute(
        select(Job.kind, Job.status, func.count(), func.coalesce(func.sum(seconds), 0.0))
        .where(
            Job.status.in_([JobStatus.SUCCEEDED.value, JobStatus.FAILED.value]),
            Job.started_at.is_not(None),
            Job.finished_at.is_not(None),
        )
        .group_by(Job.kind, Job.status)
        .order_by(Job.kind, Job.status)
    )
    return [
        (kind, status, int(count), max(0.0, float(total))) for kind, status, count, total in rows
    ]


def start(job: Job) -> None:
    job.status = JobStatus.RUNNING.value
    job.started_at = datetime.now(UTC)
    job.heartbeat_at = job.started_at
    job.attempts += 1


def finish(job: Job, result: dict[str, Any] | None = None) -> None:
    job.status = JobStatus.SUCCEEDED.value
    job.result = result or {}
    job.progress = 100
    job.finished_at = datetime.now(UTC)


def fail(job: Job, error: dict[str, Any]) -> None:
    job.status = JobStatus.FAILED.value
    job.error = error
    job.finished_at = datetime.now(UTC)
