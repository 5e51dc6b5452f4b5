"""KoboToolbox: export header flattening and pulling submissions from API v2.

Exports name grouped questions by path (``household/members/age``) and add one
0/1 column per option of a select_multiple question (``water_source/well``
beside ``water_source``). :func:`flatten_kobo_names` turns the paths into
plain column names; :func:`pull_submissions` fetches ``/api/v2/assets/{uid}/data/``
page by page following ``next``.
"""

from __future__ import annotations

import ipaddress
import time
from urllib.parse import urljoin, urlsplit

import polars as pl
import requests

from indexer.harvest_http import HarvestFetchError, check_url, guarded_session
from schema.errors import CGDError, InvalidInput, NotFound, PermissionDenied, Problem

from .jsonfile import records_to_frame
from .limits import DEFAULT_LIMITS, Limits, fail

KOBO_MARKERS = frozenset(
    {"_uuid", "_submission_time", "_id", "meta/instanceID", "formhub/uuid", "__version__", "_index"}
)


def looks_like_kobo(header: list[str]) -> bool:
    """Whether a header comes from a KoboToolbox/ODK export."""
    return bool(KOBO_MARKERS & set(header)) or sum("/" in h for h in header) >= max(
        2, len(header) // 3
    )


def flatten_kobo_names(header: list[str], sep: str = "/") -> list[str]:
    """Plain names for Kobo group paths.

    ``group/question`` becomes ``question``; a select_multiple option column
    ``group/question/option`` (its parent path is itself a column) becomes
    ``question_option``; Kobo's own metadata (``_uuid``, ``meta/instanceID``)
    keeps its leaf name. Where two paths end the same, the full path joined by
    ``_`` is used for both. Paths inside Kobo's own structures
    (``_validation_status/uid``, ``formhub/uuid``) keep their whole path, joined by ``_``.
    """
    paths = [h.strip() for h in header]
    present = set(paths)
    wanted = []
    for p in paths:
        parts = [x for x in p.split(sep) if x] or [p]
        parent = sep.join(parts[:-1])
        if len(parts) >= 2 and (parts[0].startswith("_") or parts[0] == "formhub"):
            # Inside Kobo's own structures (_validation_status/uid, formhub/uuid): keep the
            # whole path, so that the column is still recognised as collection metadata.
            wanted.append("_".join(parts))
        elif len(parts) >= 2 and parent in present:
            wanted.append(f"{parts[-2]}_{parts[-1]}")
        else:
            wanted.append(parts[-1])
    counts: dict[str, int] = {}
    for w in wanted:
        counts[w] = counts.get(w, 0) + 1
    return [
        w if counts[w] == 1 else "_".join(x for x in p.split(sep) if x)
        for w, p in zip(wanted, paths, strict=True)
    ]


def _allowed_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http" and parts.hostname:
        # Plain HTTP only to this machine (tests, local Kobo); never send a token in clear.
        try:
            return ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            return parts.hostname == "localhost"
    return False


_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAX_RETRY_WAIT = 10.0


