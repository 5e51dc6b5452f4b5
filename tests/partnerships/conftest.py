"""Fixtures of the partnership suites."""

import pytest

from tests.partnerships.api_world import build_world


@pytest.fixture
def api_world(app):
    """A CSO with a published survey, a government body, people and their tokens."""
    return build_world(app)
