"""REST upload API, /api/v1: datasets, versions (uploads), jobs, reports, publish, withdraw.

Only bearer tokens act here (personal access tokens or OAuth2 tokens); the
portal's session cookie does not, so the API needs no CSRF token. Every rule
of who may do what is in the catalogue services.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from api import json_bodies
from api.context import current_principal, runtime
from api.rest import uploads
from api.rest.common import acting, iso, json_body, max_upload_bytes, register_error_handlers
from api.rest.schemas import (
    DatasetCreateSchema,
    PublishSchema,
    UploadCreateSchema,
)
from catalog.models import Dataset, DatasetVersion, Job, Organisation
from catalog.permissions import authorize
from catalog.services import datasets as dataset_service
from catalog.services import jobs as job_service
from indexer.storage import FileTooLarge
from schema.errors import InvalidInput, Problem

bp = Blueprint("rest", __name__, url_prefix="/api/v1")


# --- representations -------------------------------------------------------


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "slug": dataset.slug,
        "organisation": dataset.organisation.slug,
        "title": dataset.title(),
        "published_version": dataset.published_version_id,
        "withdrawn": dataset.withdrawn,
        "metadata": dataset.metadata_,
        "versions": [
            {"id": v.id, "number": v.number, "status": v.status} for v in dataset.versions
        ],
    }


def version_json(version: DatasetVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "dataset": version.dataset_id,
        "number": version.number,
        "status": version.status,
        "filename": version.filename,
        "record_count": version.record_count or 0,
        "created_at": iso(version.created_at),
        "published_at": iso(version.published_at),
        "withdrawn_at": iso(version.withdrawn_at),
        "error": version.error,
    }


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress or 0,
        "result": job.result,
        "error": job.error,
        "version": (job.payload or {}).get("version_id"),
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


# --- input -----------------------------------------------------------------


def _columns_field(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json_bodies.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise InvalidInput(
            "columns must be a JSON object of column name -> object.",
            [Problem("invalid_columns", "Not a JSON object of objects.", field="columns")],
        )
    return value


def _private_version(session, version_id: str) -> DatasetVersion:
    version = dataset_service.get_version(session, version_id)
    authorize(session, current_principal(), "dataset.read_private", version.dataset.organisation_id)
    return version


def _chunk_bytes() -> int:
    return uploads.chunk_bytes(current_app.config)


register_error_handlers(bp)


# --- endpoints -------------------------------------------------------------


@bp.get("/me")
def me():
    """Who the token acts as: its scopes and organisations."""
    principal = current_principal()
    orgs = None
    if principal.organisation_ids is not None:
        with runtime().db.session() as session:
            orgs = sorted(
                session.scalars(
                    select(Organisation.slug).where(Organisation.id.in_(principal.organisation_ids))
                )
            )
    return jsonify(
        {
            "kind": principal.kind,
            "user_id": principal.user_id,
            "client_id": principal.client_id,
            "scopes": sorted(principal.scopes) if principal.scopes is not None else None,
            "organisations": orgs,
        }
    )


@bp.post("/datasets")
def create_dataset():
    """Create a dataset (no data yet) with metadata of the CGD standard."""
    body = json_body(DatasetCreateSchema())
    with acting() as (session, principal):
        dataset = dataset_service.create_dataset(
            session, principal, body["organisation"], body["metadata"]
        )
        return jsonify(dataset_json(dataset)), 201


@bp.get("/datasets/<ref>")
def get_dataset(ref: str):
    """A dataset; unpublished ones only with datasets:read-private in its organisation."""
    with acting() as (session, principal):
        dataset = dataset_service.get_dataset(session, ref, principal)
        return jsonify(dataset_json(dataset))


def _register_version(session, dataset: Dataset, *, filename: str, raw_key: str, columns):
    version, job = dataset_service.create_version(
        session, current_principal(), dataset, filename=filename, raw_path=raw_key, columns=columns
    )
    return {"version": version_json(version), "job": job_json(job)}


@bp.post("/datasets/<ref>/versions")
def upload_version(ref: str):
    """Upload a new version in one multipart request (field ``file``); queues its ingest."""
    principal = current_principal()
    files = runtime().files
    with runtime().db.session() as session:
        dataset = dataset_service.find_dataset(session, ref)
        # Refuse before reading the body into the store.
        authorize(session, principal, "version.upload", dataset.organisation_id)
        dataset_id = dataset.id
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(
            "Send the data as a multipart field named 'file'.",
            [Problem("required", "Missing file.", field="file")],
        )
    filename = uploads.store_filename(upload.filename)
    columns = _columns_field(request.form.get("columns"))
    key = f"datasets/{dataset_id}/uploads/{secrets.token_hex(8)}/{filename}"
    try:
        files.save_stream(key, upload.stream, max_bytes=max_upload_bytes())
    except FileTooLarge as exc:
        raise uploads.TooLarge(exc.limit) from None
    with runtime().db.session() as session:
        dataset = dataset_service.find_dataset(session, dataset_id)
        body = _register_version(session, dataset, filename=filename, raw_key=key, columns=columns)
    return jsonify(body), 202


@bp.post("/datasets/<ref>/uploads")
def start_upload(ref: str):
    """Start a resumable upload: announce the file name and size, then PUT chunks."""
    body = json_body(UploadCreateSchema())
    with acting() as (session, principal):
        dataset = dataset_service.find_dataset(session, ref)
        authorize(session, principal, "version.upload", dataset.organisation_id)
        upload = uploads.start(
            runtime().files,
            dataset_id=dataset.id,
            organisation_id=dataset.organisation_id,
            actor=principal.actor,
            filename=uploads.store_filename(body["filename"]),
            size=body["size"],
            columns=body.get("columns"),
            max_bytes=max_upload_bytes(),
        )
    return jsonify(_upload_json(upload)), 201


def _upload_json(upload: uploads.Upload) -> dict[str, Any]:
    return {
        "id": upload.id,
        "dataset": upload.dataset_id,
        "filename": upload.filename,
        "size": upload.size,
        "received": upload.received,
        "chunk_size": _chunk_bytes(),
        "complete": upload.complete,
    }


def _own_upload(upload_id: str) -> uploads.Upload:
    principal = current_principal()
    upload = uploads.load(runtime().files, upload_id, principal.actor)
    with runtime().db.session() as session:
        # Still allowed? (The token may have been narrowed or the person's role changed.)
        authorize(session, principal, "version.upload", upload.organisation_id)
    return upload


@bp.get("/uploads/<upload_id>")
def upload_status(upload_id: str):
    """How much of a resumable upload has arrived (to resume after a broken connection)."""
    return jsonify(_upload_json(_own_upload(upload_id)))


@bp.put("/uploads/<upload_id>")
def upload_chunk(upload_id: str):
    """Append one chunk (``Content-Range: bytes START-END/TOTAL``) at the current end."""
    upload = _own_upload(upload_id)
    length = request.content_length
    if length is None or length <= 0:
        raise InvalidInput(
            "Send the chunk as the request body.",
            [Problem("required", "Empty chunk.", field="body")],
        )
    if length > _chunk_bytes():
        raise uploads.TooLarge(_chunk_bytes())
    start_at = uploads.parse_content_range(request.headers.get("Content-Range"), length, upload)
    upload = uploads.append(
        runtime().files, upload, request.stream, start_at=start_at, chunk_limit=_chunk_bytes()
    )
    return jsonify(_upload_json(upload))


@bp.post("/uploads/<upload_id>/complete")
def complete_upload(upload_id: str):
    """Finish a resumable upload: the file becomes a new version and its ingest is queued."""
    upload = _own_upload(upload_id)
    key = f"datasets/{upload.dataset_id}/uploads/{upload.id}/{upload.filename}"
    uploads.finish(runtime().files, upload, key)
    with runtime().db.session() as session:
        dataset = dataset_service.find_dataset(session, upload.dataset_id)
        body = _register_version(
            session, dataset, filename=upload.filename, raw_key=key, columns=upload.columns or None
        )
    return jsonify(body), 202


@bp.get("/jobs/<job_id>")
def job_status(job_id: str):
    """A job's status, progress, result or error (private to its organisation)."""
    with acting() as (session, principal):
        job = job_service.get_job(session, job_id)
        authorize(session, principal, "dataset.read_private", job.organisation_id)
        return jsonify(job_json(job))


