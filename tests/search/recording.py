"""A recording node for the Elasticsearch client: the real client and transport, no cluster.

The client builds and serialises each request exactly as it would for a
cluster; this node records (method, path, query, body) and answers from a
route table the test gives.  It is for unit tests of the requests the
backend sends (tests/search/); the conformance suite never uses it and runs
only against a live cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse

Route = Callable[["Request"], tuple[int, Any]]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # parsed JSON, a list of parsed NDJSON lines, or None


class RecordingNode(BaseNode):
    """Records every request; ``routes`` maps (METHOD, path regex) to a function returning (status, body)."""

    requests: list[Request] = []
    routes: list[tuple[str, str, Route]] = []

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
        parts = urlsplit(target)
        path = unquote(parts.path)
        parsed: Any = None
        if body:
            text = body.decode()
            content_type = (headers or {}).get("content-type", "")
            if "x-ndjson" in content_type:
                parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                parsed = json.loads(text)
        request = Request(method, path, parse_qs(parts.query), parsed)
        type(self).requests.append(request)
        status, answer = 404, {"error": {"type": "index_not_found_exception"}, "status": 404}
        for route_method, pattern, route in type(self).routes:
            if route_method == method and re.fullmatch(pattern, path):
                status, answer = route(request)
                break
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders(
                {
                    "content-type": "application/json",
                    "x-elastic-product": "Elasticsearch",
                }
            ),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, json.dumps(answer).encode())


def bulk_ok(request: Request) -> tuple[int, Any]:
    """A successful _bulk answer for every action line of the request."""
    items = []
    lines = iter(request.body or [])
    for line in lines:
        action = next(iter(line))
        items.append({action: {"_index": line[action].get("_index"), "status": 201}})
        if action != "delete":
            next(lines)  # its source
    return 200, {"took": 1, "errors": False, "items": items}
