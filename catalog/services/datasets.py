"""Datasets and their versions: create, describe, upload, approve, publish, withdraw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slugify import slugify
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Dataset, DatasetVersion, Job, Organisation, VersionStatus
from catalog.permissions import authorize, can
from catalog.principal import Principal
from catalog.services import audit, jobs
from catalog.services.organisations import get_organisation
from schema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from schema.metadata import load_metadata

PUBLIC_STATES = {VersionStatus.PUBLISHED.value}


def _unique_slug(session: Session, wanted: str, *, max_length: int = 80) -> str:
    base = slugify(wanted, max_length=max_length) or "dataset"
    slug, n = base, 1
    while session.scalar(select(Dataset.id).where(Dataset.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def find_dataset(session: Session, ref: str) -> Dataset:
    """Any dataset by id or slug, whatever its state: for write actions, whose own service
    call decides whether the caller may act (so an unknown and a forbidden dataset differ
    only where the caller may know it exists)."""
    dataset = session.scalar(select(Dataset).where((Dataset.id == ref) | (Dataset.slug == ref)))
    if dataset is None:
        raise NotFound(f"No dataset {ref!r}.", code="dataset_not_found")
    return dataset


def get_dataset(session: Session, ref: str, principal: Principal | None = None) -> Dataset:
    """A dataset by id or slug. Without read-private rights only published datasets are found."""
    dataset = session.scalar(
        select(Dataset)
        .options(selectinload(Dataset.versions), selectinload(Dataset.organisation))
        .where((Dataset.id == ref) | (Dataset.slug == ref))
    )
    if dataset is None:
        raise NotFound(f"No dataset {ref!r}.", code="dataset_not_found")
    if dataset.published_version_id is None or dataset.withdrawn:
        if principal is None or not can(
            session, principal, "dataset.read_private", dataset.organisation_id
        ):
            raise NotFound(f"No dataset {ref!r}.", code="dataset_not_found")
    return dataset


#: The public rule as column conditions: a published version, not withdrawn.
PUBLISHED = (Dataset.published_version_id.is_not(None), Dataset.withdrawn.is_(False))


def list_published(session: Session, *, limit: int = 100, offset: int = 0) -> list[Dataset]:
    return list(
        session.scalars(
            select(Dataset)
            .options(selectinload(Dataset.organisation))
            .where(*PUBLISHED)
            .order_by(Dataset.updated_at.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def count_published(session: Session) -> int:
    return session.scalar(select(func.count(Dataset.id)).where(*PUBLISHED)) or 0


def latest_published_change(session: Session) -> datetime | None:
    """When a public dataset last changed (its update, or its creation if never updated)."""
    row = session.execute(
        select(Dataset.updated_at, Dataset.created_at)
        .where(*PUBLISHED)
        .order_by(func.coalesce(Dataset.updated_at, Dataset.created_at).desc())
        .limit(1)
    ).first()
    return (row[0] or row[1]) if row else None


def create_dataset(
    session: Session, principal: Principal, organisation_slug: str, metadata: dict[str, Any]
) -> Dataset:
    """Create a dataset (no data yet) with metadata validated against the CGD standard."""
    org: Organisation = get_organisation(session, organisation_slug)
    authorize(session, principal, "dataset.create", org.id)
    clean = load_metadata(metadata)
    wanted = clean.get("slug") or clean["title"].get("en") or next(iter(clean["title"].values()))
    if clean.get("slug") and session.scalar(
        select(Dataset.id).where(Dataset.slug == clean["slug"])
    ):
        raise Conflict(f"The slug {clean['slug']!r} is taken.", code="slug_taken")
    dataset = Dataset(slug=_unique_slug(session, wanted), organisation=org, metadata_=clean)
    session.add(dataset)
    session.flush()
    audit.record(
        session, principal, "dataset.create", "dataset", dataset.id, organisation_id=org.id
    )
    return dataset


def update_metadata(
    session: Session, principal: Principal, dataset: Dataset, metadata: dict[str, Any]
) -> Dataset:
    authorize(session, principal, "dataset.update", dataset.organisation_id)
    dataset.metadata_ = load_metadata(metadata)
    audit.record(
        session,
        principal,
        "dataset.update",
        "dataset",
        dataset.id,
        organisation_id=dataset.organisation_id,
    )
    return dataset


def create_version(
    session: Session,
    principal: Principal,
    dataset: Dataset,
    *,
    filename: str,
    raw_path: str,
    columns: dict[str, Any] | None = None,
    auto_publish: bool = False,
) -> tuple[DatasetVersion, Job]:
    """Register an uploaded file as a new draft version and queue its ingest job."""
    authorize(session, principal, "version.upload", dataset.organisation_id)
    if auto_publish:
        authorize(session, principal, "version.publish", dataset.organisation_id)
    number = (
        session.scalar(
            select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id)
        )
        or 0
    ) + 1
    version = DatasetVersion(
        dataset=dataset,
        number=number,
        status=VersionStatus.PROCESSING.value,
        filename=filename,
        raw_path=raw_path,
        columns=columns or dataset.metadata_.get("columns") or {},
        metadata_=dataset.metadata_,
        created_by_id=principal.user_id,
    )
    session.add(version)
    session.flush()
    job = jobs.enqueue(
        session,
        principal,
        "ingest",
        {"version_id": version.id, "auto_publish": auto_publish},
        organisation_id=dataset.organisation_id,
    )
    audit.record(
        session,
        principal,
        "version.upload",
        "dataset_version",
        version.id,
        organisation_id=dataset.organisation_id,
        filename=filename,
        job_id=job.id,
    )
    return version, job


def get_version(session: Session, version_id: str) -> DatasetVersion:
    version = session.get(DatasetVersion, version_id)
    if version is None:
        raise NotFound(f"No version {version_id!r}.", code="version_not_found")
    return version


def request_publish(
    session: Session,
    principal: Principal,
    version: DatasetVersion,
    *,
    approve_free_text: bool = False,
) -> Job:
    """Approve an anonymised version and queue its publication."""
    dataset = version.dataset
    authorize(session, principal, "version.publish", dataset.organisation_id)
    if version.status != VersionStatus.AWAITING_APPROVAL.value:
        raise Conflict(
            f"Version {version.number} is {version.status}; only a version awaiting approval "
            "can be published.",
            code="invalid_state",
        )
    has_free_text = any(
        (c or {}).get("role") == "free_text" for c in (version.columns or {}).values()
    )
    if has_free_text and not (approve_free_text or version.free_text_approved):
        raise InvalidInput(
            "This version has free text: look at the scrubbed preview and approve it first.",
            [
                Problem(
                    "free_text_not_approved",
                    "Approve the scrubbed free text.",
                    field="approve_free_text",
                )
            ],
            code="free_text_not_approved",
        )
    version.free_text_approved = version.free_text_approved or approve_free_text
    job = jobs.enqueue(
        session,
        principal,
        "publish",
        {"version_id": version.id},
        organisation_id=dataset.organisation_id,
    )
    audit.record(
        session,
        principal,
        "version.approve",
        "dataset_version",
        version.id,
        organisation_id=dataset.organisation_id,
        job_id=job.id,
    )
    return job


def withdraw_version(session: Session, principal: Principal, version: DatasetVersion) -> Job:
    """Withdraw a version (e.g. consent withdrawn); if it is the public one, the dataset goes dark."""
    dataset = version.dataset
    authorize(session, principal, "version.withdraw", dataset.organisation_id)
    if version.status == VersionStatus.WITHDRAWN.value:
        raise Conflict("This version is already withdrawn.", code="invalid_state")
    job = jobs.enqueue(
        session,
        principal,
        "withdraw",
        {"version_id": version.id},
        organisation_id=dataset.organisation_id,
    )
    audit.record(
        session,
        principal,
        "version.withdraw",
        "dataset_version",
        version.id,
        organisation_id=dataset.organisation_id,
        job_id=job.id,
    )
    return job


# State transitions made by the pipeline (acting as the system). They are here so that
# every change of a version's state goes through the catalogue.


def mark_processed(
    session: Session,
    version: DatasetVersion,
    *,
    records_path: str,
    record_count: int,
    columns: dict[str, Any],
    validation_report: dict,
    disclosure_report: dict,
) -> None:
    version.records_path = records_path
    version.record_count = record_count
    version.columns = columns
    version.validation_report = validation_report
    version.disclosure_report = disclosure_report
    version.status = VersionStatus.AWAITING_APPROVAL.value
    version.error = None


def mark_failed(session: Session, version: DatasetVersion, error: dict) -> None:
    version.status = VersionStatus.FAILED.value
    version.error = error


def mark_published(session: Session, version: DatasetVersion) -> None:
    dataset = version.dataset
    now = datetime.now(UTC)
    for other in dataset.versions:
        if other.id != version.id and other.status == VersionStatus.PUBLISHED.value:
            other.status = VersionStatus.SUPERSEDED.value
    version.status = VersionStatus.PUBLISHED.value
    version.published_at = now
    dataset.published_version_id = version.id
    dataset.withdrawn = False
    dataset.updated_at = now


def mark_withdrawn(session: Session, version: DatasetVersion) -> None:
    dataset = version.dataset
    version.status = VersionStatus.WITHDRAWN.value
    version.withdrawn_at = datetime.now(UTC)
    if dataset.published_version_id == version.id:
        dataset.published_version_id = None
        dataset.withdrawn = True


def ensure_editable(version: DatasetVersion) -> None:
    if version.status in PUBLIC_STATES:
        raise PermissionDenied("A published version cannot be changed; upload a new version.")
