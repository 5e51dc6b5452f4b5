"""Harvest another cgd-portal node through its public GraphQL API.

Takes the peer's own (``source: local``) datasets from ``datasets`` with
Relay paging, and each dataset's protected aggregates by one dimension from
``aggregate`` as the peer serves them (already suppressed and perturbed
there; never recomputed here).  Records are never copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog.harvest_models import HarvestSource
from catalog.services.harvest import HarvestedItem, Offer
from indexer.harvest_http import HarvestClient, HarvestFetchError

PAGE_SIZE = 50
MAX_AGGREGATE_DIMENSIONS = 4

DATASETS_QUERY = """
query Harvest($first: Int, $after: String) {
  datasets(first: $first, after: $after, orderBy: RECENT) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      databaseId slug source
      titles { lang text }
      descriptions { lang text }
      organization { slug name kind }
      topics { code }
      places { code }
      period { start end }
      licence languages recordCount publishedAt
      distributions { format mediaType url }
      dimensions { column dimension { code } }
    } }
  }
}
"""

AGGREGATE_FIELDS = (
    "by cells { dimensions { column dimension code } count suppressed means { measure value } }"
)


def graphql_url(source_url: str) -> str:
    base = source_url.rstrip("/")
    return base if base.endswith("/graphql") else f"{base}/graphql"


def _query(
    client: HarvestClient, url: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body = client.post_json(url, {"query": query, "variables": variables}).json()
    if not isinstance(body, dict):
        raise HarvestFetchError(
            f"{url} did not answer a GraphQL response.", code="harvest_bad_response"
        )
    if body.get("errors"):
        first = body["errors"][0] if isinstance(body["errors"], list) and body["errors"] else {}
        message = str(first.get("message") if isinstance(first, dict) else first)[:300]
        raise HarvestFetchError(f"{url}: GraphQL error: {message}", code="harvest_bad_response")
    if not isinstance(body.get("data"), dict):
        raise HarvestFetchError(f"{url} answered no data.", code="harvest_bad_response")
    return body["data"]


def list_offers(client: HarvestClient, source: HarvestSource, *, max_items: int) -> Iterator[Offer]:
    """Every local dataset of the peer, with its protected aggregates."""
    url = graphql_url(source.url)
    base = url[: -len("/graphql")]
    after, seen = None, 0
    with_aggregates = (source.config or {}).get("aggregates", True)
    while True:
        data = _query(client, url, DATASETS_QUERY, {"first": PAGE_SIZE, "after": after})
        conn = data.get("datasets") or {}
        for edge in conn.get("edges") or []:
            node = (edge or {}).get("node") or {}
            if node.get("source", "local") != "local":
                continue  # the peer harvested it elsewhere: take it from its origin
            seen += 1
            if seen > max_items:
                raise HarvestFetchError(
                    f"{source.name} lists more than {max_items} datasets.", code="harvest_too_many"
                )
            offer = node_offer(node, base)
            if offer.item is not None and with_aggregates:
                try:
                    offer.item.cube = aggregates(client, url, node)
                except HarvestFetchError as exc:
                    if exc.code in {"harvest_timeout", "harvest_address_refused"}:
                        raise
                    offer = Offer(original_id=offer.original_id, error=f"aggregates: {exc.message}")
            yield offer
        page = conn.get("pageInfo") or {}
        if not page.get("hasNextPage") or not page.get("endCursor"):
            return
        after = page["endCursor"]


def node_offer(node: dict[str, Any], base: str) -> Offer:
    original_id = str(node.get("databaseId") or "").strip()
    if not original_id:
        return Offer(original_id=str(node.get("slug") or "?"), error="dataset without databaseId")
    titles = {t["lang"]: t["text"] for t in node.get("titles") or [] if t and t.get("text")}
    if not titles:
        return Offer(original_id=original_id, error="dataset without a title")
    org = node.get("organization") or {}
    slug = str(node.get("slug") or original_id)
    period = node.get("period") or None
    item = HarvestedItem(
        original_id=original_id,
        name=slug,
        title=titles,
        description={
            t["lang"]: t["text"] for t in node.get("descriptions") or [] if t and t.get("text")
        },
        original_url=f"{base}/datasets/{slug}",
        publisher={
            "slug": str(org.get("slug") or ""),
            "name": str(org.get("name") or ""),
            "kind": str(org.get("kind") or ""),
        },
        topics=[t["code"] for t in node.get("topics") or [] if t and t.get("code")],
        keywords=[],
        licence=node.get("licence"),
        places=[p["code"] for p in node.get("places") or [] if p and p.get("code")],
        period={k: v for k, v in period.items() if v} if isinstance(period, dict) else None,
        languages=[str(x) for x in node.get("languages") or []],
        distributions=[
            {
                "title": d.get("format") or "Download",
                "format": d.get("format") or "",
                "media_type": d.get("mediaType") or "",
                "access_url": d.get("url"),
                "download_url": d.get("url"),
            }
            for d in node.get("distributions") or []
            if d and d.get("url")
        ],
        record_count=int(node.get("recordCount") or 0),
        modified=node.get("publishedAt"),
    )
    return Offer(original_id=original_id, item=item)


def aggregates(client: HarvestClient, url: str, node: dict[str, Any]) -> dict[str, Any] | None:
    """The peer's protected cells by each of the dataset's first dimensions (one query)."""
    dims = [d for d in node.get("dimensions") or [] if d and d.get("column")][
        :MAX_AGGREGATE_DIMENSIONS
    ]
    if not dims:
        return None
    parts = [
        f"a{i}: aggregate(dataset: $dataset, by: [{_gql_string(d['column'])}]) {{ {AGGREGATE_FIELDS} }}"
        for i, d in enumerate(dims)
    ]
    data = _query(
        client,
        url,
        "query Cube($dataset: String!) { " + " ".join(parts) + " }",
        {"dataset": node["databaseId"]},
    )
    columns = {d["column"]: ((d.get("dimension") or {}).get("code")) for d in dims}
    cells = []
    for i in range(len(dims)):
        for cell in (data.get(f"a{i}") or {}).get("cells") or []:
            cells.append(
                {
                    "dims": {c["column"]: str(c["code"]) for c in cell.get("dimensions") or []},
                    "count": cell.get("count"),
                    "suppressed": bool(cell.get("suppressed")),
                    "means": {m["measure"]: m.get("value") for m in cell.get("means") or []},
                }
            )
    return {"columns": columns, "cells": cells}


def _gql_string(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
