import pytest

from tests.accounts.world import cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    cheap_password_hashing(monkeypatch)
