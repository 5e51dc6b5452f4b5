"""The catalogue generation moves at every commit that changes a public table and at every
search index write, in the database (so every process sees it), and never otherwise."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from catalog import generation
from catalog.db import Database
from catalog.models import Job, Organisation
from catalog.principal import system
from catalog.services import jobs as job_service
from catalog.services import organisations
from indexer.public_generation import WRITES, GenerationTrackingSearch
from indexer.search import get_backend
from indexer.search.base import SearchBackend


@pytest.fixture
def search(db, tmp_path):
    backend = get_backend("embedded", path=str(tmp_path / "search.sqlite3"))
    backend.setup()
    yield GenerationTrackingSearch(backend, db)
    backend.close()


def _org(db, slug="samata") -> int:
    with db.session() as s:
        return organisations.create_organisation(s, system(), slug=slug, name=slug.title()).id


def _doc(dataset_id: str) -> dict:
    return {
        "id": dataset_id,
        "slug": dataset_id,
        "title": {"en": "Water points"},
        "organisation": {"slug": "samata", "name": "Samata"},
        "published_at": "2026-01-01T00:00:00+00:00",
    }


def test_a_commit_that_changes_a_public_table_moves_the_generation(db):
    before = generation.current(db.engine)
    org_id = _org(db)
    after_insert = generation.current(db.engine)
    assert after_insert == before + 1
    with db.session() as s:
        s.get(Organisation, org_id).name = "Samata Collective"
    assert generation.current(db.engine) == after_insert + 1


def test_a_second_process_sees_the_move(db, database_url):
    other = Database(database_url)  # another engine: what a second gunicorn worker holds
    try:
        seen = generation.current(other.engine)
        _org(db)
        assert generation.current(other.engine) == seen + 1
    finally:
        other.dispose()


def test_reads_private_tables_and_unchanged_objects_leave_it(db):
    org_id = _org(db)
    start = generation.current(db.engine)
    with db.session() as s:
        s.scalars(select(Organisation)).all()
        org = s.get(Organisation, org_id)
        org.name = org.name  # set to the same value: not a change
    with db.session() as s:
        job = job_service.enqueue(s, system(), "reindex", {})
        job_id = job.id
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(attempts=Job.attempts + 1))
    assert generation.current(db.engine) == start


def test_a_rolled_back_change_leaves_it(db):
    start = generation.current(db.engine)
    with pytest.raises(RuntimeError), db.session() as s:
        organisations.create_organisation(s, system(), slug="gone", name="Gone")
        s.flush()
        raise RuntimeError("abandon")
    assert generation.current(db.engine) == start


def test_a_bulk_update_of_a_public_table_moves_it(db):
    _org(db)
    start = generation.current(db.engine)
    with db.session() as s:
        s.execute(update(Organisation).values(verified=True))
    assert generation.current(db.engine) == start + 1


def test_a_search_write_outside_any_transaction_moves_it_at_once(db, search):
    start = generation.current(db.engine)
    search.index_dataset(_doc("ds-1"))
    assert generation.current(db.engine) == start + 1
    search.delete_dataset("ds-1")
    assert generation.current(db.engine) == start + 2
    search.get_dataset("ds-1")  # a read
    search.search  # noqa: B018 - attribute access only
    assert generation.current(db.engine) == start + 2


def test_every_method_of_the_search_contract_is_either_a_write_or_a_read():
    """A method added to SearchBackend must be sorted here: a write left out of WRITES would
    change public answers without moving the generation (pages served stale)."""
    reads = {"setup", "capabilities", "close", "get_dataset", "search", "active_version"}
    reads |= {"records", "cube", "index_version"}  # index_version: invisible until activated
    contract = set(SearchBackend.__abstractmethods__)
    assert contract - WRITES == reads
    assert not reads & WRITES


def test_a_search_write_inside_a_transaction_moves_it_at_that_commit_without_waiting(db, search):
    org_id = _org(db)
    start = generation.current(db.engine)
    done = threading.Event()

    def work():
        with db.session() as s:
            s.get(Organisation, org_id).description = "Water committees"
            s.flush()  # holds the write lock on SQLite: a second transaction here would wait
            search.index_dataset(_doc("ds-2"))
            assert generation.current(db.engine) == start  # not yet: the commit moves it
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    assert done.is_set(), "the search write waited on its own transaction's lock"
    assert generation.current(db.engine) == start + 1


def test_a_search_write_inside_a_transaction_that_rolls_back_still_moves_it(db, search):
    start = generation.current(db.engine)
    with pytest.raises(RuntimeError), db.session() as s:
        s.scalars(select(Organisation)).all()
        search.index_dataset(_doc("ds-3"))  # the index keeps it whatever the catalogue does
        raise RuntimeError("abandon")
    assert generation.current(db.engine) == start + 1


def test_an_ingest_moves_it_only_when_it_publishes(db):
    from catalog.models import Dataset, DatasetVersion
    from catalog.services import datasets as dataset_service
    from indexer.synthetic import demo_metadata

    _org(db)
    start = generation.current(db.engine)
    with db.session() as s:
        ds = dataset_service.create_dataset(s, system(), "samata", demo_metadata())
        dataset_id = ds.id
    with db.session() as s:
        s.add(DatasetVersion(dataset_id=dataset_id, number=1))  # a draft (the default status)
    with db.session() as s:
        version = s.scalars(
            select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
        ).one()
        version.status = "processing"
        version_id = version.id
    with db.session() as s:
        s.get(DatasetVersion, version_id).status = "awaiting_approval"
        s.get(Dataset, dataset_id).metadata_ = {**demo_metadata(), "keywords": ["draft"]}
    assert generation.current(db.engine) == start  # nothing public changed yet
    with db.session() as s:
        dataset_service.mark_published(s, s.get(DatasetVersion, version_id))
    published = generation.current(db.engine)
    assert published == start + 1
    with db.session() as s:
        s.get(Dataset, dataset_id).metadata_ = {**demo_metadata(), "keywords": ["public"]}
    assert generation.current(db.engine) == published + 1  # an edit of a published dataset


def test_a_failed_sign_in_leaves_it(db):
    from catalog.services import accounts, users
    from schema.errors import CGDError

    with db.session() as s:
        users.create_user(
            s, system(), email="ada@example.org", password="a long pass phrase", name="Ada"
        )
    start = generation.current(db.engine)
    for _ in range(2):
        # the failure is caught inside the unit of work, so its count is committed
        with db.session() as s, pytest.raises(CGDError):
            accounts.authenticate(s, "ada@example.org", "wrong pass phrase")
    with db.session() as s:
        assert users.get_user_by_email(s, "ada@example.org").failed_logins == 2
    assert generation.current(db.engine) == start
