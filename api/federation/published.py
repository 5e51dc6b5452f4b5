"""The public view of the catalogue that every federation format is built from.

One :class:`PublishedDataset` per public dataset (published, not withdrawn):
the catalogue rows, the public version, its download links, and for a
harvested dataset where it came from.  Formats (DCAT-AP, CKAN, schema.org,
Data Package) only translate this; none of them decides what is public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Dataset, DatasetVersion
from catalog.services import datasets as dataset_service
from catalog.services import harvest as harvest_service
from schema.licences import LICENCES


@dataclass(frozen=True)
class Distribution:
    """One way to get the data: a download or an access page."""

    key: str
    title: str
    format: str
    media_type: str
    access_url: str
    download_url: str | None = None
    description: str = ""


@dataclass
class PublishedDataset:
    dataset: Dataset
    version: DatasetVersion | None
    base_url: str
    provenance: dict[str, Any] | None = None
    distributions: list[Distribution] = field(default_factory=list)

    # -- plain facts, in the shapes every format needs --------------------------

    @property
    def meta(self) -> dict[str, Any]:
        return self.dataset.metadata_ or {}

    @property
    def is_local(self) -> bool:
        return self.dataset.source == "local"

    @property
    def landing_page(self) -> str:
        if self.provenance and self.provenance.get("original_url"):
            return self.provenance["original_url"]
        return f"{self.base_url}/datasets/{self.dataset.slug}"

    @property
    def uri(self) -> str:
        """The dataset's IRI on this portal (also for harvested ones: this portal's record)."""
        return f"{self.base_url}/datasets/{self.dataset.slug}"

    @property
    def titles(self) -> dict[str, str]:
        return dict(self.meta.get("title") or {"en": self.dataset.slug})

    @property
    def descriptions(self) -> dict[str, str]:
        return dict(self.meta.get("description") or {})

    def title(self, lang: str = "en") -> str:
        return self.dataset.title(lang)

    def description(self, lang: str = "en") -> str:
        d = self.descriptions
        return d.get(lang) or d.get("en") or next(iter(d.values()), "")

    @property
    def licence_id(self) -> str | None:
        return self.meta.get("licence")

    @property
    def licence_url(self) -> str | None:
        lic = self.licence_id
        if lic in LICENCES:
            return LICENCES[lic]["url"]
        return self.meta.get("licence_url") or (lic if lic and lic.startswith("http") else None)

    @property
    def licence_title(self) -> str | None:
        lic = self.licence_id
        return (
            LICENCES[lic]["title"] if lic in LICENCES else (self.meta.get("licence_title") or lic)
        )

    @property
    def topics(self) -> list[str]:
        return list(self.meta.get("topics") or [])

    @property
    def keywords(self) -> list[str]:
        return keywords_of(self.meta)

    @property
    def places(self) -> list[str]:
        return list((self.meta.get("coverage") or {}).get("places") or [])

    @property
    def country(self) -> str | None:
        return self.meta.get("country")

    @property
    def period(self) -> tuple[str | None, str | None]:
        p = self.meta.get("period") or {}
        return p.get("start"), p.get("end")

    @property
    def languages(self) -> list[str]:
        return list(self.meta.get("languages") or [])

    @property
    def contact(self) -> dict[str, str]:
        return dict(self.meta.get("contact") or {})

    @property
    def publisher(self) -> dict[str, str]:
        org = self.dataset.organisation
        return {
            "slug": org.slug,
            "name": org.name,
            "uri": f"{self.base_url}/organisations/{org.slug}",
            "homepage": org.website or "",
            "kind": org.kind,
        }

    @property
    def issued(self) -> datetime | None:
        if self.version is not None and self.version.published_at:
            return _utc(self.version.published_at)
        return _utc(self.dataset.created_at)

    @property
    def modified(self) -> datetime:
        return _utc(self.dataset.updated_at or self.dataset.created_at)

    @property
    def created(self) -> datetime:
        return _utc(self.dataset.created_at)

    @property
    def record_count(self) -> int:
        return int(self.version.record_count) if self.version is not None else 0

    @property
    def version_number(self) -> int | None:
        return self.version.number if self.version is not None else None

    @property
    def methodology_summary(self) -> str:
        m = self.meta.get("methodology") or {}
        parts = []
        if m.get("purpose"):
            parts.append(f"Purpose: {m['purpose']}")
        sel = m.get("participant_selection") or {}
        if sel.get("method"):
            parts.append(f"Participant selection: {sel['method']} (n={sel.get('sample_size')}).")
        col = m.get("collection") or {}
        if col.get("method"):
            parts.append(f"Collection: {col['method']}.")
        if m.get("limitations"):
            parts.append(f"Limitations: {m['limitations']}")
        return " ".join(parts)


def catalogue_modified(session: Session) -> datetime | None:
    """When the public catalogue last changed: the newest ``modified`` of its datasets, over
    the whole catalogue (not one page), so every page of it gives the same ``dct:modified``."""
    return _utc(dataset_service.latest_published_change(session))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def keywords_of(meta: dict[str, Any]) -> list[str]:
    """A dataset's tags from its metadata: its topics, then its keywords, each once."""
    return list(dict.fromkeys([*(meta.get("topics") or []), *(meta.get("keywords") or [])]))


