"""The security suites attack one published portal over real HTTP (session scope, read-mostly)."""

from __future__ import annotations

import pytest

from tests.accounts.world import cheap_password_hashing

from .site import build_site

MAX_UPLOAD_BYTES = 2_000_000  # small, so that "too large" costs a test two megabytes


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    from argon2 import PasswordHasher, profiles

    from catalog.services import users

    saved = users._hasher
    users._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    built = build_site(tmp_path_factory.mktemp("security-site"), MAX_UPLOAD_BYTES=MAX_UPLOAD_BYTES)
    yield built
    built.close()
    users._hasher = saved


@pytest.fixture
def cheap_hashing(monkeypatch):
    cheap_password_hashing(monkeypatch)
