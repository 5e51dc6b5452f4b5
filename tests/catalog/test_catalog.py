"""Catalogue services and migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

import catalog.model_registry  # noqa: F401
from catalog.models import AuditEvent, Base, Role
from catalog.permissions import authorize
from catalog.principal import ANONYMOUS, Principal, system
from catalog.services import datasets, organisations, users
from indexer.synthetic import demo_metadata
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied


def test_migrations_create_exactly_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def _org_with_people(db):
    with db.session() as s:
        org = organisations.create_organisation(
            s, system(), slug="dalit-voices", name="Dalit Voices"
        )
        other = organisations.create_organisation(s, system(), slug="other-cso", name="Other CSO")
        people = {}
        for role in Role:
            u = users.create_user(
                s, system(), email=f"{role.value}@example.org", password="long-enough-pw"
            )
            organisations.set_membership(s, system(), org, u, role.value)
            people[role.value] = u.id
        return org.id, other.id, people


def test_roles_and_scopes_are_checked_in_one_place(db):
    org_id, other_id, people = _org_with_people(db)
    with db.session() as s:
        editor = Principal(kind="user", user_id=people["editor"])
        authorize(s, editor, "dataset.create", org_id)
        with pytest.raises(PermissionDenied):
            authorize(s, editor, "version.publish", org_id)
        with pytest.raises(PermissionDenied):
            authorize(s, editor, "dataset.create", other_id)
        publisher_token = Principal(
            kind="token", user_id=people["publisher"], scopes=frozenset({"datasets:write"})
        )
        authorize(s, publisher_token, "dataset.create", org_id)
        with pytest.raises(PermissionDenied) as err:
            authorize(s, publisher_token, "version.publish", org_id)
        assert err.value.code == "insufficient_scope"
        bound = Principal(
            kind="token",
            user_id=people["admin"],
            scopes=None,
            organisation_ids=frozenset({other_id}),
        )
        with pytest.raises(PermissionDenied) as err:
            authorize(s, bound, "dataset.create", org_id)
        assert err.value.code == "organisation_not_granted"
        with pytest.raises(PermissionDenied) as err:
            authorize(s, ANONYMOUS, "dataset.create", org_id)
        assert err.value.code == "unauthenticated"


def test_create_dataset_validates_metadata_and_audits(db):
    org_id, _, people = _org_with_people(db)
    editor = Principal(kind="user", user_id=people["editor"])
    with db.session() as s:
        ds = datasets.create_dataset(s, editor, "dalit-voices", demo_metadata())
        assert ds.slug.startswith("access-to-water")
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_id == ds.id)).all()
        assert [e.action for e in events] == ["dataset.create"]
    bad = demo_metadata()
    del bad["title"]
    with db.session() as s, pytest.raises(InvalidInput) as err:
        datasets.create_dataset(s, editor, "dalit-voices", bad)
    assert any(p.field and p.field.startswith("title") for p in err.value.problems)


def test_unpublished_dataset_is_private_to_its_organisation(db):
    _org_with_people(db)
    with db.session() as s:
        editor = users.get_user_by_email(s, "editor@example.org")
        ds = datasets.create_dataset(
            s, Principal(kind="user", user_id=editor.id), "dalit-voices", demo_metadata()
        )
        slug = ds.slug
    with db.session() as s:
        with pytest.raises(NotFound):
            datasets.get_dataset(s, slug, ANONYMOUS)
        member = users.get_user_by_email(s, "member@example.org")
        assert datasets.get_dataset(s, slug, Principal(kind="user", user_id=member.id)).slug == slug


def test_duplicate_slugs_and_emails_are_conflicts(db):
    _org_with_people(db)
    with db.session() as s, pytest.raises(Conflict):
        organisations.create_organisation(s, system(), slug="dalit-voices", name="Again")
    with db.session() as s, pytest.raises(Conflict):
        users.create_user(s, system(), email="EDITOR@example.org", password="long-enough-pw")


def test_passwords_are_hashed_with_argon2(db):
    with db.session() as s:
        u = users.create_user(s, ANONYMOUS, email="a@example.org", password="correct horse battery")
        assert u.password_hash.startswith("$argon2")
        assert users.verify_password(u, "correct horse battery")
        assert not users.verify_password(u, "wrong password!!")
    with db.session() as s, pytest.raises(PermissionDenied):
        users.create_user(
            s, ANONYMOUS, email="b@example.org", password="long-enough-pw", is_admin=True
        )