#: The downloads of a local dataset's public version, as
#: (key, title, format, media type, path under the dataset's page, description).
LOCAL_DOWNLOADS = (
    (
        "csv",
        "Anonymised records (CSV)",
        "CSV",
        "text/csv",
        "download.csv",
        "Anonymised records of the published version; add ?hxl=1 for an HXL hashtag row.",
    ),
    (
        "json",
        "Anonymised records (JSON)",
        "JSON",
        "application/json",
        "download.json",
        "Anonymised records of the published version as JSON.",
    ),
    (
        "datapackage",
        "Frictionless Data Package",
        "JSON",
        "application/vnd.datapackage+json",
        "datapackage.json",
        "Data Package descriptor with the CSV and its Table Schema.",
    ),
    (
        "datapackage-zip",
        "Frictionless Data Package (zip)",
        "ZIP",
        "application/zip",
        "datapackage.zip",
        "The descriptor, the CSV and its Table Schema in one file.",
    ),
)


def local_distributions(
    dataset: Dataset, version: DatasetVersion | None, base_url: str
) -> list[Distribution]:
    """The downloads this portal serves for a local dataset's public version."""
    if version is None or not version.records_path:
        return []
    page = f"{base_url}/datasets/{dataset.slug}"
    return [
        Distribution(key, title, fmt, media, page, f"{page}/{path}", description)
        for key, title, fmt, media, path, description in LOCAL_DOWNLOADS
    ]


def remote_distributions(dataset: Dataset, provenance: dict[str, Any] | None) -> list[Distribution]:
    """Links a harvested dataset's source gave (never copies)."""
    out = []
    for i, d in enumerate(dataset.metadata_.get("distributions") or []):
        url = d.get("download_url") or d.get("access_url")
        if not url:
            continue
        out.append(
            Distribution(
                key=f"remote-{i}",
                title=d.get("title") or d.get("format") or "Download",
                format=(d.get("format") or "").upper(),
                media_type=d.get("media_type") or "",
                access_url=d.get("access_url") or url,
                download_url=d.get("download_url"),
                description=d.get("description") or "",
            )
        )
    if not out and provenance and provenance.get("original_url"):
        out.append(
            Distribution(
                "remote-page", "Source page", "HTML", "text/html", provenance["original_url"]
            )
        )
    return out


def build(
    session: Session, dataset: Dataset, base_url: str, provenance: dict | None = None
) -> PublishedDataset:
    version = dataset.published_version
    if dataset.source == "local":
        dists = local_distributions(dataset, version, base_url)
    else:
        dists = remote_distributions(dataset, provenance)
    return PublishedDataset(dataset, version, base_url, provenance, dists)


def published_page(
    session: Session, base_url: str, *, limit: int, offset: int
) -> tuple[int, list[PublishedDataset]]:
    """One page of public datasets (newest first) and the total count."""
    total = dataset_service.count_published(session)
    datasets = dataset_service.list_published(session, limit=limit, offset=offset)
    prov = harvest_service.provenance_for(session, [d.id for d in datasets])
    return total, [build(session, d, base_url, prov.get(d.id)) for d in datasets]


def published_by_ids(session: Session, ids: list[str], base_url: str) -> list[PublishedDataset]:
    """Public datasets for search hits, in the hits' order; anything no longer public is left out.

    Loaded in bulk (a few queries per 500 ids) with the public rule of
    ``datasets.get_dataset``: a published version and not withdrawn.
    """
    found: dict[str, Dataset] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for d in session.scalars(
            select(Dataset)
            .options(selectinload(Dataset.versions), selectinload(Dataset.organisation))
            .where(Dataset.id.in_(chunk), *dataset_service.PUBLISHED)
        ):
            found[d.id] = d
    datasets = [found[i] for i in dict.fromkeys(ids) if i in found]
    prov = harvest_service.provenance_for(session, [d.id for d in datasets])
    return [build(session, d, base_url, prov.get(d.id)) for d in datasets]


def published_one(session: Session, ref: str, base_url: str) -> PublishedDataset:
    """A public dataset by id or slug, or NotFound."""
    dataset = dataset_service.get_dataset(session, ref)
    prov = harvest_service.provenance_for(session, [dataset.id])
    return build(session, dataset, base_url, prov.get(dataset.id))


def base_url_of(config: dict[str, Any]) -> str:
    return str(config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
