"""The catalogue generation: a number that moves whenever what the public sees may change.

One row in ``catalog_generation``. Every committed unit of work that inserted,
changed or deleted a row of a table the public pages read (datasets,
versions, organisations, partnerships, endorsements, ...) adds one to it in
the same transaction, just before the commit; so do writes to the search
index (see :func:`search_changed`, called by ``indexer.public_generation``).
Tables no public page reads (jobs, audit log, sessions, tokens, ...) do not
move it.

Because the number lives in the database, every process (each gunicorn
worker, the RQ worker) sees the same value: a cache keyed on it (the portal's
rendered pages, portal/page_cache.py) is invalidated in all of them by one
commit anywhere. The number is read before a page is rendered, so a page
rendered while a change lands is kept under the old number and never served
after it.

The increment is the last statement before COMMIT, so the row lock it takes
is held only for the commit itself (no transaction waits for anything else
while holding it: no deadlock through it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import BigInteger, event, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from catalog.models import Base

#: Tables that no public page, feed or API answer for anonymous readers shows. Public pages
#: name organisations, never people (an endorsement shows the organisation), so ``users``
#: and ``memberships`` are here too: a failed sign-in (it counts on the user row) must not
#: empty every cache.
PRIVATE_TABLES = frozenset(
    {
        "users",
        "memberships",
        "catalog_generation",
        "jobs",
        "audit_log",
        "user_sessions",
        "oauth_clients",
        "oauth_authorization_codes",
        "oauth_tokens",
        "invitations",
        "harvest_runs",
        "password_resets",
        "alembic_version",
    }
)

log = logging.getLogger(__name__)
_CHANGED = "cgd_public_change"  # session.info: this transaction changed a public table
_SEARCH = "cgd_search_change"  # session.info: the search index changed during this transaction


class CatalogGeneration(Base):
    """The single row (id 1) holding the catalogue generation."""

    __tablename__ = "catalog_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


_BUMP = (
    update(CatalogGeneration.__table__)
    .where(CatalogGeneration.__table__.c.id == 1)
    .values(value=CatalogGeneration.__table__.c.value + 1)
)
_READ = select(CatalogGeneration.__table__.c.value).where(CatalogGeneration.__table__.c.id == 1)


def current(engine: Engine) -> int:
    """The generation now (0 before the first change).

    Read on every cacheable request, so each thread keeps one autocommit connection of
    its own for it, outside the engine's pool: one round trip (~0.05 ms) instead of a
    pool checkout with its ping, the query and the rollback on return (~0.5 ms). Any
    failure drops that connection and reads through the engine, whose errors the app
    answers as it answers every catalogue failure (503).
    """
    try:
        return _fast_read(engine)
    except Exception:  # noqa: BLE001 - dropped below; the engine read raises what it must
        _drop_reader(engine)
    with engine.connect() as conn:
        return int(conn.execute(_READ).scalar() or 0)


_READ_SQL = "SELECT value FROM catalog_generation WHERE id = 1"


def _readers() -> weakref.WeakKeyDictionary:
    found = getattr(_local, "readers", None)
    if found is None:
        found = _local.readers = weakref.WeakKeyDictionary()
    return found


def _fast_read(engine: Engine) -> int:
    readers = _readers()
    found = readers.get(engine)
    if found is None or found[0] != os.getpid():  # never a connection from before a fork
        dialect = engine.dialect
        cargs, cparams = dialect.create_connect_args(engine.url)
        conn = dialect.loaded_dbapi.connect(*cargs, **cparams)
        if dialect.name == "sqlite":
            conn.isolation_level = None
        else:
            conn.autocommit = True
        found = readers[engine] = (os.getpid(), conn)
    cursor = found[1].cursor()
    try:
        cursor.execute(_READ_SQL)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row else 0


def _drop_reader(engine: Engine) -> None:
    found = _readers().pop(engine, None)
    if found is not None and found[0] == os.getpid():
        with contextlib.suppress(Exception):
            found[1].close()


def bump(engine: Engine) -> None:
    """Move the generation on, in a transaction of its own."""
    with engine.begin() as conn:
        conn.execute(_BUMP)


# -- tracking ------------------------------------------------------------------------------

_local = threading.local()


def _open_sessions() -> weakref.WeakSet:
    found = getattr(_local, "sessions", None)
    if found is None:
        found = _local.sessions = weakref.WeakSet()
    return found


#: A dataset row is public while it has (or had, before this change) a published version; a
#: version row while its status is (or was) one a public page lists.
_PUBLIC_WHEN = {
    "datasets": ("published_version_id", lambda value: value is not None),
    "dataset_versions": ("status", lambda value: value in PUBLIC_VERSION_STATES),
}
PUBLIC_VERSION_STATES = frozenset({"published", "superseded", "withdrawn"})


def _is_public(obj, new: bool = False) -> bool:
    """Whether a change of ``obj`` can change what a public page shows.

    Private tables never do; a draft dataset (never published) or a version that
    neither was nor becomes public (an upload being ingested) does not either, so an
    ingest moves the generation once, when it publishes.
    """
    table = getattr(obj, "__table__", None)
    if table is None:
        return True
    if table.name in PRIVATE_TABLES:
        return False
    rule = _PUBLIC_WHEN.get(table.name)
    if rule is None:
        return True
    attribute, public = rule
    history = inspect(obj).attrs[attribute].history
    values = [*history.added, *history.unchanged, *history.deleted]
    if not values and new:  # not set on a new row: the column's default is what it gets
        default = table.c[attribute].default
        values = [default.arg if default is not None and default.is_scalar else None]
    if not values:  # never loaded: cannot tell, so count it
        return True
    return any(public(v) for v in values)


def _after_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    if any(_is_public(o, new=True) for o in session.new) or any(
        _is_public(o) for o in session.deleted
    ):
        session.info[_CHANGED] = True
        return
    if any(session.is_modified(o) and _is_public(o) for o in session.dirty):
        session.info[_CHANGED] = True


def _orm_execute(state) -> None:
    """Bulk UPDATE/DELETE statements through the session count like flushed changes."""
    if not (state.is_update or state.is_delete) or state.session.info.get(_CHANGED):
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) not in PRIVATE_TABLES:
        state.session.info[_CHANGED] = True


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit would flush them after this hook: count them now
    if session.info.pop(_CHANGED, False) or session.info.get(_SEARCH):
        session.execute(_BUMP)


def _after_commit(session: Session) -> None:
    session.info.pop(_SEARCH, None)  # moved with the commit


def _after_begin(session: Session, _transaction, _connection) -> None:
    _open_sessions().add(session)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint or subtransaction: the outer transaction decides
    _open_sessions().discard(session)
    session.info.pop(_CHANGED, None)
    if session.info.pop(_SEARCH, False):
        # Rolled back or closed without a commit, after the search index changed (which
        # no rollback undoes); its connection is released, so a new transaction is free.
        try:
            bump(session.get_bind())
        except Exception:  # noqa: BLE001 - never hide the error that caused the rollback
            log.exception("the catalogue generation could not be moved after a search write")


def track(factory: sessionmaker) -> None:
    """Move the generation at the commit of every session from ``factory`` that changed
    a public table (called once per catalogue Database)."""
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _orm_execute)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_begin", _after_begin)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_transaction_end", _after_transaction_end)


def search_changed(engine: Engine) -> None:
    """The search index (public answers) has just changed: move the generation on.

    A catalogue transaction open in this thread on the same database moves it at its
    commit (or, if it rolls back, right after); a second transaction now could wait on
    the first one's write lock (SQLite) while the first waits for this thread.
    Otherwise it moves now.
    """
    for session in list(_open_sessions()):
        if session.in_transaction() and session.get_bind() is engine:
            session.info[_SEARCH] = True
            return
    bump(engine)


class GenerationCache:
    """A bounded, thread-safe least-recently-used map for values valid in one generation.

    ``get(generation, key)`` and ``put(generation, key, value)``: a value put under an
    older generation than one already seen is dropped (it was computed before a change
    this process knows of), and the first put of a newer generation empties the map
    (older generations are never asked for again).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.generation = -1
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation_now: int, key: Hashable) -> Any | None:
        if generation_now != self.generation:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, generation_now: int, key: Hashable, value: Any) -> None:
        with self._lock:
            if generation_now < self.generation:
                return
            if generation_now > self.generation:
                self._items.clear()
                self.generation = generation_now
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
