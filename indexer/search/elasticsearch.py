"""Elasticsearch 8 search backend (official client ``elasticsearch>=8.18,<9``).

Indices, all behind aliases so that every switch is one
``indices.update_aliases`` call (atomic in Elasticsearch):

* ``<prefix>datasets`` -> ``<prefix>datasets-<stamp>``: dataset documents.
  :meth:`ElasticsearchBackend.rebuild` fills a new ``datasets-<stamp>`` index
  and moves the alias in one call.
* ``<prefix>records-<dataset>`` -> ``<prefix>records-<dataset>-<version>-<stamp>``:
  one index per indexed version holding its records (``kind: record``), its
  cube cells (``kind: cell``) and one ``meta`` document.  A version is indexed
  into its own index, unseen; activation moves the dataset's alias to it and
  then deletes the old index.  An ingest that dies before the move leaves the
  alias, and so the previous version, in place.

Mappings are explicit (index templates); text uses the ``standard`` analyzer,
whose Unicode word segmentation keeps Devanagari words whole without ICU.

The request bodies are built by pure functions (``*_body``, ``*_template``,
``*_actions``) so that they are unit-tested without a cluster; the same
conformance suite runs against a live cluster when ``CGD_ELASTICSEARCH_URL``
is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import polars as pl
from elasticsearch import Elasticsearch, NotFoundError, helpers

from indexer.search import text as fts
from indexer.search.base import (
    CAPABILITIES,
    Hit,
    RecordPage,
    SearchBackend,
    SearchBackendError,
    SearchQuery,
    SearchResult,
    cell_dict,
    check_limit,
    check_record_filters,
    decode_cursor,
    dims_key,
    encode_cursor,
    filter_signature,
    filterable_columns,
    normalise_document,
    record_position,
    sort_cells,
    typed_filter_values,
)

#: Filter/facet field -> field of the dataset mapping.
FIELD_PATHS = {
    "organisation": "organisation.slug",
    "topic": "topics",
    "dimension": "dimensions",
    "place": "places",
    "licence": "licence",
    "language": "languages",
    "endorsed": "endorsed",
    "source": "source",
}

#: Full-text fields and boosts, matching the embedded backend's bm25 weights.
TEXT_FIELDS = ["title.*^10", "description.*^2", "keywords^4"]

_MAX_CELLS_PAGE = 5000


# -- names ------------------------------------------------------------------------


def safe_name(value: str) -> str:
    """A lowercase fragment for an index name, unique per value (a short hash is added)."""
    slug = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")[:40]
    digest = hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{slug}_{digest}" if slug else digest


def stamp() -> str:
    """A sortable, unique suffix for a new index."""
    return f"{time.time_ns():020d}"


def datasets_alias(prefix: str) -> str:
    return f"{prefix}datasets"


def records_alias(prefix: str, dataset_id: str) -> str:
    return f"{prefix}records-{safe_name(dataset_id)}"


def version_pattern(prefix: str, dataset_id: str, version_id: str) -> str:
    return f"{records_alias(prefix, dataset_id)}-{safe_name(version_id)}-*"


def version_index(prefix: str, dataset_id: str, version_id: str) -> str:
    return f"{records_alias(prefix, dataset_id)}-{safe_name(version_id)}-{stamp()}"


# -- templates ------------------------------------------------------------------------


def datasets_template(prefix: str, replicas: int = 1) -> dict[str, Any]:
    """Keyword arguments of ``indices.put_index_template`` for dataset indices."""
    return {
        "name": f"{prefix}datasets",
        "index_patterns": [f"{prefix}datasets-*"],
        "priority": 200,
        "meta": {"managed_by": "cgd-portal"},
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": replicas,
                "analysis": {"normalizer": {"sort": {"type": "custom", "filter": ["lowercase"]}}},
            },
            "mappings": {
                "dynamic": "strict",
                "dynamic_templates": [
                    {
                        "titles": {
                            "path_match": "title.*",
                            "mapping": {
                                "type": "text",
                                "analyzer": "standard",
                                "fields": {
                                    "sort": {
                                        "type": "keyword",
                                        "normalizer": "sort",
                                        "ignore_above": 512,
                                    }
                                },
                            },
                        }
                    },
                    {
                        "descriptions": {
                            "path_match": "description.*",
                            "mapping": {"type": "text", "analyzer": "standard"},
                        }
                    },
                ],
                "properties": {
                    "id": {"type": "keyword"},
                    "slug": {"type": "keyword"},
                    "title": {"type": "object", "dynamic": True},
                    "description": {"type": "object", "dynamic": True},
                    "title_sort": {"type": "keyword", "normalizer": "sort", "ignore_above": 512},
                    "organisation": {
                        "properties": {
                            "slug": {"type": "keyword"},
                            "name": {"type": "text", "analyzer": "standard"},
                        }
                    },
                    "topics": {"type": "keyword"},
                    "dimensions": {"type": "keyword"},
                    "places": {"type": "keyword"},
                    "period_start": {"type": "date"},
                    "period_end": {"type": "date"},
                    "licence": {"type": "keyword"},
                    "languages": {"type": "keyword"},
                    "endorsed": {"type": "boolean"},
                    "record_count": {"type": "long"},
                    "published_at": {"type": "date"},
                    "source": {"type": "keyword"},
                    "version_id": {"type": "keyword"},
                    "keywords": {"type": "text", "analyzer": "standard"},
                    "extra": {"type": "object", "enabled": False},
                },
            },
        },
    }


def records_template(prefix: str, replicas: int = 1) -> dict[str, Any]:
    """Keyword arguments of ``indices.put_index_template`` for version (records + cube) indices."""
    return {
        "name": f"{prefix}records",
        "index_patterns": [f"{prefix}records-*"],
        "priority": 200,
        "meta": {"managed_by": "cgd-portal"},
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": replicas,
                "refresh_interval": "1s",
            },
            "mappings": {
                "dynamic": "strict",
                # Record columns are mapped explicitly per version (version_mappings); a
                # string that looks like a date must never turn a column into a date.
                "date_detection": False,
                "numeric_detection": False,
                "dynamic_templates": [
                    {
                        "record_strings": {
                            "path_match": "r.*",
                            "match_mapping_type": "string",
                            "mapping": {"type": "keyword", "ignore_above": 2048},
                        }
                    },
                    {"dims": {"path_match": "dims.*", "mapping": {"type": "keyword"}}},
                ],
                "properties": {
                    "kind": {"type": "keyword"},
                    "dataset_id": {"type": "keyword"},
                    "version_id": {"type": "keyword"},
                    "row": {"type": "long"},
                    "r": {"type": "object", "dynamic": True},
                    "dim_key": {"type": "keyword"},
                    "dims": {"type": "object", "dynamic": True},
                    "count": {"type": "long"},
                    "suppressed": {"type": "boolean"},
                    "means": {"type": "object", "enabled": False},
                    "meta": {"type": "object", "enabled": False},
                },
            },
        },
    }


def column_kind(dtype: pl.DataType) -> str:
    """How a polars column is stored: int, float, bool, text or json (nested, kept as a string)."""
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return "json"
    return "text"


_KIND_MAPPINGS: dict[str, dict[str, Any]] = {
    "int": {"type": "long"},
    "float": {"type": "double"},
    "bool": {"type": "boolean"},
    "text": {"type": "keyword", "ignore_above": 2048},
    "json": {"type": "keyword", "index": False, "doc_values": False},
}


def version_mappings(records: pl.DataFrame, columns: Mapping[str, Any]) -> dict[str, Any]:
    """Explicit mappings of one version index's record columns (``r.<column>``), from their types.

    Filterable columns are indexed; measures and free text are only kept
    (``index: false``), since records are never searched or filtered on them.
    """
    filterable = set(filterable_columns(records, columns))
    properties: dict[str, Any] = {}
    for name, dtype in records.schema.items():
        mapping = dict(_KIND_MAPPINGS[column_kind(dtype)])
        if name not in filterable and mapping.get("index", True):
            mapping["index"] = False
            mapping.pop("ignore_above", None)
        properties[name] = mapping
    return {"properties": {"r": {"type": "object", "properties": properties}}}


# -- documents ------------------------------------------------------------------------


def dataset_source(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The ``_source`` of a normalised dataset document."""
    titles = {lang: fts.clean(t) for lang, t in doc["title"].items()}
    keywords = " ".join(
        [doc["organisation"].get("name") or "", doc["organisation"].get("slug") or "", doc["slug"]]
        + doc["topics"]
        + doc["dimensions"]
        + doc["places"]
    )
    return {
        **doc,
        "title": titles,
        "description": {lang: fts.clean(t) for lang, t in doc["description"].items()},
        "title_sort": (titles.get("en") or next(iter(titles.values()), "")).casefold()[:512],
        "keywords": fts.clean(keywords),
    }


