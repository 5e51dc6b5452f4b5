"""Jobs: the table is the truth; queues (in-process thread or RQ) only carry ids.

A job row is created in the caller's transaction; once that transaction
commits, the configured dispatcher is told (so a rolled-back request never
starts a job).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from catalog.models import Job, JobStatus
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


def claim_next(session: Session, kinds: set[str] | None = None) -> Job | None:
    """Take the oldest queued job; safe when several workers poll the same table."""
    stmt = select(Job.id).where(Job.status == JobStatus.QUEUED.value).order_by(Job.created_at)
    if kinds:
        stmt = stmt.where(Job.kind.in_(kinds))
    for job_id in session.scalars(stmt.limit(5)).all():
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, started_at=datetime.now(UTC), attempts=Job.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            session.commit()
            return session.get(Job, job_id, populate_existing=True)
    return None


def start(job: Job) -> None:
    job.status = JobStatus.RUNNING.value
    job.started_at = datetime.now(UTC)
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