@bp.get("/versions/<version_id>")
def get_version(version_id: str):
    """A version's state (private to its organisation)."""
    with runtime().db.session() as session:
        return jsonify(version_json(_private_version(session, version_id)))


def _report(version_id: str, which: str):
    with runtime().db.session() as session:
        version = _private_version(session, version_id)
        return jsonify(
            {
                "version": version.id,
                "status": version.status,
                "report": getattr(version, which) or {},
            }
        )


@bp.get("/versions/<version_id>/validation-report")
def validation_report(version_id: str):
    """What validation found: each problem with its row, column and message."""
    return _report(version_id, "validation_report")


@bp.get("/versions/<version_id>/anonymisation-report")
def anonymisation_report(version_id: str):
    """What anonymisation did: dropped, scrubbed, generalised, suppressed; residual risk."""
    return _report(version_id, "disclosure_report")


@bp.post("/versions/<version_id>/publish")
def publish(version_id: str):
    """Approve an anonymised version and queue its publication."""
    body = json_body(PublishSchema(), empty_ok=True)
    with acting() as (session, principal):
        version = dataset_service.get_version(session, version_id)
        job = dataset_service.request_publish(
            session, principal, version, approve_free_text=body["approve_free_text"]
        )
        return jsonify(job_json(job)), 202


@bp.post("/versions/<version_id>/withdraw")
def withdraw(version_id: str):
    """Withdraw a version (e.g. consent withdrawn); a public one leaves the portal."""
    with acting() as (session, principal):
        version = dataset_service.get_version(session, version_id)
        job = dataset_service.withdraw_version(session, principal, version)
        return jsonify(job_json(job)), 202


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API."""
    from api.rest.openapi import openapi_document

    return jsonify(openapi_document())