def document_from_source(source: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset document back from ``_source`` (without the search-only fields)."""
    return {k: v for k, v in source.items() if k not in ("keywords", "title_sort")}


def version_actions(
    index: str,
    dataset_id: str,
    version_id: str,
    records: pl.DataFrame,
    cells: list[dict[str, Any]],
    columns: Mapping[str, Any],
) -> Iterator[dict[str, Any]]:
    """Bulk actions for one version index: a meta document, the records, the cube cells."""
    filterable = filterable_columns(records, columns)
    yield {
        "_index": index,
        "_id": "meta",
        "_source": {
            "kind": "meta",
            "dataset_id": dataset_id,
            "version_id": version_id,
            "meta": {
                "columns": records.columns,
                "kinds": {name: column_kind(dtype) for name, dtype in records.schema.items()},
                "filterable": filterable,
                "row_count": records.height,
            },
        },
    }
    prepared = _jsonable(records)
    for row_no, row in enumerate(prepared.iter_rows(named=True), start=1):
        yield {
            "_index": index,
            "_id": f"r{row_no}",
            "_source": {
                "kind": "record",
                "dataset_id": dataset_id,
                "version_id": version_id,
                "row": row_no,
                "r": row,
            },
        }
    for cell_no, cell in enumerate(cells, start=1):
        yield {
            "_index": index,
            "_id": f"c{cell_no}",
            "_source": {
                "kind": "cell",
                "dataset_id": dataset_id,
                "version_id": version_id,
                "row": cell_no,
                "dim_key": dims_key(cell["dims"]),
                "dims": cell["dims"],
                "count": cell["count"],
                "suppressed": cell["suppressed"],
                "means": cell["means"],
            },
        }


def _jsonable(df: pl.DataFrame) -> pl.DataFrame:
    """Records as JSON values: temporals as ISO text, decimals as floats, nested values as JSON text."""
    exprs = []
    for name, dtype in df.schema.items():
        kind = column_kind(dtype)
        col = pl.col(name)
        if kind == "json":
            exprs.append(
                col.map_elements(
                    lambda v: json.dumps(v, default=str, ensure_ascii=False),
                    return_dtype=pl.String,
                )
            )
        elif dtype.is_decimal():
            exprs.append(col.cast(pl.Float64))
        elif kind == "text" and dtype != pl.String:
            exprs.append(col.cast(pl.String))
        else:
            exprs.append(col)
    return df.select(exprs)


def record_from_source(
    source: Mapping[str, Any], columns: list[str], kinds: Mapping[str, str]
) -> dict[str, Any]:
    """One record back from its ``_source``, in column order, nested values decoded."""
    r = source.get("r") or {}
    out = {}
    for name in columns:
        value = r.get(name)
        if value is not None and kinds.get(name) == "json":
            value = json.loads(value)
        out[name] = value
    return out


# -- request bodies ---------------------------------------------------------------------


def search_body(query: SearchQuery) -> dict[str, Any]:
    """Keyword arguments of ``Elasticsearch.search`` for a dataset search."""
    terms = fts.parse(query.text)
    must: list[dict[str, Any]] = []
    if terms:
        must.append(
            {
                "simple_query_string": {
                    "query": fts.simple_query_string(terms),
                    "fields": TEXT_FIELDS,
                    "default_operator": "and",
                    "flags": "PHRASE|PREFIX|WHITESPACE",
                    "analyze_wildcard": True,
                }
            }
        )
    filters = []
    for name, values in query.filters.items():
        values = [str(v).lower() if name == "endorsed" else str(v) for v in values]
        if values:
            filters.append({"terms": {FIELD_PATHS[name]: values}})
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "size": query.limit,
        "from_": query.offset,
        "track_total_hits": True,
        "track_scores": True,
        "sort": _search_sort(query, bool(terms)),
    }
    if query.facets and query.facet_limit > 0:
        body["aggs"] = {
            name: {
                "terms": {
                    "field": FIELD_PATHS[name],
                    "size": query.facet_limit,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
            for name in query.facets
        }
    if terms:
        langs = list(dict.fromkeys([query.lang, "en"]))
        fields: dict[str, Any] = {}
        for lang in langs:
            fields[f"title.{lang}"] = {"number_of_fragments": 0}
            fields[f"description.{lang}"] = {"fragment_size": 240, "number_of_fragments": 1}
        body["highlight"] = {
            "encoder": "html",
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "fields": fields,
        }
    return body


def _search_sort(query: SearchQuery, has_text: bool) -> list[Any]:
    recent = {"published_at": {"order": "desc", "missing": "_last"}}
    if query.sort == "title":
        return [
            {
                f"title.{query.lang}.sort": {
                    "order": "asc",
                    "missing": "_last",
                    "unmapped_type": "keyword",
                }
            },
            {"title_sort": {"order": "asc", "missing": "_last"}},
            {"id": "asc"},
        ]
    if query.sort == "relevance" and has_text:
        return ["_score", recent, {"id": "asc"}]
    return [recent, {"id": "desc"}]


def parse_search_response(response: Mapping[str, Any], query: SearchQuery) -> SearchResult:
    """A SearchResult from an Elasticsearch search response."""
    hits = []
    for hit in response["hits"]["hits"]:
        doc = document_from_source(hit["_source"])
        highlights: dict[str, str] = {}
        found = hit.get("highlight") or {}
        for field_name in ("title", "description"):
            for lang in (query.lang, "en"):
                fragments = found.get(f"{field_name}.{lang}")
                if fragments:
                    highlights[field_name] = " … ".join(fragments)
                    break
        hits.append(
            Hit(id=doc["id"], score=float(hit.get("_score") or 0.0), doc=doc, highlights=highlights)
        )
    facets = {}
    for name in query.facets:
        buckets = (response.get("aggregations") or {}).get(name, {}).get("buckets", [])
        facets[name] = [
            (str(b.get("key_as_string", b["key"])), int(b["doc_count"])) for b in buckets
        ]
    return SearchResult(total=int(response["hits"]["total"]["value"]), hits=hits, facets=facets)


def records_body(
    filters: Mapping[str, list[Any]], limit: int, after: int | None, *, count: bool = True
) -> dict[str, Any]:
    """Keyword arguments of ``Elasticsearch.search`` for one page of records (search_after on row).

    ``row`` is unique within a version index, so it is a complete sort (no
    tiebreaker needed), and the search runs on the version's concrete index,
    so pages never mix versions.  ``count`` asks for the exact total (first page).
    """
    clauses: list[dict[str, Any]] = [{"term": {"kind": "record"}}]
    clauses += [{"terms": {f"r.{column}": values}} for column, values in filters.items()]
    body: dict[str, Any] = {
        "query": {"bool": {"filter": clauses}},
        "sort": [{"row": "asc"}],
        "size": limit + 1,
        "track_total_hits": count,
        "source_includes": ["row", "r", "version_id"],
    }
    if after is not None:
        body["search_after"] = [after]
    return body


def cell_from_source(source: Mapping[str, Any]) -> dict[str, Any]:
    """A cube cell back from its ``_source``."""
    return {
        "dims": dict(source["dims"]),
        "count": source.get("count"),
        "suppressed": bool(source["suppressed"]),
        "means": source.get("means") or {},
    }


def cube_body(key: str, filters: Mapping[str, str], after: int | None) -> dict[str, Any]:
    """Keyword arguments of ``Elasticsearch.search`` for cube cells over exactly the dims in ``key``."""
    clauses: list[dict[str, Any]] = [{"term": {"kind": "cell"}}, {"term": {"dim_key": key}}]
    clauses += [{"term": {f"dims.{name}": value}} for name, value in filters.items()]
    body: dict[str, Any] = {
        "query": {"bool": {"filter": clauses}},
        "sort": [{"row": "asc"}],
        "size": _MAX_CELLS_PAGE,
        "source_includes": ["row", "dims", "count", "suppressed", "means"],
    }
    if after is not None:
        body["search_after"] = [after]
    return body


def alias_swap_actions(
    alias: str, old_indices: Iterable[str], new_index: str | None
) -> list[dict[str, Any]]:
    """``indices.update_aliases`` actions moving ``alias`` from old indices to the new one."""
    actions: list[dict[str, Any]] = [
        {"remove": {"index": old, "alias": alias}}
        for old in sorted(set(old_indices))
        if old != new_index
    ]
    if new_index:
        actions.append({"add": {"index": new_index, "alias": alias}})
    return actions


# -- the backend -----------------------------------------------------------------------


class ElasticsearchBackend(SearchBackend):
    """Search backend on an Elasticsearch 8 cluster."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str | None = None,
        index_prefix: str = "cgd-",
        *,
        client: Elasticsearch | None = None,
        refresh: bool | str = "wait_for",
        number_of_replicas: int = 1,
        bulk_chunk_size: int = 2000,
        request_timeout: float = 60.0,
        **client_options: Any,
    ):
        if client is None and not url:
            raise SearchBackendError(
                "the elasticsearch backend needs a url", code="search_backend_config"
            )
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", index_prefix or ""):
            raise SearchBackendError(
                f"bad index prefix {index_prefix!r}: lowercase letters, digits, '_', '.', '-'",
                code="search_backend_config",
            )
        # "cgd" and "cgd-" name the same indices: cgd-datasets, cgd-records-...
        self.prefix = index_prefix if index_prefix[-1] in "-_." else index_prefix + "-"
        self.refresh = refresh
        self.replicas = number_of_replicas
        self.chunk_size = bulk_chunk_size
        self.client = client or Elasticsearch(
            url, request_timeout=request_timeout, **client_options
        )

    # -- life cycle -------------------------------------------------------------------

    def setup(self) -> None:
        """Check the server is Elasticsearch 8, put both index templates, create the first datasets index."""
        info = self.client.info()
        number = str((info.get("version") or {}).get("number", ""))
        if not number.startswith("8."):
            raise SearchBackendError(
                f"Elasticsearch 8.x is required (client elasticsearch>=8.18,<9); the server is {number or 'unknown'}",
                code="search_backend_version",
            )
        self.client.indices.put_index_template(**datasets_template(self.prefix, self.replicas))
        self.client.indices.put_index_template(**records_template(self.prefix, self.replicas))
        alias = datasets_alias(self.prefix)
        if not self.client.indices.exists_alias(name=alias):
            self.client.indices.create(index=f"{alias}-{stamp()}", aliases={alias: {}})

    def capabilities(self) -> frozenset[str]:
        """Everything in the contract."""
        return CAPABILITIES

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

    # -- dataset documents --------------------------------------------------------------

    def index_dataset(self, doc: dict[str, Any]) -> None:
        """Add or replace a dataset document (through the datasets alias)."""
        doc = normalise_document(doc)
        self.client.index(
            index=datasets_alias(self.prefix),
            id=doc["id"],
            document=dataset_source(doc),
            refresh=self.refresh,
        )

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete the document and every version index of the dataset."""
        with contextlib.suppress(NotFoundError):
            self.client.delete(
                index=datasets_alias(self.prefix), id=dataset_id, refresh=self.refresh
            )
        indices = self._indices(f"{records_alias(self.prefix, dataset_id)}-*")
        if indices:
            self.client.indices.delete(index=sorted(indices), ignore_unavailable=True)

    def get_dataset(self, dataset_id: str) -> dict[str, Any] | None:
        """The stored document, or None."""
        try:
            found = self.client.get(index=datasets_alias(self.prefix), id=dataset_id)
        except NotFoundError:
            return None
        return document_from_source(found["_source"])

    def get_datasets(self, dataset_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Several documents with one multi-get request."""
        if not dataset_ids:
            return []
        found = self.client.mget(index=datasets_alias(self.prefix), ids=list(dataset_ids))
        return [
            document_from_source(d["_source"]) if d.get("found") else None for d in found["docs"]
        ]

    def search(self, query: SearchQuery) -> SearchResult:
        """simple_query_string over titles, descriptions and keywords; terms aggregations for facets."""
        query = query.validated()
        response = self.client.search(index=datasets_alias(self.prefix), **search_body(query))
        return parse_search_response(response, query)

    # -- versions -----------------------------------------------------------------------

    def _indices(self, pattern: str) -> dict[str, set[str]]:
        """Concrete indices matching ``pattern`` and the aliases each holds."""
        try:
            found = self.client.indices.get_alias(index=pattern)
        except NotFoundError:
            return {}
        return {name: set((info or {}).get("aliases") or {}) for name, info in found.items()}

    def index_version(
        self,
        dataset_id: str,
        version_id: str,
        records: pl.DataFrame,
        cube_cells: Iterable[Any],
        columns: Mapping[str, Any],
    ) -> None:
        """Bulk the version into its own new index (no alias yet), replacing unpublished copies."""
        cells = [cell_dict(c) for c in cube_cells]
        filterable_columns(
            records, columns
        )  # refuse direct identifiers before touching the cluster
        alias = records_alias(self.prefix, dataset_id)
        stale = [
            name
            for name, aliases in self._indices(
                version_pattern(self.prefix, dataset_id, version_id)
            ).items()
            if alias not in aliases
        ]
        if stale:
            self.client.indices.delete(index=sorted(stale), ignore_unavailable=True)
        self._write_version(dataset_id, version_id, records, cells, columns)

    def _write_version(
        self,
        dataset_id: str,
        version_id: str,
        records: pl.DataFrame,
        cells: list[dict[str, Any]],
        columns: Mapping[str, Any],
    ) -> str:
        index = version_index(self.prefix, dataset_id, version_id)
        self.client.indices.create(index=index, mappings=version_mappings(records, columns))
        actions = version_actions(index, dataset_id, version_id, records, cells, columns)
        try:
            for ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=self.chunk_size
            ):
                if not ok:  # pragma: no cover - raise_on_error raises first
                    raise SearchBackendError(f"bulk indexing failed: {item}")
            self.client.indices.refresh(index=index)
        except BaseException:
            # Never leave half a version behind; it has no alias, so nobody saw it.
            with contextlib.suppress(Exception):
                self.client.indices.delete(index=index, ignore_unavailable=True)
            raise
        return index

    def activate_version(self, dataset_id: str, version_id: str) -> None:
        """Move the dataset's records alias to the newest index of the version in one call."""
        alias = records_alias(self.prefix, dataset_id)
        candidates = sorted(self._indices(version_pattern(self.prefix, dataset_id, version_id)))
        if not candidates:
            raise SearchBackendError(
                f"version {version_id!r} of dataset {dataset_id!r} is not indexed",
                code="version_not_indexed",
            )
        new = candidates[-1]
        current = [
            name for name, aliases in self._indices(f"{alias}-*").items() if alias in aliases
        ]
        self.client.indices.update_aliases(actions=alias_swap_actions(alias, current, new))
        old = [name for name in current if name != new]
        if old:
            self.client.indices.delete(index=old, ignore_unavailable=True)

    def drop_version(self, dataset_id: str, version_id: str) -> None:
        """Delete every index of the version (its alias goes with it)."""
        indices = self._indices(version_pattern(self.prefix, dataset_id, version_id))
        if indices:
            self.client.indices.delete(index=sorted(indices), ignore_unavailable=True)

    def _meta(self, dataset_id: str) -> dict[str, Any] | None:
        """The active version's meta document and its concrete ``index``, or None.

        Reads after this go to the concrete index, not the alias, so that one
        call (or a cursor's pages) never mixes two versions.
        """
        try:
            found = self.client.get(index=records_alias(self.prefix, dataset_id), id="meta")
        except NotFoundError:
            return None
        source = found["_source"]
        return {"index": found["_index"], "version_id": source["version_id"], **source["meta"]}

    def _on_active(self, dataset_id: str, read: Any) -> Any:
        """``read(meta)`` on the active version; once more if a switch deleted its index meanwhile."""
        for attempt in (1, 2):
            meta = self._meta(dataset_id)
            if meta is None:
                return read(None)
            try:
                return read(meta)
            except NotFoundError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def active_version(self, dataset_id: str) -> str | None:
        """The version the dataset's records alias points at, or None."""
        meta = self._meta(dataset_id)
        return meta["version_id"] if meta else None

    def records(
        self,
        dataset_id: str,
        *,
        filters: Mapping[str, list[str]] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> RecordPage:
        """search_after paging on the ``row`` field of the active version's records."""
        limit = check_limit(limit)

        def read(meta: dict[str, Any] | None) -> RecordPage:
            if meta is None:
                if after:
                    decode_cursor(after, None)
                return RecordPage(rows=[], next_cursor=None, total=0)
            wanted = check_record_filters(filters, meta["filterable"])
            signature = filter_signature(wanted)
            position, total = None, None
            if after:
                position, total = record_position(
                    decode_cursor(after, meta["version_id"]), signature
                )
            kinds = meta.get("kinds") or {}
            typed = {
                column: typed_filter_values(values, kinds.get(column, "text"))
                for column, values in wanted.items()
            }
            response = self.client.search(
                index=meta["index"],
                **records_body(typed, limit, position, count=total is None),
            )
            hits = response["hits"]["hits"]
            if total is None:
                total = int(response["hits"]["total"]["value"])
            more = len(hits) > limit
            hits = hits[:limit]
            rows = [record_from_source(hit["_source"], meta["columns"], kinds) for hit in hits]
            cursor = (
                encode_cursor(meta["version_id"], [hits[-1]["_source"]["row"], total, signature])
                if more and hits
                else None
            )
            return RecordPage(rows=rows, next_cursor=cursor, total=total)

        return self._on_active(dataset_id, read)

    def cube(
        self,
        dataset_id: str,
        by: tuple[str, ...],
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Cells with exactly ``by`` + filter keys as dims, matching the filter values."""
        filters = {str(k): str(v) for k, v in (filters or {}).items()}
        key = dims_key([*by, *filters])

        def read(meta: dict[str, Any] | None) -> list[dict[str, Any]]:
            if meta is None:
                return []
            cells: list[dict[str, Any]] = []
            after = None
            while True:
                response = self.client.search(index=meta["index"], **cube_body(key, filters, after))
                hits = response["hits"]["hits"]
                cells.extend(cell_from_source(hit["_source"]) for hit in hits)
                if len(hits) < _MAX_CELLS_PAGE:
                    return sort_cells(cells)
                after = hits[-1]["_source"]["row"]

        return self._on_active(dataset_id, read)

    # -- rebuild ------------------------------------------------------------------------

    def rebuild(
        self,
        datasets: Iterable[
            tuple[dict[str, Any], pl.DataFrame | None, Iterable[Any] | None, Mapping[str, Any]]
        ],
    ) -> int:
        """New datasets index and new version indices beside the live ones; one alias update switches all."""
        alias = datasets_alias(self.prefix)
        new_datasets = f"{alias}-{stamp()}"
        self.client.indices.create(index=new_datasets)
        live_records = self._indices(f"{self.prefix}records-*")
        holders: dict[str, list[str]] = {}
        for name, aliases in live_records.items():
            for a in aliases:
                holders.setdefault(a, []).append(name)
        actions: list[dict[str, Any]] = []
        created: list[str] = [new_datasets]
        kept_aliases: set[str] = set()
        count = 0

        def documents() -> Iterator[dict[str, Any]]:
            nonlocal count
            for doc, records, cells, columns in datasets:
                doc = normalise_document(doc)
                rec_alias = records_alias(self.prefix, doc["id"])
                kept_aliases.add(rec_alias)
                if records is not None:
                    index = self._write_version(
                        doc["id"],
                        doc.get("version_id") or "rebuild",
                        records,
                        [cell_dict(c) for c in cells or []],
                        columns,
                    )
                    created.append(index)
                    actions.extend(alias_swap_actions(rec_alias, holders.get(rec_alias, []), index))
                count += 1
                yield {"_index": new_datasets, "_id": doc["id"], "_source": dataset_source(doc)}

        try:
            for _ok, _item in helpers.streaming_bulk(
                self.client, documents(), chunk_size=self.chunk_size
            ):
                pass
            self.client.indices.refresh(index=new_datasets)
        except BaseException:
            self.client.indices.delete(index=created, ignore_unavailable=True)
            raise
        old_datasets = [
            name for name, aliases in self._indices(f"{alias}-*").items() if alias in aliases
        ]
        actions.extend(alias_swap_actions(alias, old_datasets, new_datasets))
        # Datasets missing from the rebuild lose their records in the same step.
        for rec_alias, names in holders.items():
            if rec_alias.startswith(f"{self.prefix}records-") and rec_alias not in kept_aliases:
                actions.extend(alias_swap_actions(rec_alias, names, None))
        self.client.indices.update_aliases(actions=actions)
        replaced = {a["remove"]["index"] for a in actions if "remove" in a}
        if replaced:
            self.client.indices.delete(index=sorted(replaced), ignore_unavailable=True)
        return count


__all__ = ["ElasticsearchBackend"]
