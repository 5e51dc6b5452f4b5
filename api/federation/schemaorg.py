"""schema.org ``Dataset`` JSON-LD for dataset pages (what search engines' dataset search reads)."""

from __future__ import annotations

from typing import Any

from api.federation.published import PublishedDataset, local_distributions, remote_distributions
from catalog.models import Dataset, DatasetVersion
from schema.topics import TOPICS


def dataset_jsonld(
    dataset: Dataset, version: DatasetVersion | None, base_url: str
) -> dict[str, Any]:
    """The schema.org ``Dataset`` description of a public dataset, ready for ``json.dumps``.

    Embed it in the page as ``<script type="application/ld+json">`` (escape ``</``).
    """
    base_url = base_url.rstrip("/")
    harvest = (dataset.metadata_ or {}).get("harvest") or None
    provenance = {"original_url": harvest.get("original_url")} if harvest else None
    dists = (
        local_distributions(dataset, version, base_url)
        if dataset.source == "local"
        else remote_distributions(dataset, provenance)
    )
    item = PublishedDataset(dataset, version, base_url, provenance, dists)
    pub = item.publisher
    out: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": item.uri,
        "url": item.landing_page,
        "name": item.title("en"),
        "description": item.description("en") or item.title("en"),
        "identifier": dataset.id,
        "isAccessibleForFree": True,
        "keywords": [(TOPICS.get(k) or {}).get("en", k) for k in item.keywords],
        "creator": {"@type": "Organization", "name": pub["name"], "url": pub["uri"]},
        "publisher": {"@type": "Organization", "name": pub["name"], "url": pub["uri"]},
        "dateModified": item.modified.isoformat(),
    }
    alternates = [t for lang, t in item.titles.items() if lang != "en"]
    if alternates:
        out["alternateName"] = alternates
    if item.issued:
        out["datePublished"] = item.issued.isoformat()
    if item.licence_url:
        out["license"] = item.licence_url
    if item.version_number is not None:
        out["version"] = str(item.version_number)
    if item.languages:
        out["inLanguage"] = item.languages
    start, end = item.period
    if start or end:
        out["temporalCoverage"] = f"{start or '..'}/{end or '..'}"
    places = [{"@type": "Place", "name": p} for p in item.places]
    if item.country:
        places.append({"@type": "Country", "name": item.country})
    if places:
        out["spatialCoverage"] = places
    if item.methodology_summary:
        out["measurementTechnique"] = item.methodology_summary
    if version is not None and version.columns:
        out["variableMeasured"] = [
            {
                "@type": "PropertyValue",
                "name": name,
                "description": (spec or {}).get("label") or (spec or {}).get("role", ""),
            }
            for name, spec in version.columns.items()
            if (spec or {}).get("role") != "direct_identifier"
        ]
    if dists:
        out["distribution"] = [
            {
                "@type": "DataDownload",
                "name": d.title,
                "encodingFormat": d.media_type or d.format,
                "contentUrl": d.download_url or d.access_url,
            }
            for d in dists
        ]
    return out
