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

import threading
import weakref

from sqlalchemy import BigInteger, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from catalog.models import Base

#: Tables that no public page, feed or API answer for anonymous readers shows.
PRIVATE_TABLES = frozenset(
    {
        "catalog_generation",
        "jobs",
        "audit_log",
        "user_sessions",
        "oauth_clients",
        "oauth_authorization_codes",
        "oauth_tokens",
        "invitations",
        "harvest_runs",
        "alembic_version",
    }
)

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
    """The generation now (0 before the first change)."""
    with engine.connect() as conn:
        return int(conn.execute(_READ).scalar() or 0)


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


def _is_public(obj) -> bool:
    table = getattr(obj, "__table__", None)
    return table is None or table.name not in PRIVATE_TABLES


def _after_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    if any(_is_public(o) for o in session.new) or any(_is_public(o) for o in session.deleted):
        session.info[_CHANGED] = True
        return
    if any(_is_public(o) and session.is_modified(o) for o in session.dirty):
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
        bump(session.get_bind())


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
