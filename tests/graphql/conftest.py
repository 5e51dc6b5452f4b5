"""A running portal for the GraphQL suites: real HTTP on 127.0.0.1, real gql client.

The journalist corpus (four synthetic surveys by three organisations, ingested
through the whole pipeline) is built once per test session; suites that change
data or limits start their own server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from gql import Client, gql
from gql.transport.requests import RequestsHTTPTransport
from werkzeug.serving import make_server

from catalog.models import Role
from catalog.principal import Principal, system
from catalog.services import organisations, tokens, users
from indexer.synthetic import demo_metadata, generate_survey
from portal.ingest import ingest_file

from ..conftest import app_config


@dataclass
class LiveServer:
    app: object
    url: str
    extras: dict = field(default_factory=dict)

    @property
    def runtime(self):
        return self.app.extensions["cgd"]

    def client(self, token: str | None = None, *, introspect: bool = False) -> Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = RequestsHTTPTransport(
            url=f"{self.url}/graphql", headers=headers, timeout=30, retries=0
        )
        return Client(transport=transport, fetch_schema_from_transport=introspect)

    def execute(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        with self.client(token) as session:
            return session.execute(gql(query), variable_values=variables)


@contextmanager
def serve(app) -> Iterator[LiveServer]:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread, until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="graphql-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def build_app(tmp: Path, **config):
    from portal.app import create_app

    return create_app(
        app_config(tmp, None, BASE_URL="http://portal.test", **config), start_jobs=False
    )


def _survey_metadata(title: str, topics: list[str], places: list[str], description: str) -> dict:
    meta = demo_metadata()
    meta["title"] = {"en": title}
    meta["description"] = {"en": description}
    meta["topics"] = topics
    meta["coverage"] = {"places": places, "level": "district"}
    return meta


#: The columns of the water survey: few quasi-identifiers, so that caste by district
#: survives k-anonymity at district level (the journalist's question needs it).
WATER_COLUMNS = [
    "respondent_name",
    "phone",
    "sex",
    "caste_ethnicity",
    "district",
    "household_size",
    "has_water_access",
    "minutes_to_water",
    "comments",
]

#: key: (org slug, rows, seed, (title, topics, places) or None for the demo metadata,
#: fixed district or None)
CORPUS = {
    "water": ("samata", 3000, 11, None, None),
    "surkhet-disability": (
        "karnali-dpo",
        160,
        21,
        ("Disability access audit of ward offices, Surkhet", ["disability"], ["68"]),
        "Surkhet",
    ),
    "dhanusha-water": (
        "samata",
        160,
        31,
        ("Water points and queues in Dhanusha", ["water"], ["17"]),
        "Dhanusha",
    ),
    "siraha-disability": (
        "madhesh-dpo",
        160,
        41,
        ("Disability allowance uptake in Siraha", ["disability", "social-protection"], ["16"]),
        "Siraha",
    ),
}


def publish_corpus(rt, tmp: Path) -> dict[str, dict]:
    """Organisations and four published surveys; returns what each was built from."""
    with rt.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
        organisations.create_organisation(
            s, system(), slug="karnali-dpo", name="Karnali Disabled People's Organisation"
        )
        organisations.create_organisation(
            s, system(), slug="madhesh-dpo", name="Madhesh Disability Network"
        )
    built = {}
    for key, (org, rows, seed, meta_over, district) in CORPUS.items():
        df = generate_survey(rows, seed=seed)
        if district:
            df = df.with_columns(pl.lit(district).alias("district"))
        if meta_over is None:
            meta = demo_metadata()
            df = df.select(WATER_COLUMNS)
            meta["columns"] = {c: meta["columns"][c] for c in WATER_COLUMNS}
        else:
            meta = _survey_metadata(*meta_over, description=meta_over[0])
        path = tmp / f"{key}.csv"
        df.write_csv(path)
        result = ingest_file(rt, path, org, meta, publish=True)
        assert result["status"] == "published", result
        built[key] = {"df": df, "dataset_id": result["dataset"], "result": result}
    return built


@pytest.fixture(scope="session")
def corpus_server(tmp_path_factory) -> Iterator[LiveServer]:
    """A portal with the journalist corpus, served over HTTP for the whole session."""
    tmp = tmp_path_factory.mktemp("graphql-corpus")
    app = build_app(tmp)
    built = publish_corpus(app.extensions["cgd"], tmp)
    with serve(app) as live:
        live.extras["corpus"] = built
        yield live
    app.extensions["cgd"].close()


@pytest.fixture
def fresh_server(tmp_path) -> Iterator:
    """Start a server with its own app and configuration: ``fresh_server(**config)``."""
    started = []

    def start(**config) -> LiveServer:
        app = build_app(tmp_path / f"app{len(started)}", **config)
        cm = serve(app)
        live = cm.__enter__()
        started.append((app, cm))
        return live

    yield start
    for app, cm in started:
        cm.__exit__(None, None, None)
        app.extensions["cgd"].close()


def person(
    rt, email: str, org_slug: str | None = None, role: str = Role.EDITOR.value, *, admin=False
):
    """A person (and membership) made through the catalogue services; their session principal."""
    with rt.db.session() as s:
        user = users.create_user(
            s, system(), email=email, password="long-enough-password", is_admin=admin
        )
        if org_slug:
            organisations.set_membership(
                s, system(), organisations.get_organisation(s, org_slug), user, role
            )
        return Principal(kind="user", user_id=user.id, is_admin=admin, label=email)


def personal_token(rt, principal: Principal, org_slugs: list[str], scopes: list[str]) -> str:
    """A personal access token minted by the catalogue service; the raw value."""
    with rt.db.session() as s:
        ids = [organisations.get_organisation(s, slug).id for slug in org_slugs]
        _row, raw = tokens.create_personal_token(
            s, principal, name="gql test", scopes=scopes, organisation_ids=ids
        )
        return raw
