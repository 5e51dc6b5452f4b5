from __future__ import annotations

import pytest

from tests.portal.site import published_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(app, slug) with the demo survey published; one per test module (publishing takes seconds)."""
    app, slug = published_site(tmp_path_factory.mktemp("portal"))
    yield app, slug
    app.extensions["cgd"].close()


@pytest.fixture
def client(site):
    return site[0].test_client()


@pytest.fixture
def slug(site):
    return site[1]
