"""Harvest sources and harvested datasets: who may configure them, and every state change.

Harvested datasets are catalogue rows like local ones (``Dataset.source`` is
the source's name) with one published version that holds metadata and links
only, never microdata.  Their provenance lives in ``HarvestedDataset``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from slugify import slugify
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog.harvest_models import (
    HarvestedDataset,
    HarvestKind,
    HarvestRun,
    HarvestRunStatus,
    HarvestSource,
)
from catalog.models import (
    Dataset,
    DatasetVersion,
    Job,
    Organisation,
    OrganisationKind,
    VersionStatus,
)
from catalog.principal import Principal
from catalog.services import audit, jobs
from catalog.services import datasets as dataset_service
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from schema.licences import LICENCES
from schema.topics import TOPICS

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$")
MAX_TEXT = 20000


def require_admin(principal: Principal) -> None:
    """Site administrators only; a token of one needs the ``org:admin`` scope too."""
    if not (
        principal.kind == "system" or (principal.is_admin and principal.has_scope("org:admin"))
    ):
        raise PermissionDenied("Only site administrators may manage harvest sources.")


# -- sources and runs ---------------------------------------------------------------


def create_source(
    session: Session,
    principal: Principal,
    *,
    name: str,
    url: str,
    kind: str,
    title: str = "",
    config: dict[str, Any] | None = None,
    frequency_hours: int | None = None,
) -> HarvestSource:
    """Register a remote catalogue (site administrators only)."""
    require_admin(principal)
    problems = []
    if not NAME_RE.match(name or "") or name == "local":
        problems.append(
            Problem(
                "invalid_name",
                "Use 2-100 lower-case letters, digits and hyphens (not 'local').",
                field="name",
            )
        )
    if kind not in {k.value for k in HarvestKind}:
        problems.append(
            Problem(
                "invalid_choice",
                f"kind must be one of {[k.value for k in HarvestKind]}.",
                field="kind",
            )
        )
    if not re.match(r"^https?://[^\s/]+", url or ""):
        problems.append(Problem("invalid_url", "Give an http(s) URL.", field="url"))
    if problems:
        raise InvalidInput("The harvest source is not valid.", problems)
    if session.scalar(select(HarvestSource.id).where(HarvestSource.name == name)):
        raise Conflict(f"A harvest source named {name!r} exists.", code="name_taken")
    source = HarvestSource(
        name=name,
        url=url.strip(),
        kind=kind,
        title=title or name,
        config=dict(config or {}),
        frequency_hours=frequency_hours,
    )
    session.add(source)
    session.flush()
    audit.record(
        session,
        principal,
        "harvest_source.create",
        "harvest_source",
        str(source.id),
        url=url,
        kind=kind,
    )
    return source


def get_source(session: Session, ref: str | int) -> HarvestSource:
    stmt = select(HarvestSource)
    if isinstance(ref, int) or str(ref).isdigit():
        stmt = stmt.where((HarvestSource.id == int(ref)) | (HarvestSource.name == str(ref)))
    else:
        stmt = stmt.where(HarvestSource.name == ref)
    source = session.scalar(stmt)
    if source is None:
        raise NotFound(f"No harvest source {ref!r}.", code="harvest_source_not_found")
    return source


def list_sources(session: Session) -> list[HarvestSource]:
    return list(session.scalars(select(HarvestSource).order_by(HarvestSource.name)))


def due_sources(session: Session, now: datetime | None = None) -> list[HarvestSource]:
    """Active sources with a frequency whose last run is older than it."""
    now = now or datetime.now(UTC)
    out = []
    for s in session.scalars(
        select(HarvestSource).where(
            HarvestSource.active.is_(True), HarvestSource.frequency_hours.is_not(None)
        )
    ):
        last = s.last_run_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if last is None or (now - last).total_seconds() >= s.frequency_hours * 3600:
            out.append(s)
    return out


def request_harvest(
    session: Session, principal: Principal, source: HarvestSource
) -> tuple[HarvestRun, Job]:
    """Queue a harvest of ``source`` as a background job (site administrators only)."""
    require_admin(principal)
    # A run counts as busy while its job is alive; a run whose job died does not block the source.
    busy = session.scalar(
        select(HarvestRun.id)
        .join(Job, Job.id == HarvestRun.job_id)
        .where(
            HarvestRun.source_id == source.id,
            HarvestRun.status.in_([HarvestRunStatus.QUEUED.value, HarvestRunStatus.RUNNING.value]),
            Job.status.in_(["queued", "running"]),
        )
    )
    if busy:
        raise Conflict(
            f"{source.name} is being harvested already (run {busy}).", code="harvest_running"
        )
    run = HarvestRun(source=source, status=HarvestRunStatus.QUEUED.value, report={})
    session.add(run)
    session.flush()
    job = jobs.enqueue(session, principal, "harvest", {"source_id": source.id, "run_id": run.id})
    run.job_id = job.id
    audit.record(
        session,
        principal,
        "harvest.request",
        "harvest_source",
        str(source.id),
        run_id=run.id,
        job_id=job.id,
    )
    return run, job


def get_run(session: Session, run_id: str) -> HarvestRun:
    run = session.get(HarvestRun, run_id)
    if run is None:
        raise NotFound(f"No harvest run {run_id!r}.", code="harvest_run_not_found")
    return run


def start_run(run: HarvestRun) -> None:
    run.status = HarvestRunStatus.RUNNING.value
    run.started_at = datetime.now(UTC)
    run.report = empty_report()


def empty_report() -> dict[str, Any]:
    return {"created": [], "updated": [], "unchanged": [], "withdrawn": [], "failed": [], "seen": 0}


def finish_run(run: HarvestRun, report: dict[str, Any], *, error: dict | None = None) -> None:
    now = datetime.now(UTC)
    run.report = report
    run.error = error
    run.status = HarvestRunStatus.FAILED.value if error else HarvestRunStatus.SUCCEEDED.value
    run.progress = 100
    run.finished_at = now
    run.source.last_run_at = now


# -- harvested datasets -------------------------------------------------------------


@dataclass
class HarvestedItem:
    """One dataset as a source describes it, already reduced to plain metadata.

    ``distributions`` are links ({title, format, media_type, access_url,
    download_url, description}); ``cube`` is a protected aggregate from a
    cgd-portal peer, stored as given (never recomputed here).
    """

    original_id: str
    title: dict[str, str]
    original_url: str | None = None
    name: str | None = None
    description: dict[str, str] = field(default_factory=dict)
    publisher: dict[str, str] = field(default_factory=dict)  # {slug, name, kind}
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    licence: str | None = None
    places: list[str] = field(default_factory=list)
    country: str | None = None
    period: dict[str, str] | None = None
    languages: list[str] = field(default_factory=list)
    distributions: list[dict[str, Any]] = field(default_factory=list)
    record_count: int = 0
    modified: str | None = None
    cube: dict[str, Any] | None = None

    def metadata(self, source: HarvestSource) -> dict[str, Any]:
        """The catalogue metadata of the harvested dataset (the same keys local metadata uses)."""
        meta: dict[str, Any] = {
            "title": _texts(self.title, 300) or {"en": self.original_id[:300]},
            "description": _texts(self.description, MAX_TEXT) or None,
            "topics": [t for t in self.topics if t in TOPICS],
            "keywords": [_clip(k, 100) for k in self.keywords if k][:50],
            "licence": normalise_licence(self.licence),
            "coverage": {"places": [_clip(p, 200) for p in self.places][:100]}
            if self.places
            else None,
            "period": self.period or None,
            "languages": [_clip(x, 10) for x in self.languages][:20],
            "distributions": [_clean_distribution(d) for d in self.distributions][:50],
            "country": self.country,
            "harvest": {
                "source": source.name,
                "source_url": source.url,
                "original_id": self.original_id,
                "original_url": self.original_url,
                "publisher": self.publisher,
                "modified": self.modified,
            },
        }
        return meta

    def columns(self) -> dict[str, Any]:
        """Column roles of a peer's protected cube (dimensions only; there are no records here)."""
        cols = (self.cube or {}).get("columns") or {}
        return {
            _clip(name, 200): (
                {"role": "dimension", "dimension": dim} if dim else {"role": "dimension"}
            )
            for name, dim in cols.items()
        }

    def content_hash(self) -> str:
        return hashlib.sha256(
            json.dumps(asdict(self), sort_keys=True, default=str).encode()
        ).hexdigest()


