"""The search backend contract: what every backend of ``indexer.search`` does.

One small base class, one module per backend, one conformance suite
(``tests/conformance/``) that every backend passes; the shape follows
wagtail's ``wagtail/search/backends/base.py``.

A backend stores three things per dataset:

* the dataset *document* (metadata in every language), searchable with full
  text, filters and facet counts;
* the anonymised *records* and the protected *cube* of each version, written
  by :meth:`SearchBackend.index_version` without being visible and made public
  by :meth:`SearchBackend.activate_version` in one step.  Readers only ever see
  the active version; an ingest that dies in between leaves the previous
  version answering.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from schema.errors import CGDError, InvalidInput, Problem

#: Filter and facet fields of a dataset search, and where each is in the document.
FACET_FIELDS: tuple[str, ...] = (
    "organisation",
    "topic",
    "dimension",
    "place",
    "licence",
    "language",
    "endorsed",
    "source",
)

SORTS = ("relevance", "recent", "title")

#: What a backend may be asked to do; ``get_backend(require=...)`` checks these at start-up.
CAPABILITIES = frozenset(
    {
        "fulltext",  # ranked full-text search over dataset documents
        "phrase",  # "quoted phrase" queries
        "prefix",  # foo* queries
        "highlight",  # <mark> highlights, HTML-escaped
        "devanagari",  # Nepali text is tokenised into whole words
        "facets",  # facet counts for every FACET_FIELDS field
        "records",  # filtered keyset paging through a version's records
        "cube",  # protected cube cells of the active version
        "versions",  # index a version invisibly, switch atomically
        "rebuild",  # rebuild everything beside the live index and swap
    }
)

#: Dataset document keys the contract knows; any other key is kept in ``extra``.
DOCUMENT_KEYS = (
    "id",
    "slug",
    "title",
    "description",
    "organisation",
    "topics",
    "dimensions",
    "places",
    "period_start",
    "period_end",
    "licence",
    "languages",
    "endorsed",
    "record_count",
    "published_at",
    "source",
    "version_id",
    "extra",
)

MAX_LIMIT = 1000

#: Deepest hit a search may reach with offset + limit (Elasticsearch's default
#: ``index.max_result_window``); the same on every backend so none differs silently.
MAX_WINDOW = 10_000

_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class SearchBackendError(CGDError):
    """The search backend cannot start or cannot do what was asked."""

    def __init__(self, message: str, code: str = "search_backend"):
        super().__init__(message=message, code=code, status=500)


class UnsupportedCapability(SearchBackendError):
    """A capability the configuration requires is missing from the chosen backend."""

    def __init__(self, backend: str, missing: Iterable[str]):
        names = ", ".join(sorted(missing))
        super().__init__(
            f"search backend {backend!r} lacks required capabilities: {names}",
            code="search_capability_missing",
        )


@dataclass(frozen=True)
class SearchQuery:
    """A dataset search.

    ``text`` is full text: words are ANDed, ``"a phrase"`` matches words in
    order, ``wat*`` matches a prefix.  ``filters`` maps a field of
    :data:`FACET_FIELDS` to the values it may take (values of one field are
    ORed, fields are ANDed).  ``facets`` names the fields to count.
    """

    text: str = ""
    filters: Mapping[str, list[str]] = field(default_factory=dict)
    facets: tuple[str, ...] = FACET_FIELDS
    lang: str = "en"
    limit: int = 20
    offset: int = 0
    sort: str = "relevance"
    facet_limit: int = 100

    def validated(self) -> SearchQuery:
        """Return self, or raise InvalidInput naming every bad field."""
        problems = []
        for name in self.filters:
            if name not in FACET_FIELDS:
                problems.append(Problem("unknown_filter", f"cannot filter on {name!r}", field=name))
        for name in self.facets:
            if name not in FACET_FIELDS:
                problems.append(Problem("unknown_facet", f"no facet {name!r}", field=name))
        if self.sort not in SORTS:
            problems.append(Problem("unknown_sort", f"sort must be one of {SORTS}", field="sort"))
        if not 0 <= self.limit <= MAX_LIMIT:
            problems.append(Problem("bad_limit", f"limit must be 0..{MAX_LIMIT}", field="limit"))
        if self.offset < 0:
            problems.append(Problem("bad_offset", "offset must be >= 0", field="offset"))
        elif self.offset + max(self.limit, 0) > MAX_WINDOW:
            problems.append(
                Problem(
                    "bad_offset",
                    f"offset + limit must be at most {MAX_WINDOW}; narrow the search",
                    field="offset",
                )
            )
        if not 0 <= self.facet_limit <= MAX_LIMIT:
            problems.append(
                Problem("bad_limit", f"facet_limit must be 0..{MAX_LIMIT}", field="facet_limit")
            )
        if not isinstance(self.lang, str) or not _LANG.fullmatch(self.lang):
            problems.append(
                Problem("bad_language", "lang must be a language code such as 'ne'", field="lang")
            )
        if problems:
            raise InvalidInput("invalid search query", problems)
        return self


@dataclass(frozen=True)
class Hit:
    """One dataset found: its id, score (higher is better), document and highlights."""

    id: str
    score: float
    doc: dict[str, Any]
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the total number of matches, and facet counts over all matches."""

    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class RecordPage:
    """A page of records; pass ``next_cursor`` as ``after`` for the next page (None at the end)."""

    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int


