"""What an ``aggregate`` answer is built from, kept per catalogue generation.

An aggregate reads the published version's columns from the catalogue and its
protected cube from the search index; both change only when the catalogue
generation moves (catalog/generation.py: every catalogue commit touching a
public table and every search index write move it, in any process). So the
(columns, grouped columns, cube cells) of one request are kept under the
generation, which is one indexed read of one row, instead of a catalogue
session loading the whole version row (its reports included) and a cube read.

The cells are the cube's public, protected cells: the same for every caller,
so nothing here depends on who asks (the dataset reference was resolved and
checked published before the cache is asked).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from catalog import generation

MAX_ENTRIES = 512

_CACHE = generation.GenerationCache(MAX_ENTRIES)


def key_of(dataset_id: str, version_id: str | None, by: list[str], filters: list[dict]) -> tuple:
    return (
        dataset_id,
        version_id,
        tuple(by),
        json.dumps(filters, sort_keys=True, default=str),
    )


def _engine_key(engine) -> str:
    """A name for the catalogue behind ``engine`` that no later engine reuses
    (``id()`` can be: a new engine may get a freed one's address)."""
    key = getattr(engine, "_cgd_cache_key", None)
    if key is None:
        key = uuid.uuid4().hex
        engine._cgd_cache_key = key
    return key


def get(engine, key: tuple) -> tuple[int, Any | None]:
    """(generation now, the kept inputs or None)."""
    now = generation.current(engine)
    return now, _CACHE.get(now, (_engine_key(engine), *key))


def put(engine, generation_now: int, key: tuple, value: Any) -> None:
    _CACHE.put(generation_now, (_engine_key(engine), *key), value)
