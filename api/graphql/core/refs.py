"""Turning a reference (global ID, database id or slug) into a database id."""

from __future__ import annotations

import binascii
import threading
import time
import weakref

from graphql_relay import from_global_id
from sqlalchemy import select

from api.graphql.core.context import GraphQLContext
from catalog.models import Dataset
from schema.errors import NotFound


def database_id(value: str, kind: str) -> str:
    """The database id inside a global ID of ``kind``; any other value as it is."""
    try:
        found, raw = from_global_id(value)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return value  # not a global id: a database id or slug
    return raw if found == kind and raw else value


class PublishedIds:
    """Recently resolved references of published datasets, per running app.

    A client paging through records sends the same reference ten times in a
    row; each page need not ask the catalogue again. Only hits are kept, for a
    few seconds: what stays authoritative is the search backend, which serves
    records and cells of a dataset's active (published) version only, so a
    dataset withdrawn meanwhile answers with no rows, never with old ones.
    """

    def __init__(self, ttl: float = 10.0, size: int = 4096) -> None:
        self._ttl = ttl
        self._size = size
        self._items: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, ref: str) -> str | None:
        with self._lock:
            found = self._items.get(ref)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, ref: str, dataset_id: str) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.clear()
            self._items[ref] = (time.monotonic() + self._ttl, dataset_id)


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache_of(runtime) -> PublishedIds:
    # Keyed by the catalogue engine, which lives exactly as long as the app's runtime.
    engine = runtime.db.engine
    found = _CACHES.get(engine)
    if found is None:
        found = _CACHES[engine] = PublishedIds()
    return found


def published_dataset_id(ctx: GraphQLContext, ref: str) -> str:
    """The id of a published dataset, or NotFound (never a draft, even for its members).

    One indexed lookup of the id alone (records and aggregates page through
    public data only, so they need neither the versions nor a principal),
    skipped while the same reference was resolved in the last seconds.
    """
    cache = _cache_of(ctx.runtime)
    hit = cache.get(ref)
    if hit is not None:
        return hit
    wanted = database_id(ref, "Dataset")
    found = ctx.session.scalar(
        select(Dataset.id).where(
            (Dataset.id == wanted) | (Dataset.slug == wanted),
            Dataset.published_version_id.is_not(None),
            Dataset.withdrawn.is_(False),
        )
    )
    if found is None:
        raise NotFound(f"No dataset {wanted!r}.", code="dataset_not_found")
    cache.put(ref, found)
    return found
