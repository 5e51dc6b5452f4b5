"""Harvest a CKAN instance through its action API (``package_search`` paging).

Pages with ``rows``/``start`` sorted by ``id asc``, as ckanext-harvest's CKAN
harvester does; ``q`` and ``fq`` from the source's configuration narrow what
is taken.  Only metadata and resource links are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog.harvest_models import HarvestSource
from catalog.services.harvest import HarvestedItem, Offer
from indexer.harvest_http import HarvestClient, HarvestFetchError
from schema.topics import TOPICS

PAGE_SIZE = 100


def action_url(source_url: str, action: str) -> str:
    base = source_url.rstrip("/")
    for suffix in ("/api/3/action", "/api/action", "/api/3", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}/api/3/action/{action}"


def _result(fetched) -> Any:
    body = fetched.json()
    if not isinstance(body, dict) or body.get("success") is not True or "result" not in body:
        raise HarvestFetchError(
            f"{fetched.url} is not a CKAN action API answer.", code="harvest_bad_response"
        )
    return body["result"]


def list_offers(client: HarvestClient, source: HarvestSource, *, max_items: int) -> Iterator[Offer]:
    """Every package the CKAN instance lists, page by page."""
    cfg = source.config or {}
    rows = int(cfg.get("page_size") or PAGE_SIZE)
    url = action_url(source.url, "package_search")
    base = action_url(source.url, "x")[: -len("/api/3/action/x")]
    start, seen = 0, 0
    while True:
        params = {"rows": rows, "start": start, "sort": "id asc"}
        if cfg.get("q"):
            params["q"] = cfg["q"]
        if cfg.get("fq"):
            params["fq"] = cfg["fq"]
        result = _result(client.get(url, params=params, accept="application/json"))
        if not isinstance(result, dict) or not isinstance(result.get("results"), list):
            raise HarvestFetchError(
                f"{url}: package_search has no results list.", code="harvest_bad_response"
            )
        packages = result["results"]
        for pkg in packages:
            if isinstance(pkg, dict) and (
                pkg.get("state") not in (None, "active") or pkg.get("private") is True
            ):
                continue  # deleted, draft or private there: not offered, so withdrawn here
            seen += 1
            if seen > max_items:
                raise HarvestFetchError(
                    f"{source.name} lists more than {max_items} datasets.", code="harvest_too_many"
                )
            yield package_offer(pkg, base)
        count = int(result.get("count") or 0)
        start += rows
        if not packages or start >= count:
            return


def _extras(pkg: dict) -> dict[str, str]:
    out = {}
    for e in pkg.get("extras") or []:
        if isinstance(e, dict) and e.get("key"):
            out[str(e["key"])] = str(e.get("value") or "")
    return out


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def package_offer(pkg: Any, base: str) -> Offer:
    """One CKAN package dictionary as an offer (an error when it has no id or title)."""
    if not isinstance(pkg, dict):
        return Offer(original_id="?", error="a package that is not an object")
    original_id = str(pkg.get("id") or "").strip()
    if not original_id:
        return Offer(original_id=str(pkg.get("name") or "?"), error="package without an id")
    name = str(pkg.get("name") or original_id)
    titles = pkg.get("title_translated") if isinstance(pkg.get("title_translated"), dict) else {}
    title = titles or ({"en": pkg["title"]} if pkg.get("title") else {})
    if not title:
        return Offer(original_id=original_id, error="package without a title")
    notes = pkg.get("notes_translated") if isinstance(pkg.get("notes_translated"), dict) else {}
    description = notes or ({"en": pkg["notes"]} if pkg.get("notes") else {})
    extras = _extras(pkg)
    tags = [
        str(t.get("name")) for t in pkg.get("tags") or [] if isinstance(t, dict) and t.get("name")
    ]
    org = pkg.get("organization") if isinstance(pkg.get("organization"), dict) else {}
    period = None
    if extras.get("temporal_start") or extras.get("temporal_end"):
        period = {
            k: v
            for k, v in (
                ("start", extras.get("temporal_start")),
                ("end", extras.get("temporal_end")),
            )
            if v
        }
    distributions = [
        {
            "title": r.get("name") or r.get("format") or "Resource",
            "format": r.get("format") or "",
            "media_type": r.get("mimetype") or "",
            "access_url": r.get("url"),
            "download_url": r.get("url"),
            "description": r.get("description") or "",
        }
        for r in pkg.get("resources") or []
        if isinstance(r, dict) and r.get("url")
    ]
    item = HarvestedItem(
        original_id=original_id,
        name=name,
        title={str(k): str(v) for k, v in title.items()},
        description={str(k): str(v) for k, v in description.items()},
        original_url=extras.get("uri") or f"{base}/dataset/{name}",
        publisher={
            "slug": str(org.get("name") or ""),
            "name": str(org.get("title") or org.get("name") or ""),
        },
        topics=[t for t in tags if t in TOPICS],
        keywords=tags,
        licence=pkg.get("license_id") or pkg.get("license_url"),
        places=_split(extras.get("places")),
        country=extras.get("country") or None,
        period=period,
        languages=_split(extras.get("language")),
        distributions=distributions,
        modified=pkg.get("metadata_modified"),
    )
    return Offer(original_id=original_id, item=item)
