"""Embedded search backend: one SQLite file with FTS5, zero set-up.

Layout of the file (all in one database so that every switch is one
transaction):

* ``meta``: the current *generation* of the dataset tables.  Dataset tables
  carry their generation in their name (``ds_1``, ``fts_1``, ``terms_1``,
  ``active_1``); :meth:`EmbeddedBackend.rebuild` fills generation n+1 beside
  the live one and switches ``meta`` in the same transaction, so readers move
  from the old to the new index in one step.
* ``versions``: every indexed version of every dataset, by an integer
  ``vkey``; its records live in their own table ``rec_<vkey>`` with an index
  per filterable column (and, when every value has an exact JSON form, each
  record's JSON text, so that a page is one ``orjson.loads``), its cube in
  ``cube_cells``.
* ``active_<g>``: which vkey answers for each dataset.  Activating a version
  is one UPDATE; an ingest that dies before it leaves the old row in place.

Everything a search page needs is read through an index (tests/search/
test_embedded_plans.py explains every statement): the FTS5 index for text,
``terms_<g>`` (field, value, ds) and (ds, field, value) for filters and facet
counts over the matches, ``facets_<g>`` for the counts over all documents,
``ds_<g>_published`` for the recent sort.  Sorting by title in a language
other than the stored sort title sorts the matches (all documents when there
is neither text nor filter).  Record pages follow an index of a filter column
or the integer primary key from the cursor onwards.

Readers run each call in one read transaction (WAL snapshot), so a call never
sees half a switch.  Each thread has its own connection; writes are
serialised by a process lock and SQLite's own write lock across processes.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import orjson
import polars as pl

from indexer.search import text as fts
from indexer.search.base import (
    CAPABILITIES,
    FACET_FIELDS,
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
    facet_values,
    filter_signature,
    filterable_columns,
    normalise_document,
    record_position,
    sort_cells,
    typed_filter_values,
)

# bm25 weights of the FTS columns: title, description, keywords.
_BM25 = "10.0, 2.0, 4.0"
_TOKENIZE = f"unicode61 remove_diacritics 2 categories '{fts.FTS5_CATEGORIES}'"
_INSERT_BATCH = 20_000


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class EmbeddedBackend(SearchBackend):
    """SQLite + FTS5 search backend in one file at ``path``."""

    name = "embedded"

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0):
        path = os.fspath(path)
        if not path or path == ":memory:":
            raise SearchBackendError(
                "the embedded backend needs a file path", code="search_backend_config"
            )
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False
        # rec_<vkey> -> whether it has the records' JSON column.  vkeys are AUTOINCREMENT, so
        # a table name is never reused for another version within a file.
        self._row_json_tables: dict[str, bool] = {}
        try:
            probe = sqlite3.connect(":memory:")
            probe.execute(f'CREATE VIRTUAL TABLE t USING fts5(a, tokenize="{_TOKENIZE}")')
            probe.close()
        except sqlite3.OperationalError as exc:  # pragma: no cover - depends on the SQLite build
            raise SearchBackendError(f"SQLite lacks FTS5 with unicode61 categories: {exc}") from exc

    # -- connections ----------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise SearchBackendError("search backend is closed", code="search_backend_closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
            # Map the whole file (address space, not memory): index pages are then read
            # without a system call each, which is most of a selective search's time.
            conn.execute("PRAGMA mmap_size=17179869184")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _read(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """One read transaction (a WAL snapshot) and the generation it sees."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield conn, self._generation(conn)
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, serialised within the process and across processes."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _generation(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        if row is None:
            raise SearchBackendError(
                "search index is not set up; run setup()", code="search_not_set_up"
            )
        return int(row[0])

    # -- life cycle -------------------------------------------------------------

    def setup(self) -> None:
        """Create the tables (idempotent) and switch the file to WAL mode."""
        with self._write() as c:
            c.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            c.execute(
                "CREATE TABLE IF NOT EXISTS versions ("
                " vkey INTEGER PRIMARY KEY AUTOINCREMENT, dataset_id TEXT NOT NULL,"
                " version_id TEXT NOT NULL, columns TEXT NOT NULL, filterable TEXT NOT NULL,"
                " dtypes TEXT NOT NULL, row_count INTEGER NOT NULL, created_at TEXT NOT NULL)"
            )
            c.execute(
                "CREATE INDEX IF NOT EXISTS versions_dataset ON versions (dataset_id, version_id)"
            )
            c.execute(
                "CREATE TABLE IF NOT EXISTS cube_cells ("
                " vkey INTEGER NOT NULL, dim_key TEXT NOT NULL, dims TEXT NOT NULL,"
                " count INTEGER, suppressed INTEGER NOT NULL, means TEXT NOT NULL)"
            )
            c.execute("CREATE INDEX IF NOT EXISTS cube_cells_key ON cube_cells (vkey, dim_key)")
            if c.execute("SELECT 1 FROM meta WHERE key = 'generation'").fetchone() is None:
                self._create_generation(c, 1)
                c.execute("INSERT INTO meta (key, value) VALUES ('generation', '1')")
            g = self._generation(c)
            if not c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (f"facets_{g}",)
            ).fetchone():
                # A file written before facet counts were kept: count once now.
                self._create_facet_counts(c, g)
                self._count_facets(c, g)

    def capabilities(self) -> frozenset[str]:
        """Everything in the contract."""
        return CAPABILITIES

    def close(self) -> None:
        """Close every connection this backend opened."""
        self._closed = True
        with self._connections_lock:
            for conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()

    @staticmethod
    def _create_generation(c: sqlite3.Connection, g: int) -> None:
        c.execute(
            f"CREATE TABLE ds_{g} (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
            " doc TEXT NOT NULL, published_at TEXT, title_sort TEXT, titles TEXT NOT NULL)"
        )
        c.execute(f"CREATE INDEX ds_{g}_published ON ds_{g} (published_at, id)")
        c.execute(f"CREATE INDEX ds_{g}_title ON ds_{g} (title_sort)")
        c.execute(
            f"CREATE VIRTUAL TABLE fts_{g} USING fts5(title, description, keywords,"
            f" tokenize=\"{_TOKENIZE}\", prefix='2 3 4')"
        )
        c.execute(
            f"CREATE TABLE terms_{g} (field TEXT NOT NULL, value TEXT NOT NULL, ds INTEGER NOT NULL,"
            " PRIMARY KEY (field, value, ds)) WITHOUT ROWID"
        )
        # Facets of a set of matches are read from here: ds -> (field, value), covering.
        c.execute(f"CREATE INDEX terms_{g}_ds ON terms_{g} (ds, field, value)")
        c.execute(
            f"CREATE TABLE active_{g} (dataset_id TEXT PRIMARY KEY, version_id TEXT NOT NULL, vkey INTEGER NOT NULL)"
        )
        EmbeddedBackend._create_facet_counts(c, g)

    @staticmethod
    def _create_facet_counts(c: sqlite3.Connection, g: int) -> None:
        # Facet counts over all documents, kept up to date on every write, so that
        # an unfiltered search (the home and search pages) reads facet_limit rows
        # of an index instead of counting every document's terms.
        c.execute(
            f"CREATE TABLE facets_{g} (field TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL,"
            " PRIMARY KEY (field, value)) WITHOUT ROWID"
        )
        c.execute(f"CREATE INDEX facets_{g}_top ON facets_{g} (field, n DESC, value)")

    @staticmethod
    def _count_facets(c: sqlite3.Connection, g: int) -> None:
        c.execute(f"DELETE FROM facets_{g}")
        c.execute(
            f"INSERT INTO facets_{g} (field, value, n)"
            f" SELECT field, value, count(*) FROM terms_{g} GROUP BY field, value"
        )

    @staticmethod
    def _drop_generation(c: sqlite3.Connection, g: int) -> None:
        for table in (f"fts_{g}", f"terms_{g}", f"facets_{g}", f"ds_{g}", f"active_{g}"):
            c.execute(f"DROP TABLE IF EXISTS {table}")

    @staticmethod
    def _uncount(c: sqlite3.Connection, g: int, rowid: int) -> None:
        """Take a document's terms out of the facet counts (before its terms are deleted)."""
        c.execute(
            f"UPDATE facets_{g} SET n = n - 1 WHERE (field, value) IN"
            f" (SELECT field, value FROM terms_{g} WHERE ds = ?)",
            (rowid,),
        )
        c.execute(f"DELETE FROM facets_{g} WHERE n <= 0")

    # -- dataset documents ----------------------------------------------------------

    def index_dataset(self, doc: dict[str, Any]) -> None:
        """Add or replace a dataset document."""
        self.index_datasets([doc])

    def index_datasets(self, docs: Iterable[dict[str, Any]]) -> int:
        """Add or replace many dataset documents in one transaction; returns how many."""
        normalised = [normalise_document(d) for d in docs]
        with self._write() as c:
            g = self._generation(c)
            for doc in normalised:
                self._put_dataset(c, g, doc)
        return len(normalised)

    @staticmethod
    def _put_dataset(
        c: sqlite3.Connection,
        g: int,
        doc: dict[str, Any],
        *,
        fresh: bool = False,
        count: bool = True,
    ) -> None:
        existing = (
            None
            if fresh
            else c.execute(f"SELECT rowid FROM ds_{g} WHERE id = ?", (doc["id"],)).fetchone()
        )
        titles = {lang: fts.clean(t).casefold() for lang, t in doc["title"].items()}
        title_sort = titles.get("en") or next(iter(titles.values()), "")
        row = (
            json.dumps(doc, ensure_ascii=False),
            doc["published_at"],
            title_sort,
            json.dumps(titles, ensure_ascii=False),
        )
        if existing:
            rowid = existing[0]
            c.execute(
                f"UPDATE ds_{g} SET doc = ?, published_at = ?, title_sort = ?, titles = ? WHERE rowid = ?",
                (*row, rowid),
            )
            c.execute(f"DELETE FROM fts_{g} WHERE rowid = ?", (rowid,))
            if count:
                EmbeddedBackend._uncount(c, g, rowid)
            c.execute(f"DELETE FROM terms_{g} WHERE ds = ?", (rowid,))
        else:
            rowid = c.execute(
                f"INSERT INTO ds_{g} (id, doc, published_at, title_sort, titles) VALUES (?, ?, ?, ?, ?)",
                (doc["id"], *row),
            ).lastrowid
        sep = f" {fts.LANG_SEPARATOR} "
        keywords = " ".join(
            [
                doc["organisation"].get("name") or "",
                doc["organisation"].get("slug") or "",
                doc["slug"],
            ]
            + doc["topics"]
            + doc["dimensions"]
            + doc["places"]
        )
        c.execute(
            f"INSERT INTO fts_{g} (rowid, title, description, keywords) VALUES (?, ?, ?, ?)",
            (
                rowid,
                sep.join(fts.clean(t) for t in doc["title"].values()),
                sep.join(fts.clean(t) for t in doc["description"].values()),
                fts.clean(keywords),
            ),
        )
        terms = [(name, value) for name, values in facet_values(doc).items() for value in values]
        c.executemany(
            f"INSERT OR IGNORE INTO terms_{g} (field, value, ds) VALUES (?, ?, ?)",
            [(name, value, rowid) for name, value in terms],
        )
        if count:
            c.executemany(
                f"INSERT INTO facets_{g} (field, value, n) VALUES (?, ?, 1)"
                " ON CONFLICT (field, value) DO UPDATE SET n = n + 1",
                terms,
            )

    def delete_dataset(self, dataset_id: str) -> None:
        """Remove a dataset's document and every version of it."""
        with self._write() as c:
            g = self._generation(c)
            row = c.execute(f"SELECT rowid FROM ds_{g} WHERE id = ?", (dataset_id,)).fetchone()
            if row:
                c.execute(f"DELETE FROM fts_{g} WHERE rowid = ?", (row[0],))
                self._uncount(c, g, row[0])
                c.execute(f"DELETE FROM terms_{g} WHERE ds = ?", (row[0],))
                c.execute(f"DELETE FROM ds_{g} WHERE rowid = ?", (row[0],))
            c.execute(f"DELETE FROM active_{g} WHERE dataset_id = ?", (dataset_id,))
            vkeys = [
                r[0]
                for r in c.execute("SELECT vkey FROM versions WHERE dataset_id = ?", (dataset_id,))
            ]
            for vkey in vkeys:
                self._drop_vkey(c, vkey)

    def get_dataset(self, dataset_id: str) -> dict[str, Any] | None:
        """The stored dataset document, or None."""
        with self._read() as (c, g):
            row = c.execute(f"SELECT doc FROM ds_{g} WHERE id = ?", (dataset_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def get_datasets(self, dataset_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Several stored documents in one read (one query per 500 ids)."""
        found: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(dataset_ids))
        with self._read() as (c, g):
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for ds_id, doc in c.execute(
                    f"SELECT id, doc FROM ds_{g} WHERE id IN ({marks})", chunk
                ):
                    found[ds_id] = json.loads(doc)
        return [found.get(i) for i in dataset_ids]

    # -- search ------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        """Ranked full text (FTS5 bm25), filters, facet counts, sorting and paging."""
        query = query.validated()
        terms = fts.parse(query.text)
        match = fts.fts5_query(terms) if terms else None
        # Counting and facets read only the FTS index (f.rowid); the page joins the documents.
        key = "f.rowid" if match else "d.rowid"
        with self._read() as (c, g):
            where, params = [], []
            for name, values in query.filters.items():
                values = [str(v).lower() if name == "endorsed" else str(v) for v in values]
                if not values:
                    continue
                marks = ",".join("?" * len(values))
                where.append(
                    f"{key} IN (SELECT ds FROM terms_{g} WHERE field = ? AND value IN ({marks}))"
                )
                params += [name, *values]
            if match:
                matches = f"fts_{g} f"
                source = f"fts_{g} f JOIN ds_{g} d ON d.rowid = f.rowid"
                where.insert(0, f"fts_{g} MATCH ?")
                params.insert(0, match)
                rank = f"bm25(fts_{g}, {_BM25})"
            else:
                matches = source = f"ds_{g} d"
                rank = "0.0"
            where_sql = " WHERE " + " AND ".join(where) if where else ""
            try:
                if where_sql:
                    total = c.execute(
                        f"SELECT count(*) FROM {matches}{where_sql}", params
                    ).fetchone()[0]
                else:
                    # Every document has exactly one source, so the kept counts give the total.
                    total = c.execute(
                        f"SELECT coalesce(sum(n), 0) FROM facets_{g} WHERE field = 'source'"
                    ).fetchone()[0]
                order = self._order(query, match is not None)
                page = c.execute(
                    f"SELECT d.rowid, d.doc, {rank} AS rank FROM {source}{where_sql} ORDER BY {order} LIMIT ? OFFSET ?",
                    [
                        *params,
                        *([f'$."{query.lang}"'] * 2 if query.sort == "title" else []),
                        query.limit,
                        query.offset,
                    ],
                ).fetchall()
                facets = self._facets(
                    c,
                    g,
                    query,
                    f"{key} AS ds FROM {matches}",
                    where_sql,
                    params,
                    filtered=bool(where),
                )

            except sqlite3.OperationalError as exc:
                if "fts5" in str(exc).lower():
                    return SearchResult(total=0, hits=[], facets={f: [] for f in query.facets})
                raise
        hits = []
        for _rowid, doc_json, rank in page:
            doc = json.loads(doc_json)
            highlights = self._highlights(terms, doc, query.lang) if match else {}
            hits.append(Hit(id=doc["id"], score=float(-rank), doc=doc, highlights=highlights))
        return SearchResult(total=total, hits=hits, facets=facets)

    @staticmethod
    def _order(query: SearchQuery, has_text: bool) -> str:
        if query.sort == "title":
            # As Elasticsearch does: titles in the asked language first, the rest by their sort title.
            return "json_extract(d.titles, ?) IS NULL, json_extract(d.titles, ?) ASC, d.title_sort ASC, d.id ASC"
        if query.sort == "relevance" and has_text:
            return "rank ASC, d.published_at DESC, d.id ASC"
        # NULLs sort last in DESC, as "missing": "_last" in Elasticsearch.
        return "d.published_at DESC, d.id DESC"

    @staticmethod
    def _facets(
        c: sqlite3.Connection,
        g: int,
        query: SearchQuery,
        source: str,
        where_sql: str,
        params: list[Any],
        *,
        filtered: bool,
    ) -> dict[str, list[tuple[str, int]]]:
        """Facet counts over all matches: from the kept counts, or driven from the matches."""
        if not query.facets:
            return {}
        if not (filtered or where_sql):
            return {
                name: [
                    (v, n)
                    for v, n in c.execute(
                        f"SELECT value, n FROM facets_{g} WHERE field = ?"
                        " ORDER BY n DESC, value ASC LIMIT ?",
                        (name, query.facet_limit),
                    )
                ]
                for name in query.facets
            }
        # One pass over the matching documents for every facet: CROSS JOIN keeps
        # the matches as the outer loop, each looking up its terms by (ds, field).
        marks = ",".join("?" * len(query.facets))
        rows = c.execute(
            f"SELECT t.field, t.value, count(*) FROM (SELECT {source}{where_sql}) m"
            f" CROSS JOIN terms_{g} t ON t.ds = m.ds AND t.field IN ({marks})"
            " GROUP BY t.field, t.value",
            [*params, *query.facets],
        ).fetchall()
        grouped: dict[str, list[tuple[str, int]]] = {name: [] for name in query.facets}
        for name, value, n in rows:
            grouped[name].append((value, n))
        return {
            name: sorted(values, key=lambda vn: (-vn[1], vn[0]))[: query.facet_limit]
            for name, values in grouped.items()
        }

    @staticmethod
    def _highlights(terms: list[fts.Term], doc: dict[str, Any], lang: str) -> dict[str, str]:
        """<mark>ed, HTML-escaped title and description snippet in ``lang`` (else English, else any)."""
        found = {}
        for field_name in ("title", "description"):
            text = _pick_language(doc.get(field_name) or {}, lang)
            if not text:
                continue
            marked = fts.mark_terms(fts.clean(text), terms)
            if fts.has_mark(marked):
                if field_name == "description":
                    marked = fts.snippet_window(marked)
                found[field_name] = fts.marked_to_html(marked)
        return found

    # -- versions ---------------------------------------------------------------------

    def index_version(
        self,
        dataset_id: str,
        version_id: str,
        records: pl.DataFrame,
        cube_cells: Iterable[Any],
        columns: Mapping[str, Any],
    ) -> None:
        """Store a version's records and cube in one transaction, without making them visible."""
        cells = [cell_dict(cell) for cell in cube_cells]
        with self._write() as c:
            g = self._generation(c)
            active = c.execute(
                f"SELECT vkey FROM active_{g} WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()
            stale = [
                r[0]
                for r in c.execute(
                    "SELECT vkey FROM versions WHERE dataset_id = ? AND version_id = ?",
                    (dataset_id, version_id),
                )
                if not active or r[0] != active[0]
            ]
            for vkey in stale:
                self._drop_vkey(c, vkey)
            self._insert_version(c, dataset_id, version_id, records, cells, columns)

    def _insert_version(
        self,
        c: sqlite3.Connection,
        dataset_id: str,
        version_id: str,
        records: pl.DataFrame,
        cells: list[dict[str, Any]],
        columns: Mapping[str, Any],
    ) -> int:
        filterable = filterable_columns(records, columns)
        dtypes = {name: _sql_kind(dtype) for name, dtype in records.schema.items()}
        vkey = c.execute(
            "INSERT INTO versions (dataset_id, version_id, columns, filterable, dtypes, row_count, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                dataset_id,
                version_id,
                json.dumps(records.columns, ensure_ascii=False),
                json.dumps(filterable, ensure_ascii=False),
                json.dumps(dtypes),
                records.height,
                datetime.now(UTC).isoformat(),
            ),
        ).lastrowid
        table = f"rec_{vkey}"
        row_json = _row_json(records, dtypes)
        column_sql = ", ".join(
            [f"{_q(name)} {_SQL_TYPES[kind]}" for name, kind in dtypes.items()]
            + ([f"{_ROW_JSON} TEXT NOT NULL"] if row_json is not None else [])
        )
        c.execute(
            f"CREATE TABLE {table} (_row INTEGER PRIMARY KEY{', ' + column_sql if column_sql else ''})"
        )
        if records.width:
            prepared = _storable(records)
            if row_json is not None:
                prepared = prepared.with_columns(row_json.alias(_ROW_JSON))
            insert = (
                f"INSERT INTO {table} ({', '.join(_q(n) for n in prepared.columns)})"
                f" VALUES ({', '.join('?' * prepared.width)})"
            )
            for offset in range(0, prepared.height, _INSERT_BATCH):
                c.executemany(insert, prepared.slice(offset, _INSERT_BATCH).iter_rows())
        for i, name in enumerate(filterable):
            c.execute(f"CREATE INDEX {table}_f{i} ON {table} ({_q(name)})")
        c.executemany(
            "INSERT INTO cube_cells (vkey, dim_key, dims, count, suppressed, means) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    vkey,
                    dims_key(cell["dims"]),
                    json.dumps(cell["dims"], ensure_ascii=False, sort_keys=True),
                    cell["count"],
                    int(cell["suppressed"]),
                    json.dumps(cell["means"], ensure_ascii=False),
                )
                for cell in cells
            ],
        )
        return vkey

    def activate_version(self, dataset_id: str, version_id: str) -> None:
        """Point the dataset at the newest indexed copy of ``version_id`` (one UPDATE), then drop the old one."""
        with self._write() as c:
            g = self._generation(c)
            row = c.execute(
                "SELECT max(vkey) FROM versions WHERE dataset_id = ? AND version_id = ?",
                (dataset_id, version_id),
            ).fetchone()
            if row is None or row[0] is None:
                raise SearchBackendError(
                    f"version {version_id!r} of dataset {dataset_id!r} is not indexed",
                    code="version_not_indexed",
                )
            vkey = row[0]
            old = c.execute(
                f"SELECT vkey FROM active_{g} WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()
            c.execute(
                f"INSERT INTO active_{g} (dataset_id, version_id, vkey) VALUES (?, ?, ?)"
                " ON CONFLICT (dataset_id) DO UPDATE SET version_id = excluded.version_id, vkey = excluded.vkey",
                (dataset_id, version_id, vkey),
            )
        if old and old[0] != vkey:
            with self._write() as c:
                self._drop_vkey(c, old[0])

    def drop_version(self, dataset_id: str, version_id: str) -> None:
        """Forget every indexed copy of a version (and unpublish it if active)."""
        with self._write() as c:
            g = self._generation(c)
            vkeys = [
                r[0]
                for r in c.execute(
                    "SELECT vkey FROM versions WHERE dataset_id = ? AND version_id = ?",
                    (dataset_id, version_id),
                )
            ]
            c.execute(
                f"DELETE FROM active_{g} WHERE dataset_id = ? AND version_id = ?",
                (dataset_id, version_id),
            )
            for vkey in vkeys:
                self._drop_vkey(c, vkey)

    @staticmethod
    def _drop_vkey(c: sqlite3.Connection, vkey: int) -> None:
        c.execute(f"DROP TABLE IF EXISTS rec_{int(vkey)}")
        c.execute("DELETE FROM cube_cells WHERE vkey = ?", (vkey,))
        c.execute("DELETE FROM versions WHERE vkey = ?", (vkey,))

    def active_version(self, dataset_id: str) -> str | None:
        """The version that answers for ``dataset_id``, or None."""
        with self._read() as (c, g):
            row = c.execute(
                f"SELECT version_id FROM active_{g} WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()
        return row[0] if row else None

    def _active(self, c: sqlite3.Connection, g: int, dataset_id: str) -> tuple[Any, ...] | None:
        return c.execute(
            f"SELECT a.version_id, v.vkey, v.filterable, v.dtypes, v.row_count, v.columns"
            f" FROM active_{g} a JOIN versions v ON v.vkey = a.vkey WHERE a.dataset_id = ?",
            (dataset_id,),
        ).fetchone()

    def records(
        self,
        dataset_id: str,
        *,
        filters: Mapping[str, list[str]] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> RecordPage:
        """Keyset paging over ``rec_<vkey>`` by its integer primary key, filters through indexes."""
        limit = check_limit(limit)
        with self._read() as (c, g):
            active = self._active(c, g, dataset_id)
            if active is None:
                if after:
                    decode_cursor(after, None)
                return RecordPage(rows=[], next_cursor=None, total=0)
            version_id, vkey, filterable, dtypes, row_count, columns = active
            shape = _record_shape(filterable, dtypes, columns)
            table = f"rec_{int(vkey)}"
            as_json = self._has_row_json(c, table)
            wanted = check_record_filters(filters, shape.filterable)
            signature = filter_signature(wanted)
            position, total = 0, None
            if after:
                position, total = record_position(decode_cursor(after, version_id), signature)
            typed = _sql_values(wanted, shape.dtypes)
            if total is None:
                total = _count_records(c, table, typed, row_count)
            read = (_ROW_JSON,) if as_json else shape.columns
            rows = _record_page(c, table, read, shape.filterable, typed, position, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        out = _decode_rows(rows) if as_json else shape.dicts(rows)
        # The cursor carries the total of its filters, so later pages cost O(limit).
        # Each row is (*columns read, _row): the key is its last value.
        cursor = (
            encode_cursor(version_id, [rows[-1][-1], total, signature]) if more and rows else None
        )
        return RecordPage(rows=out, next_cursor=cursor, total=total)

    def _has_row_json(self, c: sqlite3.Connection, table: str) -> bool:
        """Whether ``table`` keeps each record's JSON text (tables are never altered: cached)."""
        known = self._row_json_tables.get(table)
        if known is None:
            names = {row[1] for row in c.execute(f"PRAGMA table_info({table})")}
            known = self._row_json_tables[table] = _ROW_JSON in names
        return known

    def cube(
        self,
        dataset_id: str,
        by: tuple[str, ...],
        filters: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Cells of the active version over exactly ``by`` + filter keys, matching the filters."""
        filters = {str(k): str(v) for k, v in (filters or {}).items()}
        key = dims_key([*by, *filters])
        with self._read() as (c, g):
            active = self._active(c, g, dataset_id)
            if active is None:
                return []
            # The filter values are matched in SQL (json_extract on the cell's dims), so only
            # the asked cells are read and decoded.
            sql = "SELECT dims, count, suppressed, means FROM cube_cells WHERE vkey = ? AND dim_key = ?"
            params: list[Any] = [active[1], key]
            # A JSON path cannot name a key holding '"' or '\\' (SQLite has no escape for
            # them): such a filter is applied to the decoded cells instead.
            later = {n: v for n, v in filters.items() if '"' in n or "\\" in n}
            for name, value in filters.items():
                if name not in later:
                    sql += " AND json_extract(dims, ?) = ?"
                    params += ['$."' + name + '"', value]
            rows = c.execute(sql, params).fetchall()
        cells = [
            {
                "dims": json.loads(dims),
                "count": count,
                "suppressed": bool(suppressed),
                "means": json.loads(means),
            }
            for dims, count, suppressed, means in rows
        ]
        if later:
            cells = [c for c in cells if all(c["dims"].get(k) == v for k, v in later.items())]
        return sort_cells(cells)

    # -- rebuild -------------------------------------------------------------------

    def rebuild(
        self,
        datasets: Iterable[
            tuple[dict[str, Any], pl.DataFrame | None, Iterable[Any] | None, Mapping[str, Any]]
        ],
    ) -> int:
        """Fill generation n+1 beside the live one and switch ``meta`` to it in the same transaction."""
        count = 0
        with self._write() as c:
            old = self._generation(c)
            new = (
                max(
                    old,
                    int(
                        (c.execute("SELECT value FROM meta WHERE key = 'built'").fetchone() or [0])[
                            0
                        ]
                    ),
                )
                + 1
            )
            self._drop_generation(c, new)
            self._create_generation(c, new)
            seen: set[str] = set()
            for doc, records, cells, columns in datasets:
                doc = normalise_document(doc)
                self._put_dataset(c, new, doc, fresh=doc["id"] not in seen, count=False)
                seen.add(doc["id"])
                if records is not None:
                    version_id = doc.get("version_id") or "rebuild"
                    vkey = self._insert_version(
                        c,
                        doc["id"],
                        version_id,
                        records,
                        [cell_dict(x) for x in cells or []],
                        columns,
                    )
                    c.execute(
                        f"INSERT OR REPLACE INTO active_{new} (dataset_id, version_id, vkey) VALUES (?, ?, ?)",
                        (doc["id"], version_id, vkey),
                    )
                else:
                    c.execute(
                        f"INSERT OR REPLACE INTO active_{new} SELECT * FROM active_{old} WHERE dataset_id = ?",
                        (doc["id"],),
                    )
                count += 1
            self._count_facets(c, new)
            c.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(new),))
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('built', ?)", (str(new),))
        # The switch is committed; what only the old generation used goes now.
        with self._write() as c:
            orphans = [
                r[0]
                for r in c.execute(
                    f"SELECT vkey FROM active_{old} WHERE vkey NOT IN (SELECT vkey FROM active_{new})"
                )
            ]
            for vkey in orphans:
                self._drop_vkey(c, vkey)
            self._drop_generation(c, old)
        return count


# -- records: polars <-> SQLite -----------------------------------------------------

_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER", "text": "TEXT", "json": "TEXT"}


def _sql_kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if isinstance(dtype, pl.List | pl.Array | pl.Struct):
        return "json"
    return "text"


def _storable(df: pl.DataFrame) -> pl.DataFrame:
    """Records with every column in a type sqlite3 binds: temporals as ISO text, nested as JSON."""
    exprs = []
    for name, dtype in df.schema.items():
        kind = _sql_kind(dtype)
        col = pl.col(name)
        if kind == "bool":
            exprs.append(col.cast(pl.Int8))
        elif kind == "json":
            exprs.append(
                col.map_elements(lambda v: json.dumps(v, default=str), return_dtype=pl.String)
            )
        elif kind == "float" and dtype.is_decimal():
            exprs.append(col.cast(pl.Float64))
        elif kind == "text" and dtype != pl.String:
            exprs.append(col.cast(pl.String))
        else:
            exprs.append(col)
    return df.select(exprs)


#: The column of ``rec_<vkey>`` holding each record as JSON text, when it has an exact one.
_ROW_JSON = "_record_json"


def _row_json(df: pl.DataFrame, dtypes: Mapping[str, str]) -> pl.Series | None:
    """Each record as JSON text decoding to exactly the values its columns read back, or None.

    The text is what a record page decodes (one ``orjson.loads`` per page), so it
    must hold what the SQL columns give: floats as 64-bit with NaN as null and
    -0.0 as 0.0 (as SQLite stores them), temporals as their ISO text.  Values
    with no exact JSON form (infinite floats) or stored as JSON text already
    (nested columns) leave the version without it; its pages then convert the
    columns that need it.
    """
    if not df.width or _ROW_JSON in df.columns:
        return None
    exprs = []
    for name, dtype in df.schema.items():
        kind, col = dtypes[name], pl.col(name)
        if kind == "json":
            return None
        if kind == "float":
            as_float = col.cast(pl.Float64)
            if df.select(as_float.is_infinite().any()).item():
                return None
            as_float = as_float.fill_nan(None)
            exprs.append(pl.when(as_float == 0.0).then(0.0).otherwise(as_float).alias(name))
        elif kind == "text" and dtype != pl.String:
            exprs.append(col.cast(pl.String))
        else:
            exprs.append(col)
    return df.select(pl.struct(exprs).struct.json_encode()).to_series()


def _decode_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Records from ``(json text, _row)`` rows with one ``orjson.loads``.

    The texts are polars' encoding (64-bit integers, finite floats, NaN as
    null), which orjson decodes to the same values as ``json.loads`` in a
    third of the time; a text it refuses (none is expected) is decoded by
    ``json.loads``, so a page reads as it always did.
    """
    text = "[" + ",".join([row[0] for row in rows]) + "]"
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sql_values(wanted: Mapping[str, list[str]], dtypes: Mapping[str, str]) -> dict[str, list[Any]]:
    """Filter values as the columns store and compare them (booleans as 0/1)."""
    out = {}
    for column, values in wanted.items():
        typed = typed_filter_values(values, dtypes[column])
        out[column] = [int(v) if isinstance(v, bool) else v for v in typed]
    return out


class _RecordShape:
    """A version's record columns as a page reads them, parsed once per version.

    Rows come from SQLite as ``(*columns, _row)`` tuples; ``dict(zip(columns,
    row))`` builds a record in C (zip stops before ``_row``), and only the
    columns whose stored form differs from their value are converted, one
    column at a time: booleans (stored 0/1) and nested values (stored as JSON
    text, decoded with one ``json.loads`` per column and page).
    """

    __slots__ = ("filterable", "dtypes", "columns", "bools", "nested")

    def __init__(self, filterable: list[str], dtypes: dict[str, str], columns: list[str]):
        self.filterable = tuple(filterable)
        self.dtypes = dtypes
        self.columns = tuple(columns)
        self.bools = tuple(n for n in self.columns if dtypes.get(n) == "bool")
        self.nested = tuple(n for n in self.columns if dtypes.get(n) == "json")

    def dicts(self, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        columns = self.columns
        out = [dict(zip(columns, row)) for row in rows]  # noqa: B905 - _row is left off on purpose
        for name in self.bools:
            for record in out:
                value = record[name]
                if value is not None:
                    record[name] = value != 0
        for name in self.nested:
            texts = [record[name] for record in out]
            values = json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")
            for record, value in zip(out, values, strict=True):
                record[name] = value
        return out


@functools.lru_cache(maxsize=256)
def _record_shape(filterable: str, dtypes: str, columns: str) -> _RecordShape:
    """The parsed shape of a version's records, keyed by its stored JSON texts (so never stale)."""
    return _RecordShape(json.loads(filterable), json.loads(dtypes), json.loads(columns))


# -- records: queries -----------------------------------------------------------

#: Up to this many values of one filter are paged as one index range per value.
_UNION_VALUES = 64


def _where(wanted: Mapping[str, list[Any]]) -> tuple[list[str], list[Any]]:
    where, params = [], []
    for column, values in wanted.items():
        where.append(f"{_q(column)} IN ({','.join('?' * len(values))})")
        params += list(values)
    return where, params


def _count_records(
    c: sqlite3.Connection,
    table: str,
    wanted: Mapping[str, list[Any]],
    row_count: int,
) -> int:
    if not wanted:
        return int(row_count)
    where, params = _where(wanted)
    return int(
        c.execute(f"SELECT count(*) FROM {table} WHERE {' AND '.join(where)}", params).fetchone()[0]
    )


def _record_page(
    c: sqlite3.Connection,
    table: str,
    columns: tuple[str, ...],
    filterable: tuple[str, ...],
    wanted: Mapping[str, list[Any]],
    position: int,
    n: int,
) -> list[tuple[Any, ...]]:
    """Up to ``n`` rows ``(*columns, _row)`` after ``position`` in row order, read through an index.

    With no filter: the integer primary key.  With a single-valued filter:
    that column's index, whose entries for one value are in row order.  When
    every filter has several values, an index range per value of the filter
    with the fewest, merged: a plain ``IN`` would sort every match per page.
    """
    select = ", ".join([*(_q(name) for name in columns), "_row"])
    if any(not values for values in wanted.values()):
        return []
    where, params = _where(wanted)
    multi = {col: vals for col, vals in wanted.items() if len(vals) > 1}
    if len(multi) < len(wanted) or not multi:
        page_where = " AND ".join([*where, "_row > ?"])
        return c.execute(
            f"SELECT {select} FROM {table} WHERE {page_where} ORDER BY _row LIMIT ?",
            [*params, position, n],
        ).fetchall()
    driver = min(multi, key=lambda col: len(multi[col]))
    if len(multi[driver]) > _UNION_VALUES:
        page_where = " AND ".join([*where, "_row > ?"])
        return c.execute(
            f"SELECT {select} FROM {table} WHERE {page_where} ORDER BY _row LIMIT ?",
            [*params, position, n],
        ).fetchall()
    rest_where, rest_params = _where({k: v for k, v in wanted.items() if k != driver})
    index = f"{table}_f{filterable.index(driver)}"
    branch = (
        f"SELECT * FROM (SELECT {select} FROM {table} INDEXED BY {index}"
        f" WHERE {' AND '.join([f'{_q(driver)} = ?', *rest_where, '_row > ?'])}"
        " ORDER BY _row LIMIT ?)"
    )
    branches, branch_params = [], []
    for value in wanted[driver]:
        branches.append(branch)
        branch_params += [value, *rest_params, position, n]
    return c.execute(
        f"SELECT * FROM ({' UNION ALL '.join(branches)}) ORDER BY _row LIMIT ?",
        [*branch_params, n],
    ).fetchall()


def _pick_language(texts: Mapping[str, str], lang: str) -> str | None:
    """The text in ``lang``, else English, else the first language there is."""
    for wanted in (lang, "en"):
        if texts.get(wanted):
            return texts[wanted]
    return next(iter(texts.values()), None)


__all__ = ["EmbeddedBackend", "FACET_FIELDS"]
