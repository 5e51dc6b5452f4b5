"""Operations endpoints: liveness, readiness, Prometheus metrics, and request logs.

- ``/healthz``: the process answers (no dependency is touched), for restarts.
- ``/readyz``: the catalogue database, the search backend and the job queue
  answer; 503 with the failing check's message otherwise, for load balancers.
- ``/metrics``: Prometheus text: requests (count and latency by endpoint and
  status), job durations and queue depth (from the jobs table, so every web
  process reports the same totals, plus Redis' queue length under RQ).

Under gunicorn with several processes set ``PROMETHEUS_MULTIPROC_DIR`` (see
docker/gunicorn.conf.py) so request metrics are summed over the processes.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily
from sqlalchemy import text

from catalog.services import jobs as job_service
from portal.logs import redact_path

bp = Blueprint("ops", __name__)
log = logging.getLogger("cgd.request")

# Process-wide metrics (several apps in one process, as in tests, share them).
REQUESTS = Counter("cgd_http_requests", "HTTP requests answered.", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "cgd_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10),
)
JOB_RUN_SECONDS = Histogram(
    "cgd_job_run_seconds",
    "Duration of jobs run by this process (all attempts), by kind and outcome.",
    ["kind", "status"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600),
)

_SKIP_LOG = {"/healthz", "/readyz", "/metrics"}


def install_job_metrics() -> None:
    """Observe the durations of jobs this process runs (embedded runner, RQ worker)."""
    from indexer.jobs import add_duration_observer

    add_duration_observer(_observe_job)


def _observe_job(kind: str, status: str, seconds: float) -> None:
    JOB_RUN_SECONDS.labels(kind, status).observe(seconds)


def init_app(app: Flask) -> None:
    """Register the endpoints, the per-request id, metrics and log line, and the 503
    answer for a backing service that does not answer."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import InterfaceError, OperationalError

    app.register_blueprint(bp)
    app.before_request(_before)
    app.after_request(_after)
    for exc in (OperationalError, InterfaceError, RedisConnectionError):
        app.register_error_handler(exc, _service_unavailable)
    install_job_metrics()


def _service_unavailable(err: Exception):
    """A database or Redis that does not answer is a clear, retryable 503, not a 500."""
    from flask import render_template

    from schema.errors import CGDError

    logging.getLogger("cgd.ops").error(
        "service unavailable: %s: %s",
        type(err).__name__,
        str(err).strip().splitlines()[0] if str(err).strip() else "",
        extra={"request_id": getattr(g, "cgd_request_id", None), "path": redact_path(request.path)},
    )
    which = "job queue" if "redis" in type(err).__module__ else "catalogue database"
    error = CGDError(
        f"The {which} is not answering right now; nothing was changed. Try again in a minute.",
        code="service_unavailable",
        status=503,
    )
    headers = {"Retry-After": "30"}
    if (
        request.path.startswith(("/api/", "/graphql"))
        or request.accept_mimetypes.best == "application/json"
    ):
        return jsonify({"error": error.to_dict()}), 503, headers
    return render_template("error.html", error=error), 503, headers


def _before() -> None:
    g.cgd_request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.cgd_request_id = (
        incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
    )


def _after(response: Response) -> Response:
    started = getattr(g, "cgd_request_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    LATENCY.labels(request.method, endpoint).observe(seconds)
    response.headers.setdefault("X-Request-ID", g.cgd_request_id)
    if request.path not in _SKIP_LOG:
        path = redact_path(request.path)
        log.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "request_id": g.cgd_request_id,
                "method": request.method,
                "path": path,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "remote_addr": request.remote_addr,
            },
        )
    return response


@bp.get("/healthz")
def healthz():
    """Liveness: the process runs and answers."""
    return jsonify({"status": "ok"})


def _check_database(runtime) -> None:
    with runtime.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_search(runtime) -> None:
    runtime.search.get_dataset("readiness-probe")


def _check_jobs(runtime) -> None:
    runtime.jobs.ping()


CHECKS = (("database", _check_database), ("search", _check_search), ("jobs", _check_jobs))


@bp.get("/readyz")
def readyz():
    """Readiness: every service the app needs answers; 503 names what does not."""
    runtime = current_app.extensions["cgd"]
    checks: dict[str, Any] = {}
    ready = True
    for name, check in CHECKS:
        started = time.perf_counter()
        try:
            check(runtime)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            ready = False
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            checks[name] = {"status": "fail", "error": f"{type(exc).__name__}: {message}"[:300]}
            logging.getLogger("cgd.ops").warning(
                "readiness: %s is not answering: %s", name, message
            )
        else:
            checks[name] = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
    checks["jobs"]["runner"] = runtime.jobs.name
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return jsonify(body), 200 if ready else 503


class JobTableCollector:
    """Queue depth and job durations, read from the jobs table at scrape time."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime

    def collect(self):
        depth = GaugeMetricFamily(
            "cgd_jobs_queue_depth",
            "Jobs waiting or running, by kind and status.",
            labels=["kind", "status"],
        )
        durations = SummaryMetricFamily(
            "cgd_job_duration_seconds",
            "Duration of finished jobs (start of the last attempt to end), by kind and outcome.",
            labels=["kind", "status"],
        )
        up = GaugeMetricFamily("cgd_jobs_table_up", "1 when the jobs table could be read.")
        try:
            with self.runtime.db.session() as session:
                counts = job_service.queue_depth(session)
                stats = job_service.duration_stats(session)
        except Exception as exc:  # noqa: BLE001 - a scrape never fails on a down database
            logging.getLogger("cgd.ops").warning("metrics: jobs table unreadable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for status in ("queued", "running"):
            kinds = {k for k, s in counts if s == status} or {"ingest"}
            for kind in sorted(kinds):
                depth.add_metric([kind, status], counts.get((kind, status), 0))
        for kind, status, count, total in stats:
            durations.add_metric([kind, status], count_value=count, sum_value=total)
        yield up
        yield depth
        yield durations
        length = None
        try:
            length = self.runtime.jobs.queue_length()
        except Exception as exc:  # noqa: BLE001
            logging.getLogger("cgd.ops").warning("metrics: job queue unreadable: %s", exc)
        if length is not None:
            rq = GaugeMetricFamily("cgd_rq_queue_length", "Job ids waiting in the Redis queue.")
            rq.add_metric([], length)
            yield rq


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@bp.get("/metrics")
def metrics():
    """Prometheus text exposition of the process metrics and the jobs table."""
    runtime = current_app.extensions["cgd"]
    body = generate_latest(_process_registry())
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(JobTableCollector(runtime))
    body += generate_latest(scrape)
    return Response(
        body,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )
