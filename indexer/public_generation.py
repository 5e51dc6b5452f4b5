"""A search backend whose every write moves the catalogue generation (catalog/generation.py).

Public pages read both the catalogue and the search index, and some search
writes happen outside any catalogue change (a re-index after an endorsement,
a harvest's deletions, a rebuild). Wrapping the backend once, where the
runtime is built, makes every write that can change a public answer move the
generation after it, whoever calls it, in every process.
"""

from __future__ import annotations

from typing import Any

from catalog import generation
from catalog.db import Database
from indexer.search.base import SearchBackend

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
                    return found(*args, **kwargs)
                finally:  # a write that failed half-way may still have changed something
                    generation.search_changed(self._db.engine)

            return write
        return found

    def __repr__(self) -> str:
        return f"GenerationTrackingSearch({self.backend!r})"
