"""Search and storage of published datasets: one contract, several backends.

``get_backend("embedded", path=...)`` (SQLite FTS5, the default) or
``get_backend("elasticsearch", url=..., index_prefix=...)``.  The app factory
and the CLI choose one by configuration, once; everything else talks to
:class:`~indexer.search.base.SearchBackend`.
"""

from __future__ import annotations

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


def get_backend(name: str, *, require: Iterable[str] = (), **options: Any) -> SearchBackend:
    """Create the backend called ``name`` with its options.

    embedded: ``path`` (the SQLite file, e.g. ``instance/search.sqlite3``).
    elasticsearch: ``url``, ``index_prefix`` (default ``"cgd-"``), and
    optionally ``client`` options.  ``require`` lists capabilities the caller
    needs; a backend lacking one, an unknown name or a bad option raises
    :class:`SearchBackendError` here, at start-up.
    """
    if name == "embedded":
        from indexer.search.embedded import EmbeddedBackend

        cls: type[SearchBackend] = EmbeddedBackend
    elif name == "elasticsearch":
        from indexer.search.elasticsearch import ElasticsearchBackend

        cls = ElasticsearchBackend
    else:
        raise SearchBackendError(
            f"unknown search backend {name!r}; choose one of {', '.join(BACKENDS)}",
            code="search_backend_unknown",
        )
    try:
        backend = cls(**options)
    except TypeError as exc:
        raise SearchBackendError(
            f"bad options for search backend {name!r}: {exc}", code="search_backend_config"
        ) from exc
    required = set(require)
    unknown = required - CAPABILITIES
    if unknown:
        backend.close()
        raise SearchBackendError(
            f"unknown capabilities: {', '.join(sorted(unknown))}", code="search_backend_config"
        )
    missing = required - backend.capabilities()
    if missing:
        backend.close()
        raise UnsupportedCapability(name, missing)
    return backend


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
