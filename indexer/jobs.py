"""Job runners: one interface, the embedded in-process worker thread by default."""

from __future__ import annotations

import logging
import threading

from catalog.services import jobs as job_service
from indexer.pipeline import PipelineContext, run_job

log = logging.getLogger(__name__)


class JobRunner:
    """What the app asks for: submit a committed job id to be run."""

    def submit(self, job_id: str) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Start working (threads, connections)."""

    def stop(self) -> None:
        """Stop working, letting a running job finish."""


class InlineRunner(JobRunner):
    """Runs each job to the end in the caller's thread (CLI, tests)."""

    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx

    def submit(self, job_id: str) -> None:
        run_job(self.ctx, job_id)


class EmbeddedRunner(JobRunner):
    """A worker thread over the jobs table: wakes on submit, and polls for jobs left queued."""

    def __init__(self, ctx: PipelineContext, *, poll_seconds: float = 5.0) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
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
                job = job_service.claim_next(session)
                job_id = job.id if job else None
            if job_id is None:
                return ran
            run_job(self.ctx, job_id, claimed=True)
            ran += 1
        return ran
