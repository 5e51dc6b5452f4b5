"""Rate limits per token and per address (Flask-Limiter): memory by default, Redis when configured."""

from __future__ import annotations

import uuid

import pytest

from tests.accounts.world import World, bearer, csrf_token
from tests.conftest import require_service

REDIS = "redis://127.0.0.1:6379/0"


def _redis_error() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def storage(request) -> dict:
    """Limiter configuration for each storage; Redis gets a key prefix of its own per test."""
    if request.param == "memory":
        return {}
    require_service("Redis", _redis_error())
    return {"REDIS_URL": REDIS, "RATELIMIT_KEY_PREFIX": f"cgd-test-{uuid.uuid4().hex[:10]}"}


def _world(make_app, **config) -> World:
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_API="3/minute",
        RATELIMIT_TOKEN_ENDPOINT="2/minute",
        RATELIMIT_SIGN_IN="2/minute",
        **config,
    )
    world = World(app.extensions["cgd"])
    world.app = app
    world.add_org("samata")
    world.add_user("ada", org="samata", role="admin")
    return world


def test_each_token_has_its_own_budget(make_app, storage):
    world = _world(make_app, **storage)
    first = world.token("ada", ["datasets:write"], ["samata"])
    second = world.token("ada", ["datasets:write"], ["samata"])
    client = world.app.test_client()
    assert [client.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(3)] == [
        200
    ] * 3
    over = client.get("/api/v1/me", headers=bearer(first))
    assert over.status_code == 429
    assert over.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in over.headers
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_without_a_token_each_address_has_its_own_budget(make_app, storage):
    world = _world(make_app, **storage)
    client = world.app.test_client()
    here = {"REMOTE_ADDR": "192.0.2.10"}
    there = {"REMOTE_ADDR": "192.0.2.20"}
    assert [client.get("/api/v1/me", environ_base=here).status_code for _ in range(3)] == [200] * 3
    assert client.get("/api/v1/me", environ_base=here).status_code == 429
    assert client.get("/api/v1/me", environ_base=there).status_code == 200


def test_token_endpoint_and_sign_in_are_limited_per_address(make_app, storage):
    world = _world(make_app, **storage)
    client = world.app.test_client()
    codes = [
        client.post("/oauth/token", data={"grant_type": "client_credentials"}).status_code
        for _ in range(3)
    ]
    assert codes[:2] != [429, 429] and codes[2] == 429
    csrf = csrf_token(client.get("/account/sign-in").data)
    form = {"email": "ada@example.org", "password": "wrong password", "csrf_token": csrf}
    signs = [client.post("/account/sign-in", data=form).status_code for _ in range(3)]
    assert signs == [401, 401, 429]
    assert client.get("/account/sign-in").status_code == 200  # only attempts count, not the form


def test_every_process_shares_one_budget_in_redis(make_app):
    require_service("Redis", _redis_error())
    prefix = f"cgd-test-{uuid.uuid4().hex[:10]}"
    one = _world(make_app, REDIS_URL=REDIS, RATELIMIT_KEY_PREFIX=prefix)
    token = one.token("ada", ["datasets:write"], ["samata"])
    two = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_API="3/minute",
        REDIS_URL=REDIS,
        RATELIMIT_KEY_PREFIX=prefix,
        DATABASE_URL=one.app.config["DATABASE_URL"],
    )
    assert one.app.extensions["cgd_limiter"] is not two.extensions["cgd_limiter"]
    a, b = one.app.test_client(), two.test_client()
    assert a.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert b.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert a.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert b.get("/api/v1/me", headers=bearer(token)).status_code == 429


def test_memory_is_the_default_storage_and_redis_url_switches_it(make_app):
    assert make_app().config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert make_app(REDIS_URL=REDIS).config["RATELIMIT_STORAGE_URI"] == REDIS
