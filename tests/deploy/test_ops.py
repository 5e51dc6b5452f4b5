"""Health, readiness, Prometheus metrics and JSON request logs."""

from __future__ import annotations

import io
import json
import logging
import socket

import psycopg
from prometheus_client.parser import text_string_to_metric_families

from portal.logs import JSONFormatter, configure_logging
from tests.jobs.conftest import upload, wait_job


def _samples(body: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def test_healthz_answers_without_touching_services(app):
    res = app.test_client().get("/healthz")
    assert res.status_code == 200 and res.get_json() == {"status": "ok"}
    assert res.headers["X-Request-ID"]


def test_readyz_checks_database_search_and_job_queue(app):
    res = app.test_client().get("/readyz")
    body = res.get_json()
    assert res.status_code == 200, body
    assert body["status"] == "ready"
    assert {name for name, c in body["checks"].items() if c["status"] == "ok"} == {
        "database",
        "search",
        "jobs",
    }


def test_readyz_is_503_with_a_clear_reason_when_redis_is_away(make_app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(JOB_RUNNER_OVERRIDE="rq", REDIS_URL=f"redis://127.0.0.1:{port}/0")
    res = app.test_client().get("/readyz")
    body = res.get_json()
    assert res.status_code == 503 and body["status"] == "not_ready"
    assert body["checks"]["jobs"]["status"] == "fail" and body["checks"]["jobs"]["runner"] == "rq"
    assert "ConnectionError" in body["checks"]["jobs"]["error"]
    assert body["checks"]["database"]["status"] == "ok"


def test_readyz_is_503_when_the_postgresql_database_goes_away(
    make_app, postgres_url, postgres_admin_url
):
    app = make_app(postgres_url)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    name = postgres_url.rsplit("/", 1)[1]
    dsn = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    res = client.get("/readyz")
    assert res.status_code == 503
    check = res.get_json()["checks"]["database"]
    assert (
        check["status"] == "fail"
        and "OperationalError" in check["error"]
        and name in check["error"]
    )
    assert client.get("/healthz").status_code == 200  # alive, not ready: no restart loop
    api = client.get("/api/v1/partnerships/some-id")
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.get_json()["error"]["code"] == "service_unavailable"
    assert "catalogue database is not answering" in api.get_json()["error"]["message"]
    page = client.get("/organisations")
    assert page.status_code == 503 and b"not answering" in page.data
    with psycopg.connect(dsn, autocommit=True) as conn:  # the fixture drops it again
        conn.execute(f'CREATE DATABASE "{name}"')


def test_metrics_count_requests_and_report_job_durations_and_queue_depth(app):
    runtime = app.extensions["cgd"]
    client = app.test_client()
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    _, _, job_id = upload(runtime)
    assert wait_job(runtime, job_id).status == "succeeded"
    upload(runtime, org="other")  # inline runner: this one ran too
    res = client.get("/metrics")
    assert res.status_code == 200 and res.mimetype == "text/plain"
    samples = _samples(res.get_data(as_text=True))
    healthz = [
        s
        for s in samples["cgd_http_requests_total"]
        if s.labels["endpoint"] == "/healthz" and s.labels["status"] == "200"
    ]
    assert healthz and healthz[0].value >= 3
    assert any(
        s.labels["endpoint"] == "unmatched" and s.labels["status"] == "404"
        for s in samples["cgd_http_requests_total"]
    )
    assert any(
        s.labels["endpoint"] == "/healthz"
        for s in samples["cgd_http_request_duration_seconds_bucket"]
    )
    count = {
        (s.labels["kind"], s.labels["status"]): s.value
        for s in samples["cgd_job_duration_seconds_count"]
    }
    total = {
        (s.labels["kind"], s.labels["status"]): s.value
        for s in samples["cgd_job_duration_seconds_sum"]
    }
    assert count[("ingest", "succeeded")] == 2 and total[("ingest", "succeeded")] > 0
    depth = {
        (s.labels["kind"], s.labels["status"]): s.value for s in samples["cgd_jobs_queue_depth"]
    }
    assert depth[("ingest", "queued")] == 0
    assert samples["cgd_jobs_table_up"][0].value == 1
    assert any(s.labels["kind"] == "ingest" for s in samples["cgd_job_run_seconds_count"])


def test_queue_depth_counts_jobs_waiting_in_the_table_and_in_redis(make_app, redis_url, rq_queue):
    app = make_app(JOB_RUNNER_OVERRIDE="rq", REDIS_URL=redis_url, RQ_QUEUE=rq_queue)
    runtime = app.extensions["cgd"]
    upload(runtime)
    upload(runtime)
    samples = _samples(app.test_client().get("/metrics").get_data(as_text=True))
    depth = {
        (s.labels["kind"], s.labels["status"]): s.value for s in samples["cgd_jobs_queue_depth"]
    }
    assert depth[("ingest", "queued")] == 2
    assert samples["cgd_rq_queue_length"][0].value == 2


def test_requests_are_logged_as_json_lines_with_their_request_id(app):
    stream = io.StringIO()
    handler = configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}, stream, force=True)
    try:
        res = app.test_client().get("/search?q=water", headers={"X-Request-ID": "req-12345678"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert res.headers["X-Request-ID"] == "req-12345678"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    request_lines = [e for e in lines if e["logger"] == "cgd.request"]
    assert request_lines, lines
    entry = request_lines[-1]
    assert entry["request_id"] == "req-12345678" and entry["path"] == "/search"
    assert entry["status"] == res.status_code and entry["duration_ms"] >= 0
    assert entry["level"] == "info" and entry["ts"].endswith("+00:00")


def test_json_formatter_keeps_exceptions_and_extra_fields():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "job %s failed",
            ("j1",),
            exc_info=True,
            extra={"job_id": "j1"},
        )
        import sys

        record.exc_info = sys.exc_info()
    out = json.loads(JSONFormatter().format(record))
    assert out["message"] == "job j1 failed" and out["job_id"] == "j1"
    assert "ValueError: boom" in out["exc"]
