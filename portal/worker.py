"""``cgd worker``: an RQ worker process for the scaled deployment.

It opens its own services from the same CGD_* configuration as the app,
logs as JSON lines when ``CGD_LOG_FORMAT=json``, and serves its job metrics
(durations observed here, queue depth) on ``CGD_WORKER_METRICS_PORT`` when set.

It runs at a lower CPU priority (``CGD_WORKER_NICE``, default 10; 0 keeps the
priority it was started with): an ingest is a batch job and must not slow the
web processes' readers on a shared machine; it still gets every idle cycle.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from portal.config import load_config

log = logging.getLogger(__name__)
DEFAULT_NICE = 10


def main(
    *, burst: bool = False, simple: bool = False, config: dict[str, Any] | None = None
) -> bool:
    """Run the worker until it is stopped (or the queue is empty, with ``burst``)."""
    from indexer.rq_runner import run_worker
    from indexer.runtime import build_runtime
    from portal.logs import configure_logging

    cfg = load_config(config)
    configure_logging(cfg)
    if not cfg.get("REDIS_URL"):
        raise SystemExit("error: cgd worker needs CGD_REDIS_URL (redis://host:6379/0)")
    port = cfg.get("WORKER_METRICS_PORT")
    if port:
        from prometheus_client import start_http_server

        from portal.views.ops import install_job_metrics

        install_job_metrics()
        start_http_server(int(port))
    niceness = int(cfg.get("WORKER_NICE", DEFAULT_NICE))
    if niceness > 0:
        os.nice(niceness)  # inherited by the forked work horses and their polars threads
    # migrate once here; the work horses only connect
    build_runtime(cfg, runner="inline").close()

    def factory():
        return build_runtime(cfg, runner="rq", migrate=False).ctx

    log.info("worker starting", extra={"queue": cfg.get("RQ_QUEUE") or "cgd", "burst": burst})
    return run_worker(
        factory,
        cfg["REDIS_URL"],
        burst=burst,
        queue_name=cfg.get("RQ_QUEUE"),
        sweep_seconds=float(cfg.get("JOB_SWEEP_SECONDS") or 10.0),
        simple=simple,
    )
