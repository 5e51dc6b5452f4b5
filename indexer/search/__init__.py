"""Search and storage of published datasets: one contract, several backends.

``get_backend("embedded", path=...)`` (SQLite FTS5, the default) or
``get_backend("elasticsearch", url=..., index_prefix=...)``.  The app factory
and the CLI choose one by configuration, once; everything else talks to
:class:`~indexer.search.base.SearchBackend`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from indexer.search.base import (
    CAPABILITIES,
    FACET_FIELDS,
    Hit,
    RecordPage,
    SearchBackend,
    SearchBackendError,
    SearchQuery,
    SearchResult,
    UnsupportedCapability,
)

BACKENDS = ("embedded", "elasticsearch")


def get_backend(
    name: str, *, require: Iterable[str] | None = None, **options: Any
) -> SearchBackend:
    """Create the backend called ``name`` with its options.

    ``name`` is ``"embedded"``, ``"elasticsearch"`` or, as wagtail allows, the
    import path of another :class:`SearchBackend` (``"package.module:Class"``).
    embedded: ``path`` (the SQLite file, e.g. ``instance/search.sqlite3``).
    elasticsearch: ``url``, ``index_prefix`` (default ``"cgd-"``), and
    optionally ``client`` options.  ``require`` lists the capabilities the
    caller needs, by default all of :data:`CAPABILITIES` (everything the
    portal and API use).  A backend lacking one, an unknown name or a bad
    option raises :class:`SearchBackendError` here, at start-up, so that no
    deployment differs silently from another.
    """
    cls = _backend_class(name)
    required = CAPABILITIES if require is None else frozenset(require)
    unknown = required - CAPABILITIES
    if unknown:
        raise SearchBackendError(
            f"unknown capabilities: {', '.join(sorted(unknown))}", code="search_backend_config"
        )
    try:
        backend = cls(**options)
    except TypeError as exc:
        raise SearchBackendError(
            f"bad options for search backend {name!r}: {exc}", code="search_backend_config"
        ) from exc
    missing = required - backend.capabilities()
    if missing:
        backend.close()
        raise UnsupportedCapability(name, missing)
    return backend


def _backend_class(name: str) -> type[SearchBackend]:
    if name == "embedded":
        from indexer.search.embedded import EmbeddedBackend

        return EmbeddedBackend
    if name == "elasticsearch":
        from indexer.search.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend
    module_name, _, attr = name.partition(":")
    if not attr:
        raise SearchBackendError(
            f"unknown search backend {name!r}; choose one of {', '.join(BACKENDS)}"
            " or give 'package.module:Class'",
            code="search_backend_unknown",
        )
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SearchBackendError(
            f"cannot load search backend {name!r}: {exc}", code="search_backend_unknown"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, SearchBackend)):
        raise SearchBackendError(f"{name!r} is not a SearchBackend", code="search_backend_unknown")
    return cls


__all__ = [
    "BACKENDS",
    "CAPABILITIES",
    "FACET_FIELDS",
    "Hit",
    "RecordPage",
    "SearchBackend",
    "SearchBackendError",
    "SearchQuery",
    "SearchResult",
    "UnsupportedCapability",
    "get_backend",
]
