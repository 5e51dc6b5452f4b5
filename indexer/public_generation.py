"""A search backend whose every write moves the catalogue generation (catalog/generation.py).

Public pages read both the catalogue and the search index, and some search
writes happen outside any catalogue change (a re-index after an endorsement,
a harvest's deletions, a rebuild). Wrapping the backend once, where the
runtime is built, makes every write that can change a public answer move the
generation after it, whoever calls it, in every process.
"""

from __future__ import annotations

import logging
from typing import Any

from catalog import generation
from catalog.db import Database
from indexer.search.base import SearchBackend

log = logging.getLogger(__name__)

#: Methods that change what searches, dataset pages or aggregates answer.
WRITES = frozenset(
    {
        "index_dataset",
        "index_datasets",
        "delete_dataset",
        "activate_version",
        "drop_version",
        "rebuild",
    }
)


class GenerationTrackingSearch:
    """Delegates everything to ``backend``; after each write, moves the generation on."""

    def __init__(self, backend: SearchBackend, db: Database) -> None:
        self.backend = backend
        self._db = db

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.backend, name)
        if name in WRITES and callable(found):

            def write(*args, **kwargs):
                try:
                    result = found(*args, **kwargs)
                except BaseException:
                    # a write that failed half-way may still have changed something
                    try:
                        generation.search_changed(self._db.engine)
                    except Exception:  # noqa: BLE001 - the write's own error is the one to raise
                        log.exception("the catalogue generation could not be moved")
                    raise
                # A failure here fails the write: a job retries it, and caches are never
                # left keyed on a generation from before the change.
                generation.search_changed(self._db.engine)
                return result

            return write
        return found

    def __repr__(self) -> str:
        return f"GenerationTrackingSearch({self.backend!r})"
