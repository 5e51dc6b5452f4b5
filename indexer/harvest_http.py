"""HTTP for harvesting: refuses private addresses, bounds time and size, trusts nothing.

Source URLs are typed in by people, so every request is checked twice: the
host name is resolved and every address must be public before anything is
sent, and the socket's actual peer is checked again after it connects (so a
DNS answer that changes in between cannot reach an internal service).
Redirects are followed by hand and each hop is checked the same way.  The
``allow_private`` setting (``CGD_HARVEST_ALLOW_PRIVATE``) lifts the address
rule for test set-ups and closed networks.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import requests.adapters
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from schema.errors import CGDError

USER_AGENT = "cgd-portal-harvester/1 (+https://github.com/cgd-portal)"
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class HarvestFetchError(CGDError):
    """A remote catalogue could not be read safely; ``code`` says why."""

    def __init__(self, message: str, code: str = "harvest_fetch_failed"):
        super().__init__(message=message, code=code, status=502)


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """Whether the harvester may connect to ``address`` (an IP literal)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    return True if allow_private else ip.is_global


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse non-HTTP schemes, credentials in URLs and hosts that resolve to private addresses."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise HarvestFetchError(
            f"Only http(s) URLs are harvested, not {url[:200]!r}.", code="harvest_bad_url"
        )
    if parts.username or parts.password:
        raise HarvestFetchError("URLs with credentials are not harvested.", code="harvest_bad_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        raise HarvestFetchError(
            f"Cannot resolve {parts.hostname!r}.", code="harvest_unresolvable"
        ) from exc
    for info in infos:
        address = info[4][0]
        if not address_allowed(address, allow_private=allow_private):
            raise HarvestFetchError(
                f"{parts.hostname} resolves to {address}, a private or reserved address; "
                "harvesting it needs CGD_HARVEST_ALLOW_PRIVATE.",
                code="harvest_address_refused",
            )


class _PeerCheck:
    """Mixin for urllib3 connections: refuse the socket if its peer is not allowed."""

    allow_private = False

    def _new_conn(self):  # type: ignore[override]
        sock = super()._new_conn()  # type: ignore[misc]
        peer = sock.getpeername()[0]
        if not address_allowed(peer, allow_private=self.allow_private):
            sock.close()
            raise HarvestFetchError(
                f"Connected to {peer}, a private or reserved address; refused.",
                code="harvest_address_refused",
            )
        return sock


def _pool_classes(allow_private: bool) -> dict[str, type]:
    http_conn = type(
        "GuardedHTTPConnection", (_PeerCheck, HTTPConnection), {"allow_private": allow_private}
    )
    https_conn = type(
        "GuardedHTTPSConnection", (_PeerCheck, HTTPSConnection), {"allow_private": allow_private}
    )
    return {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


def guarded_session(*, allow_private: bool) -> requests.Session:
    """A ``requests`` session whose every connection is refused, after it
    connects and before anything is sent, if its peer is a private or reserved
    address (the harvester's rule; ``allow_private`` lifts it). Checking the
    name before a request is not enough: the DNS answer may change in between."""
    session = requests.Session()
    for scheme in ("http://", "https://"):
        adapter = requests.adapters.HTTPAdapter()
        adapter.poolmanager.pool_classes_by_scheme = _pool_classes(allow_private)
        session.mount(scheme, adapter)
    return session


@dataclass(frozen=True)
class Fetched:
    """A response body, read within the limits, and where it finally came from."""

    url: str
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise HarvestFetchError(
                f"{self.url} did not answer with JSON.", code="harvest_bad_response"
            ) from exc


class HarvestClient:
    """A small HTTP client for one harvest run: SSRF guard, timeouts, a run deadline, size limits."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        deadline_seconds: float | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + deadline_seconds if deadline_seconds else None
        self.requests = 0
        self.bytes_read = 0
        self._pool = urllib3.PoolManager(
            num_pools=4, retries=False, headers={"User-Agent": USER_AGENT}
        )
        self._pool.pool_classes_by_scheme = _pool_classes(allow_private)

    def close(self) -> None:
        self._pool.clear()

    def _time_left(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise HarvestFetchError("The harvest ran out of time.", code="harvest_timeout")
        return min(self.timeout, left)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        accept: str = "*/*",
    ) -> Fetched:
        """One request (redirects followed and re-checked); a non-2xx answer is an error."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"
        headers = {"Accept": accept}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url, allow_private=self.allow_private)
            left = self._time_left()
            try:
                resp = self._pool.request(
                    method,
                    url,
                    body=body,
                    headers=headers,
                    redirect=False,
                    preload_content=False,
                    timeout=urllib3.Timeout(connect=min(left, 10.0), read=left),
                )
            except HarvestFetchError:
                raise
            except urllib3.exceptions.HTTPError as exc:
                inner = getattr(exc, "reason", None)
                if isinstance(inner, HarvestFetchError):
                    raise inner from exc
                if isinstance(exc, urllib3.exceptions.TimeoutError) or isinstance(
                    inner, urllib3.exceptions.TimeoutError
                ):
                    raise HarvestFetchError(
                        f"{url} did not answer in time.", code="harvest_timeout"
                    ) from exc
                raise HarvestFetchError(
                    f"Cannot reach {url}: {type(exc).__name__}.", code="harvest_unreachable"
                ) from exc
            self.requests += 1
            try:
                if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                    url = urljoin(url, resp.headers["Location"])
                    if resp.status == 303:
                        method, body = "GET", None
                    continue
                data = self._read(resp, url)
            finally:
                resp.release_conn()
            if not 200 <= resp.status < 300:
                raise HarvestFetchError(
                    f"{url} answered HTTP {resp.status}.", code="harvest_http_error"
                )
            return Fetched(
                url,
                resp.status,
                (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower(),
                data,
            )
        raise HarvestFetchError(f"Too many redirects from {url}.", code="harvest_redirects")

    def _read(self, resp, url: str) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise HarvestFetchError(
                f"{url} is larger than {self.max_bytes} bytes.", code="harvest_too_large"
            )
        chunks, size = [], 0
        try:
            while True:
                self._time_left()
                chunk = resp.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise HarvestFetchError(
                        f"{url} is larger than {self.max_bytes} bytes.", code="harvest_too_large"
                    )
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as exc:
            code = (
                "harvest_timeout"
                if isinstance(exc, urllib3.exceptions.TimeoutError)
                else "harvest_unreachable"
            )
            raise HarvestFetchError(
                f"Reading {url} failed: {type(exc).__name__}.", code=code
            ) from exc
        self.bytes_read += size
        return b"".join(chunks)

    def get(
        self, url: str, *, params: dict[str, Any] | None = None, accept: str = "*/*"
    ) -> Fetched:
        return self.request("GET", url, params=params, accept=accept)

    def post_json(self, url: str, payload: Any) -> Fetched:
        return self.request("POST", url, json_body=payload, accept="application/json")
