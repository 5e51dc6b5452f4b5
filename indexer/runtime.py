"""The running services, chosen once from configuration (database, search, files, jobs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from catalog.db import Database
from catalog.services import jobs as job_service
from indexer.jobs import EmbeddedRunner, InlineRunner, JobRunner
from indexer.pipeline import PipelineContext
from indexer.public_generation import GenerationTrackingSearch
from indexer.search import get_backend
from indexer.search.base import SearchBackend
from indexer.storage import FileStore

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: dict[str, Any]
    db: Database
    search: SearchBackend
    files: FileStore
    ctx: PipelineContext
    jobs: JobRunner

    def close(self) -> None:
        job_service.set_dispatcher(self.db.engine, None)
        self.jobs.stop()
        self.search.close()
        self.db.dispose()


def make_search(config: dict[str, Any]) -> SearchBackend:
    name = config["SEARCH_BACKEND"]
    if name == "embedded":
        return get_backend("embedded", path=config["SEARCH_PATH"])
    if name == "elasticsearch":
        if not config.get("ELASTICSEARCH_URL"):
            raise RuntimeError("CGD_SEARCH_BACKEND=elasticsearch needs CGD_ELASTICSEARCH_URL.")
        return get_backend(
            "elasticsearch",
            url=config["ELASTICSEARCH_URL"],
            index_prefix=config.get("ELASTICSEARCH_INDEX_PREFIX", "cgd"),
        )
    raise RuntimeError(f"Unknown CGD_SEARCH_BACKEND {name!r} (embedded or elasticsearch).")


def make_runner(
    config: dict[str, Any], ctx: PipelineContext, runner: str | None = None
) -> JobRunner:
    runner = runner or config.get("JOB_RUNNER", "embedded")
    if runner == "inline":
        return InlineRunner(ctx)
    if runner == "embedded":
        return EmbeddedRunner(ctx)
    if runner == "rq":
        from indexer.rq_runner import RQRunner

        return RQRunner(ctx, config["REDIS_URL"])
    raise RuntimeError(f"Unknown job runner {runner!r} (inline, embedded or rq).")


def build_runtime(
    config: dict[str, Any], *, runner: str | None = None, migrate: bool = True
) -> Runtime:
    """Open every service named by the configuration; fail now on anything missing."""
    db = Database(config["DATABASE_URL"])
    if migrate:
        db.upgrade()
    search = GenerationTrackingSearch(make_search(config), db)  # writes move the generation
    search.setup()
    files = FileStore(config["FILES_PATH"])
    ctx = PipelineContext(
        db=db, search=search, files=files, secret=config["SECRET_KEY"].encode(), settings=config
    )
    jobs = make_runner(config, ctx, runner)
    job_service.set_dispatcher(db.engine, jobs.submit)
    return Runtime(config=config, db=db, search=search, files=files, ctx=ctx, jobs=jobs)
