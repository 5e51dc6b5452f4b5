"""The security suites attack one published portal over real HTTP (session scope, read-mostly)."""

from __future__ import annotations

import pytest

from .site import build_site

MAX_UPLOAD_BYTES = 2_000_000  # small, so that "too large" costs a test two megabytes


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    built = build_site(tmp_path_factory.mktemp("security-site"), MAX_UPLOAD_BYTES=MAX_UPLOAD_BYTES)
    yield built
    built.close()