class SearchBackend(ABC):
    """What every search backend does.  Concrete backends live one per module."""

    #: The name ``get_backend`` knows this backend by.
    name: str = ""

    # -- life cycle -------------------------------------------------------

    @abstractmethod
    def setup(self) -> None:
        """Create tables, templates or indices the backend needs; safe to call again."""

    @abstractmethod
    def capabilities(self) -> frozenset[str]:
        """The subset of :data:`CAPABILITIES` this backend provides."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the backend is unusable afterwards."""

    # -- dataset documents -------------------------------------------------

    @abstractmethod
    def index_dataset(self, doc: dict[str, Any]) -> None:
        """Add or replace a dataset document (see :func:`normalise_document`)."""

    @abstractmethod
    def delete_dataset(self, dataset_id: str) -> None:
        """Remove a dataset's document and all its versions; no error if absent."""

    @abstractmethod
    def get_dataset(self, dataset_id: str) -> dict[str, Any] | None:
        """The dataset document as indexed (normalised), or None."""

    def get_datasets(self, dataset_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """The documents of several datasets in one call, in the order asked (None where
        absent). Backends answer it with one request; this default asks one by one."""
        return [self.get_dataset(i) for i in dataset_ids]

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Full text, filters, facets, sorting and paging over dataset documents."""

    # -- versions: records and cube -----------------------------------------

    @abstractmethod
    def index_version(
        self,
        dataset_id: str,
        version_id: str,
        records: pl.DataFrame,
        cube_cells: Iterable[Any],
        columns: Mapping[str, Any],
    ) -> None:
        """Store a version's records and cube cells without making them visible.

        ``columns`` maps column names to a role (``schema.roles.ColumnSpec``, a
        dict with ``role`` or a role string); columns that are neither
        ``measure`` nor ``free_text`` can be filtered on.  A direct identifier
        column is refused.  Indexing the same version again replaces it.
        """

    @abstractmethod
    def activate_version(self, dataset_id: str, version_id: str) -> None:
        """Make an indexed version the public one in one atomic step and drop the old one."""

    @abstractmethod
    def drop_version(self, dataset_id: str, version_id: str) -> None:
        """Forget an indexed version; dropping the active version hides the dataset's records."""

    @abstractmethod
    def active_version(self, dataset_id: str) -> str | None:
        """The id of the version that records and cube answer from, or None."""

    @abstractmethod
    def records(
        self,
        dataset_id: str,
        *,
        filters: Mapping[str, list[str]] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> RecordPage:
        """Page through the active version's records in a stable order (keyset cursor).

        ``filters`` maps a filterable column to accepted values (as strings).
        A cursor from a version that is no longer active is refused.
        """

    @abstractmethod
    def cube(
        self,
        dataset_id: str,
        by: tuple[str, ...],
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Cube cells of the active version whose dimensions are exactly ``by`` + filter keys.

        Each cell is ``{"dims": {...}, "count": int | None, "suppressed": bool,
        "means": {...}}``, in a stable order (sorted by dims).
        """

    # -- rebuild -----------------------------------------------------------

    @abstractmethod
    def rebuild(
        self,
        datasets: Iterable[
            tuple[dict[str, Any], pl.DataFrame | None, Iterable[Any] | None, Mapping[str, Any]]
        ],
    ) -> int:
        """Build everything into a fresh index beside the live one, then switch in one step.

        Each item is ``(doc, records, cube_cells, columns)``.  With ``records``
        None the dataset keeps its active version's records and cube.  Returns
        the number of datasets indexed.  Readers see the old index until the
        switch, and never half of the new one.
        """


# -- helpers shared by the backends ------------------------------------------------


def normalise_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset document in its stored shape; unknown keys move into ``extra``."""
    if not doc.get("id"):
        raise InvalidInput(
            "dataset document needs an id", [Problem("missing_id", "id is required", field="id")]
        )
    org = doc.get("organisation") or {}
    extra = dict(doc.get("extra") or {})
    for key, value in doc.items():
        if key not in DOCUMENT_KEYS:
            extra[key] = value
    return {
        "id": str(doc["id"]),
        "slug": doc.get("slug") or str(doc["id"]),
        "title": {str(k): str(v) for k, v in (doc.get("title") or {}).items() if v},
        "description": {str(k): str(v) for k, v in (doc.get("description") or {}).items() if v},
        "organisation": {"slug": org.get("slug"), "name": org.get("name")},
        "topics": [str(v) for v in doc.get("topics") or []],
        "dimensions": [str(v) for v in doc.get("dimensions") or []],
        "places": [str(v) for v in doc.get("places") or []],
        "period_start": _iso(doc.get("period_start")),
        "period_end": _iso(doc.get("period_end")),
        "licence": doc.get("licence"),
        "languages": [str(v) for v in doc.get("languages") or []],
        "endorsed": bool(doc.get("endorsed", False)),
        "record_count": int(doc.get("record_count") or 0),
        "published_at": _iso(doc.get("published_at")),
        "source": doc.get("source") or "local",
        "version_id": doc.get("version_id"),
        "extra": extra,
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def facet_values(doc: Mapping[str, Any]) -> dict[str, list[str]]:
    """The values a normalised document has for each filter/facet field."""
    org = (doc.get("organisation") or {}).get("slug")
    return {
        "organisation": [org] if org else [],
        "topic": list(dict.fromkeys(doc.get("topics") or [])),
        "dimension": list(dict.fromkeys(doc.get("dimensions") or [])),
        "place": list(dict.fromkeys(doc.get("places") or [])),
        "licence": [doc["licence"]] if doc.get("licence") else [],
        "language": list(dict.fromkeys(doc.get("languages") or [])),
        "endorsed": ["true" if doc.get("endorsed") else "false"],
        "source": [doc.get("source") or "local"],
    }


def cell_dict(cell: Any) -> dict[str, Any]:
    """A CubeCell (any object with dims/count/suppressed/means) or dict, as a plain dict."""
    if isinstance(cell, Mapping):
        dims, count = cell.get("dims") or {}, cell.get("count")
        suppressed, means = cell.get("suppressed", False), cell.get("means") or {}
    else:
        dims, count = cell.dims, cell.count
        suppressed, means = cell.suppressed, getattr(cell, "means", None) or {}
    suppressed = bool(suppressed)
    return {
        "dims": {str(k): str(v) for k, v in dims.items()},
        "count": None if suppressed or count is None else int(count),
        "suppressed": suppressed,
        "means": {str(k): (None if v is None else float(v)) for k, v in means.items()},
    }


def dims_key(names: Iterable[str]) -> str:
    """The canonical key of a set of dimension names (sorted, ``|``-joined)."""
    return "|".join(sorted(set(names)))


def column_roles(columns: Mapping[str, Any]) -> dict[str, str]:
    """Column name -> role string, from ColumnSpec, dict or role values."""
    roles = {}
    for name, spec in (columns or {}).items():
        role = getattr(spec, "role", None)
        if role is None and isinstance(spec, Mapping):
            role = spec.get("role")
        if role is None and isinstance(spec, str):
            role = spec
        roles[str(name)] = str(role or "other")
    return roles


UNFILTERABLE_ROLES = frozenset({"measure", "free_text"})


def filterable_columns(records: pl.DataFrame, columns: Mapping[str, Any]) -> list[str]:
    """Columns of ``records`` that record filters may use; refuses direct identifiers."""
    roles = column_roles(columns)
    identifiers = [c for c in records.columns if roles.get(c) == "direct_identifier"]
    if identifiers:
        raise InvalidInput(
            "direct identifiers are never indexed",
            [
                Problem("direct_identifier", "column is a direct identifier", column=c)
                for c in identifiers
            ],
        )
    return [c for c in records.columns if roles.get(c, "other") not in UNFILTERABLE_ROLES]


def check_record_filters(
    filters: Mapping[str, list[str]] | None, filterable: Iterable[str]
) -> dict[str, list[str]]:
    """Filters as {column: [str values]}, or InvalidInput for a column that cannot be filtered."""
    allowed = set(filterable)
    out: dict[str, list[str]] = {}
    problems = []
    for column, values in (filters or {}).items():
        if column not in allowed:
            problems.append(
                Problem(
                    "not_filterable", f"records cannot be filtered on {column!r}", column=column
                )
            )
            continue
        if isinstance(values, str | int | float | bool):
            values = [values]
        out[column] = [_filter_str(v) for v in values]
    if problems:
        raise InvalidInput("invalid record filter", problems)
    return out


TRUE_STRINGS = frozenset({"true", "1", "yes"})


def typed_filter_values(values: list[str], kind: str) -> list[Any]:
    """Record filter values as a column of ``kind`` compares them, the same on every backend.

    Booleans: "true", "1", "yes" (any case) are true, anything else false.
    Numbers: a value that is not a number matches nothing, so it is dropped.
    """
    if kind == "bool":
        return list(dict.fromkeys(v.lower() in TRUE_STRINGS for v in values))
    if kind in ("int", "float"):
        out: list[Any] = []
        for v in values:
            try:
                number = float(v)
            except ValueError:
                continue
            if kind == "int":
                if number.is_integer():
                    out.append(int(number))
            else:
                out.append(number)
        return list(dict.fromkeys(out))
    return list(dict.fromkeys(values))


def _filter_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_cursor(version_id: str, position: Any) -> str:
    """An opaque record cursor: the version it belongs to and the last position seen."""
    raw = json.dumps([version_id, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, active_version: str | None) -> Any:
    """The position in a cursor, or InvalidInput when malformed or from another version."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version_id, position = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "malformed cursor", [Problem("bad_cursor", "cursor cannot be read", field="after")]
        ) from exc
    if version_id != active_version:
        raise InvalidInput(
            "the dataset has a new version; start paging again",
            [
                Problem(
                    "stale_cursor",
                    "cursor belongs to a version that is no longer public",
                    field="after",
                )
            ],
            code="stale_cursor",
        )
    return position


def filter_signature(wanted: Mapping[str, list[str]]) -> str:
    """A short fingerprint of record filters, kept in cursors beside the total they counted."""
    raw = json.dumps(sorted((k, sorted(v)) for k, v in wanted.items()), ensure_ascii=False)
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:12]


def record_position(position: Any, signature: str) -> tuple[int, int | None]:
    """(last row seen, total or None) from a cursor's position; InvalidInput when malformed."""
    try:
        if isinstance(position, list):
            row, total, sig = position
            return int(row), (int(total) if sig == signature else None)
        return int(position), None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "malformed cursor", [Problem("bad_cursor", "cursor cannot be read", field="after")]
        ) from exc


def check_limit(limit: int) -> int:
    """A page size within 1..MAX_LIMIT, or InvalidInput."""
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise InvalidInput(
            "bad limit", [Problem("bad_limit", f"limit must be 1..{MAX_LIMIT}", field="limit")]
        )
    return int(limit)


def sort_cells(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cells in a stable order: by their dims as sorted (name, value) pairs."""
    return sorted(cells, key=lambda c: sorted(c["dims"].items()))
