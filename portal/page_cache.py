"""Rendered public pages for anonymous readers, kept in process, and HTTP revalidation.

What is kept: the final response (body already compressed, security headers,
Vary) of a GET of a public catalogue page (search, dataset, home,
organisations, coverage) answered 200 to an anonymous reader.

Key: (endpoint, host, scheme, path, query string, language, gzip or not,
catalogue generation). The generation comes from the catalogue database
(catalog/generation.py): every commit that changes what public pages show,
and every search index write, moves it, in whichever process made it, so a
publish or withdraw in the RQ worker invalidates the pages of every gunicorn
worker at their next request. It is read *before* a page is rendered, so a
page rendered while a change lands is kept under the old number only.

Never kept, never served from here:

- any request that is not anonymous: a signed-in session, a bearer token, an
  ``Authorization`` header, or a session holding flash messages;
- any response that set a cookie, changed the session, rendered a CSRF token
  (``g.csrf_token``), said ``Cache-Control: private`` or ``no-store``, or is
  not a 200.

A kept page is also rendered again after ``MAX_AGE_SECONDS`` (what is shown
can depend on the date: partnerships in force). Each answer carries an ETag
(generation and body hash) and ``Cache-Control: no-cache``: a browser may
keep the page and revalidate it, and gets a 304 without a body while the page
has not changed. ``Vary: Cookie,
Accept-Language, Accept-Encoding`` (set by portal/i18n.py and the gzip hook)
keeps shared caches from mixing readers.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, g, request, session

from api.context import runtime
from catalog import generation
from portal.i18n import current_language

CACHEABLE = frozenset(
    {
        "public.home",
        "public.search",
        "public.dataset",
        "public.organisations",
        "public.organisation",
        "public.coverage",
    }
)
MAX_ENTRIES = 1024
MAX_BODY_BYTES = 1024 * 1024
MAX_QUERY_BYTES = 2048
#: A kept page is rendered again after this long even if nothing was committed: a page can
#: depend on the date (partnerships in force between their agreement dates).
MAX_AGE_SECONDS = 60.0
#: Headers that belong to one exchange, not to the page.
_PER_REQUEST = frozenset({"x-request-id", "set-cookie", "date", "retry-after"})
EXTENSION = "cgd_page_cache"


@dataclass(frozen=True)
class Entry:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str
    stored: float = field(default_factory=time.monotonic)


def init_app(app: Flask) -> None:
    """Serve kept pages before the view (after the principal and rate limits are known)
    and keep pages after every other response hook has run."""
    app.extensions[EXTENSION] = generation.GenerationCache(MAX_ENTRIES)
    app.before_request(_serve)
    # after_request hooks run in reverse order of registration: first in the list runs last,
    # when the body is compressed and every header is set.
    app.after_request_funcs.setdefault(None, []).insert(0, _keep)


def _anonymous() -> bool:
    principal = g.get("cgd_principal")
    return (
        principal is not None
        and principal.kind == "anonymous"
        and "Authorization" not in request.headers
        and not session.get("_flashes")
    )


def _key(generation_now: int) -> tuple:
    return (
        request.endpoint,
        request.host,
        request.scheme,
        request.path,
        request.query_string,
        current_language(),
        "gzip" in request.headers.get("Accept-Encoding", "").lower(),
        generation_now,
    )


def _not_modified(entry: Entry) -> Response | None:
    if not request.if_none_match.contains(entry.etag):
        return None
    response = Response(status=304)
    for name, value in entry.headers:
        if name.lower() in ("etag", "cache-control", "vary"):
            response.headers[name] = value
    return response


def _serve() -> Response | None:
    if (
        request.method not in ("GET", "HEAD")
        or request.endpoint not in CACHEABLE
        or len(request.query_string) > MAX_QUERY_BYTES
        or not _anonymous()
    ):
        return None
    key = _key(generation.current(runtime().db.engine))
    g.cgd_page_key = key
    entry = current_app.extensions[EXTENSION].get(key[-1], key)
    if entry is None or time.monotonic() - entry.stored > MAX_AGE_SECONDS:
        return None
    g.cgd_page_hit = True
    not_modified = _not_modified(entry)
    if not_modified is not None:
        return not_modified
    response = Response(entry.body, status=entry.status)
    response.headers.clear()
    response.headers.extend(entry.headers)
    return response


def _keep(response: Response) -> Response:
    key = g.pop("cgd_page_key", None)
    if key is None or g.get("cgd_page_hit"):
        return response
    cache_control = response.headers.get("Cache-Control", "").lower()
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Set-Cookie" in response.headers
        or session.modified
        or "csrf_token" in g
        or "private" in cache_control
        or "no-store" in cache_control
        or not _anonymous()
    ):
        return response
    body = response.get_data()
    if len(body) > MAX_BODY_BYTES:
        return response
    etag = f"{key[-1]}-{hashlib.blake2b(body, digest_size=10).hexdigest()}"
    response.set_etag(etag)
    response.headers.setdefault("Cache-Control", "no-cache")
    vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
    for name in ("Cookie", "Accept-Language", "Accept-Encoding"):  # what the key reads
        if name not in vary:
            vary.append(name)
    response.headers["Vary"] = ", ".join(vary)
    headers = tuple(
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in _PER_REQUEST and not k.lower().startswith("x-ratelimit")
    )
    entry = Entry(response.status_code, headers, body, etag)
    current_app.extensions[EXTENSION].put(key[-1], key, entry)
    return response
