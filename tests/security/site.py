"""A published portal on 127.0.0.1 for the security suites, and the personal strings seeded into it.

Everything is synthetic: the survey comes from indexer.synthetic, the hostile
columns (phones, e-mails, citizenship numbers in undeclared columns, names
quoted inside free text, one unique combination of quasi-identifiers) are made
here from a seeded generator.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import requests

from catalog.models import Role
from catalog.principal import Principal, system
from catalog.services import organisations
from catalog.services import tokens as token_service
from catalog.services import users as user_service
from indexer.synthetic import demo_metadata, generate_survey
from portal.ingest import ingest_file

from ..conftest import app_config
from ..federation.nodes import LiveServer

PASSWORD = "correct horse battery staple"
HOSTILE_SLUG = "ward-survey-with-hidden-identifiers"


@contextmanager
def cheap_hashing() -> Iterator[None]:
    """Argon2 at its cheapest while the suite makes people (verification reads the hash's own
    parameters); restored at once so that no other suite in the process is affected."""
    from argon2 import PasswordHasher, profiles

    saved = user_service._hasher
    user_service._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    try:
        yield
    finally:
        user_service._hasher = saved


def citizenship_number(rng: random.Random) -> str:
    """A made-up Nepali citizenship certificate number (district-year-serial style)."""
    return f"{rng.randint(10, 77)}-{rng.randint(1, 9):02d}-{rng.randint(60, 80)}-{rng.randint(10000, 99999)}"


def hostile_survey(rows: int = 400, seed: int = 29) -> tuple[pl.DataFrame, dict[str, set[str]]]:
    """The demo survey plus undeclared identifying columns and names quoted in free text."""
    rng = random.Random(seed)
    df = generate_survey(rows, seed=seed)
    names = df["respondent_name"].to_list()
    phones = [f"98{rng.randint(40, 69)}{rng.randint(100000, 999999)}" for _ in range(rows)]
    emails = [
        f"{n.split()[0].lower()}.{n.split()[1].lower()}{i}@mail.example.org"
        for i, n in enumerate(names)
    ]
    citizenship = [citizenship_number(rng) for _ in range(rows)]
    comments = [
        f'Ward secretary "{names[i]}" visited; {c}' if i % 7 == 0 else c
        for i, c in enumerate(df["comments"].to_list())
    ]
    ages = df["age"].to_list()
    ages[0] = "97"  # with a rare caste and district below: unique on the quasi-identifiers
    df = df.with_columns(
        pl.Series("alt_contact", phones),
        pl.Series("reach_me", emails),
        pl.Series("nagarikta", citizenship),
        pl.Series("comments", comments),
        pl.Series("age", ages),
    )
    seeded = {
        "names": set(names),
        "phones": set(phones) | set(df["phone"].to_list()),
        "emails": set(emails),
        "citizenship": set(citizenship),
    }
    return df, seeded


def hostile_metadata() -> dict:
    meta = demo_metadata()
    meta["slug"] = HOSTILE_SLUG
    meta["title"] = {"en": "Ward survey of services with hidden identifiers"}
    return meta  # the extra columns are deliberately not declared


@dataclass
class Site:
    """One portal served over HTTP with two organisations, people, tokens and published data."""

    server: LiveServer
    app: object
    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    published: dict[str, dict] = field(default_factory=dict)
    seeded: dict[str, set[str]] = field(default_factory=dict)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def runtime(self):
        return self.app.extensions["cgd"]

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        return requests.get(self.url + path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        return requests.post(self.url + path, **kw)

    def graphql(self, query: str, variables: dict | None = None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    def add_org(self, slug: str, name: str) -> None:
        with self.runtime.db.session() as s:
            self.orgs[slug] = organisations.create_organisation(
                s, system("test"), slug=slug, name=name
            ).id

    def add_user(self, label: str, org: str | None, role: str = Role.ADMIN.value) -> None:
        with cheap_hashing(), self.runtime.db.session() as s:
            user = user_service.create_user(
                s, system("test"), email=f"{label}@example.org", password=PASSWORD, name=label
            )
            if org:
                o = organisations.get_organisation(s, org)
                organisations.set_membership(s, system("test"), o, user, role)
            self.users[label] = user.id

    def token(self, label: str, scopes: list[str], orgs: list[str]) -> str:
        """A personal access token minted by the catalogue service (raw value)."""
        with self.runtime.db.session() as s:
            _, raw = token_service.create_personal_token(
                s,
                Principal(kind="user", user_id=self.users[label]),
                name=f"{label}-{len(scopes)}-{'-'.join(orgs)}",
                scopes=scopes,
                organisation_ids=[self.orgs[o] for o in orgs],
            )
        return raw

    def publish(self, key: str, org: str, df: pl.DataFrame, meta: dict, tmp: Path) -> dict:
        path = tmp / f"{key}.csv"
        df.write_csv(path)
        result = ingest_file(self.runtime, path, org, meta, publish=True)
        assert result["status"] == "published", result
        with self.runtime.db.session() as s:
            from catalog.services import datasets as dataset_service

            result["slug"] = dataset_service.get_dataset(s, result["dataset"]).slug
        self.published[key] = result
        self.frames[key] = df
        return result

    def close(self) -> None:
        self.server.close()
        self.runtime.close()


def build_site(root: Path, **config) -> Site:
    """Start the portal on 127.0.0.1 and publish the demo survey and the hostile survey."""
    from portal.app import create_app

    server = LiveServer()
    app = create_app(app_config(root, BASE_URL=server.url, **config), start_jobs=False)
    server.wsgi = app
    site = Site(server=server, app=app)
    site.add_org("samata", "Samata Collective")
    site.add_org("dalit-voice", "Dalit Voice")
    site.add_user("ada", "samata")
    site.add_user("bea", "dalit-voice")
    demo = generate_survey(300, seed=11)
    site.publish("demo", "samata", demo, demo_metadata(), root)
    hostile, seeded = hostile_survey()
    site.publish("hostile", "samata", hostile, hostile_metadata(), root)
    seeded["names"] |= set(demo["respondent_name"].to_list())
    seeded["phones"] |= set(demo["phone"].to_list())
    site.seeded = seeded
    return site
