"""One conformance suite, run against every search backend that can start here.

The embedded backend always runs.  The Elasticsearch backend runs when
``CGD_ELASTICSEARCH_URL`` points at a live 8.x cluster, e.g.::

    CGD_ELASTICSEARCH_URL=http://127.0.0.1:9200 .venv/bin/pytest tests/conformance

Each test then works under its own random index prefix and deletes its
indices and templates afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from indexer.search import SearchBackend, get_backend

BACKENDS = ["embedded", "elasticsearch"]


def backend_options(name: str, tmp_path) -> dict[str, Any]:
    if name == "embedded":
        return {"path": str(tmp_path / "search.sqlite3")}
    url = os.environ.get("CGD_ELASTICSEARCH_URL")
    if not url:
        pytest.skip(
            "set CGD_ELASTICSEARCH_URL to run the conformance suite against a live Elasticsearch 8 cluster"
        )
    return {
        "url": url,
        "index_prefix": f"cgd-test-{uuid.uuid4().hex[:12]}-",
        "number_of_replicas": 0,
    }


@pytest.fixture(params=BACKENDS)
def backend_spec(request, tmp_path) -> tuple[str, dict[str, Any]]:
    """(name, options) of a backend that can start here; other backends are skipped with the reason."""
    return request.param, backend_options(request.param, tmp_path)


@pytest.fixture
def backend(backend_spec) -> Iterator[SearchBackend]:
    name, options = backend_spec
    b = get_backend(name, **options)
    b.setup()
    try:
        yield b
    finally:
        if name == "elasticsearch":
            _drop_elasticsearch(b, options["index_prefix"])
        b.close()


def _drop_elasticsearch(b: Any, prefix: str) -> None:
    indices = list(b.client.indices.get_alias(index=f"{prefix}*"))
    if indices:
        b.client.indices.delete(index=indices, ignore_unavailable=True)
    for name in (f"{prefix}datasets", f"{prefix}records"):
        b.client.options(ignore_status=404).indices.delete_index_template(name=name)
