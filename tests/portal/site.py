"""A portal with the synthetic demo survey published, shared by the page and browser suites."""

from __future__ import annotations

from pathlib import Path

from portal.app import create_app
from portal.demo import load_demo
from tests.conftest import app_config


def published_site(folder: Path, rows: int = 600):
    """Build an app on SQLite under ``folder`` and publish the demo dataset; return (app, slug)."""
    app = create_app(app_config(folder), start_jobs=False)
    slug = load_demo(app.extensions["cgd"], rows=rows)
    return app, slug
