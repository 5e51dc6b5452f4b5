"""Fixtures of the catalogue tests."""

from __future__ import annotations

import pytest

from catalog.db import Database


@pytest.fixture
def db(database_url):
    """A migrated catalogue database (SQLite, and PostgreSQL when it runs)."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()
