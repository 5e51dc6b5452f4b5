"""Ingest a file from the command line: check everything first, then write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from catalog.models import Dataset
from catalog.principal import system
from catalog.services import datasets as dataset_service
from catalog.services import organisations
from catalog.services.jobs import get_job
from indexer.pipeline import column_specs
from indexer.readers import pull_submissions, read_table
from indexer.validate import validate_table
from schema.errors import CGDError, Conflict
from schema.metadata import load_metadata


def check_target(
    rt, org_slug: str, metadata: dict[str, Any], dataset_ref: str | None = None
) -> dict[str, Any]:
    """Check the metadata, the organisation and the dataset (if named) before anything is
    written; return the metadata normalised."""
    clean = load_metadata(metadata)
    with rt.db.session() as session:
        org = organisations.get_organisation(session, org_slug)
        if (
            dataset_ref is not None
            and dataset_service.find_dataset(session, dataset_ref).organisation_id != org.id
        ):
            raise Conflict(
                f"The dataset {dataset_ref!r} belongs to another organisation.",
                code="wrong_organisation",
            )
    return clean


def ingest_file(
    rt,
    path: Path,
    org_slug: str,
    metadata: dict[str, Any],
    *,
    publish: bool,
    dataset_ref: str | None = None,
) -> dict[str, Any]:
    """Validate the organisation, metadata and file before anything is written; then ingest.

    ``dataset_ref`` (id or slug) adds the file as a new version of that dataset;
    otherwise the metadata's slug names an existing dataset, or one is created.
    """
    principal = system("cli")
    clean = check_target(rt, org_slug, metadata, dataset_ref)
    df = read_table(path, filename=path.name)
    validate_table(df, column_specs(df, clean.get("columns") or {}), filename=path.name)

    with rt.db.session() as session:
        existing = None
        if dataset_ref is not None:
            existing = dataset_service.find_dataset(session, dataset_ref)
        elif clean.get("slug"):
            existing = session.scalar(select(Dataset).where(Dataset.slug == clean["slug"]))
        if existing is not None:
            dataset = dataset_service.update_metadata(session, principal, existing, metadata)
        else:
            dataset = dataset_service.create_dataset(session, principal, org_slug, metadata)
        dataset_id = dataset.id
        key = f"datasets/{dataset_id}/uploads/{path.name}"
    # The file is stored before the version row is committed, so a job never
    # sees a version without its file.
    rt.files.save_file(key, path)
    with rt.db.session() as session:
        dataset = dataset_service.get_dataset(session, dataset_id, principal)
        version, job = dataset_service.create_version(
            session, principal, dataset, filename=path.name, raw_path=key, auto_publish=False
        )
        version_id = version.id
        if publish:
            version.free_text_approved = True
        job_id = job.id
    # Inline runner: the ingest job has run by now.
    with rt.db.session() as session:
        job = get_job(session, job_id)
        if job.status == "failed":
            raise CGDError(
                job.error.get("message", "ingest failed"),
                code=job.error.get("code", "ingest_failed"),
            )
        result = {
            "dataset": dataset_id,
            "version": version_id,
            "job": job_id,
            "status": "awaiting_approval",
        }
        if publish:
            version = dataset_service.get_version(session, version_id)
            publish_job = dataset_service.request_publish(
                session, principal, version, approve_free_text=True
            )
            result["publish_job"] = publish_job.id
    if publish:
        with rt.db.session() as session:
            job = get_job(session, result["publish_job"])
            if job.status == "failed":
                raise CGDError(job.error.get("message", "publish failed"), code="publish_failed")
        result["status"] = "published"
    with rt.db.session() as session:
        result["slug"] = dataset_service.get_dataset(session, dataset_id, principal).slug
    return result


def pull_from_kobo(
    rt,
    server: str,
    asset: str,
    token: str,
    org_slug: str,
    metadata: dict[str, Any],
    *,
    publish: bool,
    dataset_ref: str | None = None,
) -> dict[str, Any]:
    """Pull a KoboToolbox form's submissions and ingest them as :func:`ingest_file` does.

    The organisation, metadata and dataset are checked before Kobo is asked, and
    the pull is complete before anything is written, so a failure (unreachable
    server, refused token or address) leaves the catalogue as it was. The
    submissions are staged in the private file store and removed once ingested;
    the token is used for the pull only and stored nowhere.
    """
    check_target(rt, org_slug, metadata, dataset_ref)
    df = pull_submissions(
        server, asset, token, allow_private=bool(rt.config.get("HARVEST_ALLOW_PRIVATE"))
    )
    staging = f"incoming/{uuid.uuid4().hex}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = rt.files.path(f"{staging}/kobo-{asset}-{stamp}.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        df.write_csv(path)
        result = ingest_file(rt, path, org_slug, metadata, publish=publish, dataset_ref=dataset_ref)
    finally:
        rt.files.delete_prefix(staging)
    return result | {"submissions": df.height}