def _get_page(
    http: requests.Session, url: str, token: str, timeout: float, retries: int
) -> requests.Response:
    """GET one page; a busy server (429, 502-504) is asked again, waiting as it says."""
    for attempt in range(retries + 1):
        try:
            resp = http.get(
                url,
                headers={"Authorization": f"Token {token}", "Accept": "application/json"},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            raise CGDError(
                f"KoboToolbox could not be reached ({type(exc).__name__}).",
                code="kobo_unreachable",
                status=502,
            ) from None
        if resp.status_code not in _RETRY_STATUSES or attempt == retries:
            return resp
        try:
            wait = float(resp.headers.get("Retry-After", 2**attempt))
        except ValueError:  # an HTTP date: wait the default
            wait = float(2**attempt)
        time.sleep(min(max(wait, 0.0), _MAX_RETRY_WAIT))
    raise AssertionError("unreachable")


def pull_submissions(
    server: str,
    asset_uid: str,
    token: str,
    *,
    page_size: int = 1000,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float = 30.0,
    retries: int = 3,
    session: requests.Session | None = None,
    allow_private: bool = False,
) -> pl.DataFrame:
    """Fetch every submission of a KoboToolbox form as an all-string frame.

    ``server`` is the Kobo base URL (``https://kf.kobotoolbox.org``); the
    CSO's API ``token`` is sent as ``Authorization: Token ...`` and only ever
    to that host. Group paths are flattened as in exports. A page refused as
    busy (HTTP 429 or 502-504) is asked again up to ``retries`` times,
    honouring ``Retry-After`` (at most 10 s).

    The server's host must resolve to public addresses only, by the
    harvester's rule (:func:`indexer.harvest_http.check_url`), checked before
    every page: a private, loopback or link-local address is refused before
    the token is sent, and the address actually connected to is checked
    again before the request goes out (a DNS answer that changes in between
    is caught). ``allow_private`` (the ``HARVEST_ALLOW_PRIVATE`` setting)
    lifts it for tests and closed networks.
    """
    label = f"kobo:{asset_uid}"
    if not asset_uid or not asset_uid.replace("_", "").isalnum():
        raise fail(label, "invalid_asset", "The KoboToolbox form id (asset uid) is not valid.")
    base = server.rstrip("/") + "/"
    if not _allowed_url(base):
        raise fail(label, "invalid_server", "The KoboToolbox server must be an https:// URL.")
    host = urlsplit(base).netloc
    url: str | None = urljoin(
        base, f"api/v2/assets/{asset_uid}/data/?format=json&limit={int(page_size)}"
    )
    http = session or guarded_session(allow_private=allow_private)
    records: list = []
    pages = 0
    while url:
        if urlsplit(url).netloc != host or not _allowed_url(url):
            raise fail(
                label,
                "invalid_server",
                "The server pointed to another host for the next page; refusing to follow.",
            )
        try:
            check_url(url, allow_private=allow_private)
        except HarvestFetchError as exc:
            if exc.code == "harvest_unresolvable":
                raise CGDError(
                    f"KoboToolbox could not be reached ({exc.message})",
                    code="kobo_unreachable",
                    status=502,
                ) from None
            code = (
                "kobo_address_refused"
                if exc.code == "harvest_address_refused"
                else "invalid_server"
            )
            raise fail(label, code, f"The KoboToolbox server is refused: {exc.message}") from None
        try:
            resp = _get_page(http, url, token, timeout, retries)
        except HarvestFetchError as exc:  # the address connected to is a private one
            raise fail(
                label, "kobo_address_refused", f"The KoboToolbox server is refused: {exc.message}"
            ) from None
        if resp.status_code in (401, 403):
            raise PermissionDenied("KoboToolbox refused the token for this form.", code="kobo_auth")
        if resp.status_code == 404:
            raise NotFound(
                f"KoboToolbox has no form {asset_uid!r} (or the token cannot see it).",
                code="kobo_not_found",
            )
        if resp.status_code != 200:
            raise CGDError(
                f"KoboToolbox answered HTTP {resp.status_code}.", code="kobo_error", status=502
            )
        try:
            page = resp.json()
            results = page["results"]
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(
                "KoboToolbox sent a response that is not a page of submissions.",
                [Problem("kobo_bad_response", "Expected JSON with 'results'.", file=label)],
                code="kobo_bad_response",
            ) from None
        if not isinstance(results, list):
            raise fail(label, "kobo_bad_response", "'results' is not a list.")
        records.extend(results)
        if len(records) > limits.max_rows:
            raise fail(
                label, "too_many_rows", f"The form has more than {limits.max_rows:,} submissions."
            )
        pages += 1
        url = page.get("next") or None
        if pages > limits.max_rows // max(page_size, 1) + 10:
            raise fail(label, "kobo_bad_response", "The server kept sending pages; stopped.")
    df, header = records_to_frame(records, label, limits)
    from . import finish_frame  # circular at import time only

    return finish_frame(df, header, label, limits)
