"""Imports every module that defines catalogue tables, so Base.metadata is complete.

Alembic's env.py and the migration test import this; add one line per models module.
"""

from catalog import (
    generation,  # noqa: F401
    harvest_models,  # noqa: F401
    models,  # noqa: F401
    oauth_models,  # noqa: F401
    partnership_models,  # noqa: F401
    session_models,  # noqa: F401
)
