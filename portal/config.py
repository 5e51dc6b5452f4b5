"""Configuration from CGD_* environment variables, with embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from schema.errors import CGDError

REPO_ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = REPO_ROOT / "static"


_JOB_KEYS = (
    "RQ_QUEUE",
    "JOB_HEARTBEAT_SECONDS",
    "JOB_STALE_SECONDS",
    "JOB_MAX_ATTEMPTS",
    "JOB_RETRY_BACKOFF",
    "JOB_TIMEOUT",
    "JOB_SWEEP_SECONDS",
    "WORKER_METRICS_PORT",
    "WORKER_NICE",
)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("CGD_INSTANCE_PATH") or (Path.cwd() / "instance")).resolve()


def _secret_key(instance: Path, env: dict[str, str]) -> str:
    """CGD_SECRET_KEY, else a key generated into the instance folder on first run."""
    if env.get("CGD_SECRET_KEY"):
        return env["CGD_SECRET_KEY"]
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _with_secret_files(env: dict[str, str]) -> dict[str, str]:
    """CGD_X_FILE=/run/secrets/x sets CGD_X from that file (Docker and Kubernetes secrets)."""
    for key, path in list(env.items()):
        if key.startswith("CGD_") and key.endswith("_FILE") and not env.get(key[:-5]):
            env[key[:-5]] = Path(path).read_text(encoding="utf-8").strip()
    return env


def _number(env: dict[str, str], name: str, default: float, kind: type = float) -> Any:
    """A numeric CGD_* variable; a value that is not a number stops start-up naming the variable."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return kind(default)
    try:
        value = kind(raw.strip())
    except ValueError:
        raise CGDError(
            f"{name} must be {'a whole number' if kind is int else 'a number'}, not {raw!r}.",
            code="invalid_config",
        ) from None
    if value < 0:
        raise CGDError(f"{name} must not be negative, not {raw!r}.", code="invalid_config")
    return value


def load_config(
    overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Build the app configuration: defaults < environment < explicit overrides."""
    env = _with_secret_files(dict(os.environ if env is None else env))
    overrides = dict(overrides or {})
    instance = Path(overrides.get("INSTANCE_PATH") or instance_path(env)).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    cfg: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": env.get("CGD_DATABASE_URL") or f"sqlite:///{instance / 'catalog.sqlite3'}",
        "SEARCH_BACKEND": env.get("CGD_SEARCH_BACKEND", "embedded"),
        "SEARCH_PATH": env.get("CGD_SEARCH_PATH") or str(instance / "search.sqlite3"),
        "ELASTICSEARCH_URL": env.get("CGD_ELASTICSEARCH_URL"),
        "ELASTICSEARCH_INDEX_PREFIX": env.get("CGD_ELASTICSEARCH_INDEX_PREFIX", "cgd"),
        "REDIS_URL": env.get("CGD_REDIS_URL"),
        "JOB_RUNNER": env.get("CGD_JOB_RUNNER")
        or ("rq" if env.get("CGD_REDIS_URL") else "embedded"),
        "FILES_PATH": env.get("CGD_FILES_PATH") or str(instance / "files"),
        "MAX_UPLOAD_BYTES": _number(env, "CGD_MAX_UPLOAD_BYTES", 200 * 1024 * 1024, int),
        "UPLOAD_CHUNK_BYTES": _number(env, "CGD_UPLOAD_CHUNK_BYTES", 8 * 1024 * 1024, int),
        "SMTP_URL": env.get("CGD_SMTP_URL") or None,
        "MAIL_FROM": env.get("CGD_MAIL_FROM") or "cgd-portal <no-reply@localhost>",
        "BASE_URL": env.get("CGD_BASE_URL", "http://127.0.0.1:5000"),
        "RATELIMIT_ENABLED": _bool(env.get("CGD_RATELIMIT_ENABLED"), True),
        "HARVEST_ALLOW_PRIVATE": _bool(env.get("CGD_HARVEST_ALLOW_PRIVATE"), False),
        "DISCLOSURE_NER": env.get("CGD_DISCLOSURE_NER", ""),  # "" or "presidio"
        "TRUSTED_PROXIES": _number(env, "CGD_TRUSTED_PROXIES", 0, int),
        "SESSION_COOKIE_SECURE": _bool(env.get("CGD_SECURE_COOKIES"), False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_MAX_AGE_HOURS": _number(env, "CGD_SESSION_MAX_AGE_HOURS", 336),
        "SESSION_IDLE_HOURS": _number(env, "CGD_SESSION_IDLE_HOURS", 48),
        "LOG_LEVEL": env.get("CGD_LOG_LEVEL", "INFO"),
        "LOG_FORMAT": env.get("CGD_LOG_FORMAT", "text"),
        # job runner tuning (indexer/jobs.py, indexer/rq_runner.py), only when set
        **{k: env[f"CGD_{k}"] for k in _JOB_KEYS if env.get(f"CGD_{k}")},
        "TESTING": False,
    }
    # Disclosure control of every new version; unset means DisclosureConfig's defaults
    # (indexer.pipeline.disclosure_config applies and checks them).
    for key in ("K", "K_SENSITIVE", "L"):
        if env.get(f"CGD_DISCLOSURE_{key}"):
            cfg[f"DISCLOSURE_{key}"] = _number(env, f"CGD_DISCLOSURE_{key}", 0, int)
    for key in ("PLACE_LEVEL", "DATE_LEVEL"):
        if env.get(f"CGD_DISCLOSURE_{key}"):
            cfg[f"DISCLOSURE_{key}"] = env[f"CGD_DISCLOSURE_{key}"]
    # Harvest limits (seconds, bytes, items); unset means the harvester's defaults.
    for key in ("TIMEOUT", "MAX_BYTES", "RUN_SECONDS", "MAX_ITEMS"):
        if env.get(f"CGD_HARVEST_{key}"):
            cfg[f"HARVEST_{key}"] = _number(env, f"CGD_HARVEST_{key}", 0)
    cfg.update(overrides)
    cfg["INSTANCE_PATH"] = str(instance)
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _secret_key(instance, env)
    return cfg