@dataclass
class Offer:
    """One dataset a source lists: parsed into an item, or why it could not be."""

    original_id: str
    item: HarvestedItem | None = None
    error: str | None = None


def _clip(value: Any, n: int) -> str:
    return str(value)[:n]


def _texts(values: dict[str, str] | None, n: int) -> dict[str, str]:
    out = {}
    for lang, text in (values or {}).items():
        if text and str(text).strip():
            out[_clip(lang, 10) or "en"] = _clip(str(text).strip(), n)
    return out


_DIST_KEYS = ("title", "format", "media_type", "access_url", "download_url", "description")


def _clean_distribution(d: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key in _DIST_KEYS:
        value = d.get(key)
        if value is None:
            continue
        value = _clip(value, 2000)
        if key.endswith("_url") and not re.match(r"^https?://", value):
            continue  # only web links are republished (no javascript:, data:, file:)
        out[key] = value
    return out


_LICENCE_ALIASES = {
    "cc-by": "CC-BY-4.0",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa": "CC-BY-SA-4.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-zero": "CC0-1.0",
    "cc0": "CC0-1.0",
    "cc0-1.0": "CC0-1.0",
    "odc-odbl": "ODbL-1.0",
    "odbl": "ODbL-1.0",
    "odbl-1.0": "ODbL-1.0",
    "odc-by": "ODC-BY-1.0",
    "odc-by-1.0": "ODC-BY-1.0",
    "odc-pddl": "PDDL-1.0",
    "pddl": "PDDL-1.0",
    "pddl-1.0": "PDDL-1.0",
}


def normalise_licence(value: str | None) -> str | None:
    """A known licence id for a CKAN licence id, SPDX id or licence URL; else the value as given."""
    if not value:
        return None
    value = str(value).strip()[:300]
    if value in LICENCES:
        return value
    low = value.lower()
    if low in _LICENCE_ALIASES:
        return _LICENCE_ALIASES[low]
    for lic_id, lic in LICENCES.items():
        if low.rstrip("/").replace("https://", "http://") == lic["url"].lower().rstrip("/").replace(
            "https://", "http://"
        ):
            return lic_id
    return value


def _publisher_org(
    session: Session, source: HarvestSource, publisher: dict[str, str]
) -> Organisation:
    """The local organisation standing for a remote publisher (namespaced by source)."""
    remote = slugify(publisher.get("slug") or publisher.get("name") or "", max_length=60)
    slug = f"{source.name}-{remote}" if remote else source.name
    slug = slug[:100].strip("-")
    if len(slug) < 3:
        slug = f"{slug}-org"
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    name = _clip(publisher.get("name") or source.title or source.name, 300)
    kind = (
        publisher.get("kind")
        if publisher.get("kind") in {k.value for k in OrganisationKind}
        else OrganisationKind.CSO.value
    )
    if org is None:
        org = Organisation(
            slug=slug,
            name=name,
            kind=kind,
            description=f"Publisher harvested from {source.title or source.name} ({source.url}).",
        )
        session.add(org)
        session.flush()
    elif org.name != name:
        org.name = name
    return org


def upsert_harvested(
    session: Session, source: HarvestSource, item: HarvestedItem, *, now: datetime | None = None
) -> tuple[str, Dataset]:
    """Create or update the local record of a harvested dataset.

    Returns ``(outcome, dataset)`` with outcome ``created``, ``updated`` or
    ``unchanged``.  A dataset withdrawn earlier and offered again is published again.
    """
    now = now or datetime.now(UTC)
    if not item.original_id or len(item.original_id) > 500:
        raise InvalidInput(
            "The source's identifier of this dataset is empty or longer than 500 characters.",
            [
                Problem(
                    "invalid_identifier",
                    "Identifier must be 1-500 characters.",
                    field="original_id",
                )
            ],
            code="invalid_identifier",
        )
    digest = item.content_hash()
    record = session.scalar(
        select(HarvestedDataset).where(
            HarvestedDataset.source_id == source.id,
            HarvestedDataset.original_id == item.original_id,
        )
    )
    meta = item.metadata(source)
    org = _publisher_org(session, source, item.publisher)
    if record is None:
        dataset = Dataset(
            slug=dataset_service._unique_slug(
                session, f"{source.name}-{item.name or item.original_id}", max_length=90
            ),
            organisation=org,
            metadata_=meta,
            source=source.name,
        )
        session.add(dataset)
        session.flush()
        version = DatasetVersion(
            dataset=dataset,
            number=1,
            status=VersionStatus.AWAITING_APPROVAL.value,
            metadata_=meta,
            record_count=item.record_count,
            columns=item.columns(),
        )
        session.add(version)
        session.flush()
        dataset_service.mark_published(session, version)
        session.add(
            HarvestedDataset(
                source_id=source.id,
                dataset_id=dataset.id,
                original_id=item.original_id,
                original_url=item.original_url,
                content_hash=digest,
                first_harvested_at=now,
                last_harvested_at=now,
            )
        )
        session.flush()
        return "created", dataset

    dataset = record.dataset
    record.last_harvested_at = now
    reappeared = (
        record.withdrawn_at is not None or dataset.withdrawn or dataset.published_version_id is None
    )
    if record.content_hash == digest and not reappeared:
        return "unchanged", dataset
    record.content_hash = digest
    record.original_url = item.original_url
    record.withdrawn_at = None
    dataset.metadata_ = meta
    dataset.organisation = org
    if reappeared:
        number = (
            session.scalar(
                select(func.max(DatasetVersion.number)).where(
                    DatasetVersion.dataset_id == dataset.id
                )
            )
            or 0
        ) + 1
        version = DatasetVersion(
            dataset=dataset,
            number=number,
            status=VersionStatus.AWAITING_APPROVAL.value,
            metadata_=meta,
            record_count=item.record_count,
            columns=item.columns(),
        )
        session.add(version)
        session.flush()
        dataset_service.mark_published(session, version)
    else:
        version = dataset.published_version
        version.metadata_ = meta
        version.record_count = item.record_count
        version.columns = item.columns()
    dataset.updated_at = now
    return "updated", dataset


def withdraw_missing(
    session: Session, source: HarvestSource, seen: set[str]
) -> list[tuple[Dataset, str]]:
    """Withdraw every dataset of ``source`` that the source no longer offers.

    Returns ``(dataset, original_id)`` for each one withdrawn.
    """
    out = []
    records = session.scalars(
        select(HarvestedDataset)
        .options(selectinload(HarvestedDataset.dataset))
        .where(HarvestedDataset.source_id == source.id, HarvestedDataset.withdrawn_at.is_(None))
    ).all()
    now = datetime.now(UTC)
    for record in records:
        if record.original_id in seen:
            continue
        dataset = record.dataset
        version = dataset.published_version
        if version is not None:
            dataset_service.mark_withdrawn(session, version)
        dataset.withdrawn = True
        dataset.published_version_id = None
        record.withdrawn_at = now
        out.append((dataset, record.original_id))
    return out


def provenance_for(session: Session, dataset_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Provenance of the harvested datasets among ``dataset_ids`` (local ones are absent)."""
    rows = []
    for i in range(0, len(dataset_ids), 500):
        rows += session.execute(
            select(HarvestedDataset, HarvestSource)
            .join(HarvestSource, HarvestSource.id == HarvestedDataset.source_id)
            .where(HarvestedDataset.dataset_id.in_(dataset_ids[i : i + 500]))
        ).all()
    return {
        rec.dataset_id: {
            "source": src.name,
            "source_title": src.title,
            "source_url": src.url,
            "source_kind": src.kind,
            "original_id": rec.original_id,
            "original_url": rec.original_url,
            "last_harvested": rec.last_harvested_at.isoformat() if rec.last_harvested_at else None,
        }
        for rec, src in rows
    }


def harvested_datasets(session: Session, source: HarvestSource) -> list[HarvestedDataset]:
    return list(
        session.scalars(select(HarvestedDataset).where(HarvestedDataset.source_id == source.id))
    )
