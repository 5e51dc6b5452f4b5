"""A live HTTP server for the OAuth2 flows (real sockets, real cookies, real redirects)."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from catalog.principal import SCOPES
from catalog.services import clients as client_service
from catalog.services import organisations
from tests.accounts.world import World, cheap_password_hashing, person

REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    cheap_password_hashing(monkeypatch)


def _serve(make_app, database_url):
    """The app served over HTTP on a free port, with a world of two organisations and their clients."""
    app = make_app(database_url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    world = World(app.extensions["cgd"])
    world.app = app
    world.url = f"http://127.0.0.1:{server.server_port}"
    world.add_org("samata", "Samata Collective")
    world.add_org("dalit-voice", "Dalit Voice")
    world.add_user("ada", org="samata", role="admin")
    world.add_user("bea", org="dalit-voice", role="admin")
    world.clients = {}
    with world.runtime.db.session() as s:
        for label, owner, org_slug, confidential in (
            ("samata-app", "ada", "samata", False),
            ("samata-sync", "ada", "samata", True),
            ("dalit-sync", "bea", "dalit-voice", True),
        ):
            org = organisations.get_organisation(s, org_slug)
            client, secret = client_service.register_client(
                s,
                person(world.users[owner]),
                org,
                name=label,
                redirect_uris=[REDIRECT],
                scopes=list(SCOPES),
                confidential=confidential,
            )
            world.clients[label] = (client.client_id, secret)
    yield world
    server.shutdown()
    thread.join(5)


@pytest.fixture
def live(make_app):
    """On SQLite."""
    yield from _serve(make_app, None)


@pytest.fixture
def live_any(make_app, database_url):
    """On SQLite and PostgreSQL."""
    yield from _serve(make_app, database_url)
