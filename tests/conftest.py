"""Shared fixtures: catalogue databases (SQLite and PostgreSQL), apps, servers."""

from __future__ import annotations

import os
import uuid

import pytest

PG_ADMIN = os.environ.get("CGD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_error() -> str | None:
    try:
        import psycopg

        dsn = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).strip().splitlines()[0]


def require_service(name: str, error: str | None) -> None:
    """Skip when a service is missing on a developer machine; fail in CI."""
    if error is None:
        return
    message = f"{name} is not reachable: {error}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing {name} is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require_service("PostgreSQL", _pg_error())
    return PG_ADMIN


@pytest.fixture
def postgres_url(postgres_admin_url):
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"cgd_test_{uuid.uuid4().hex[:12]}"
    dsn = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The catalogue database URL: every catalogue test runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def app_config(tmp_path, database_url: str | None = None, **extra) -> dict:
    instance = tmp_path / "instance"
    cfg = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url or f"sqlite:///{instance / 'catalog.sqlite3'}",
        "SEARCH_BACKEND": "embedded",
        "SEARCH_PATH": str(instance / "search.sqlite3"),
        "FILES_PATH": str(instance / "files"),
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "JOB_RUNNER_OVERRIDE": "inline",
        "TESTING": True,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
    }
    cfg.update(extra)
    return cfg


@pytest.fixture
def make_app(tmp_path):
    """Build apps for a test; each is closed afterwards."""
    from portal.app import create_app

    apps = []

    def factory(database_url: str | None = None, **extra):
        app = create_app(app_config(tmp_path, database_url, **extra), start_jobs=False)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["cgd"].close()


@pytest.fixture
def app(make_app, database_url):
    return make_app(database_url)


@pytest.fixture
def runtime(app):
    return app.extensions["cgd"]
