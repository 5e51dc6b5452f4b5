"""Ingest a file from the command line: check everything first, then write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from catalog.models import Dataset
from catalog.principal import system
from catalog.services import datasets as dataset_service
from catalog.services import organisations
from catalog.services.jobs import get_job
from indexer.pipeline import column_specs
from indexer.readers import read_table
from indexer.validate import validate_table
from schema.errors import CGDError
from schema.metadata import load_metadata


def ingest_file(rt, path: Path, org_slug: str, metadata: dict[str, Any], *, publish: bool) -> dict[str, Any]:
    """Validate the organisation, metadata and file before anything is written; then ingest."""
    principal = system("cli")
    clean = load_metadata(metadata)
    with rt.db.session() as session:
        organisations.get_organisation(session, org_slug)
    df = read_table(path, filename=path.name)
    validate_table(df, column_specs(df, clean.get("columns") or {}), filename=path.name)

    with rt.db.session() as session:
        existing = None
        if clean.get("slug"):
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
            raise CGDError(job.error.get("message", "ingest failed"), code=job.error.get("code", "ingest_failed"))
        result = {"dataset": dataset_id, "version": version_id, "job": job_id, "status": "awaiting_approval"}
        if publish:
            version = dataset_service.get_version(session, version_id)
            publish_job = dataset_service.request_publish(session, principal, version, approve_free_text=True)
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
