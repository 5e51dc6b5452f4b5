"""Ingest, step by step: read -> validate -> anonymise -> (approve) -> publish.

Each step is a function over data; the job functions at the bottom wire them
to the catalogue, the file store and the search backend.  Nothing reaches the
search index before anonymisation, and the public version only changes in
``activate_version`` (one atomic switch).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from catalog.db import Database
from catalog.models import DatasetVersion, Job, VersionStatus
from catalog.services import datasets as dataset_service
from catalog.services import jobs as job_service
from indexer.disclosure import DisclosureConfig, PresidioRecogniser, anonymise, build_cube
from indexer.disclosure.hierarchy import PLACE_LEVELS
from indexer.documents import dataset_document
from indexer.readers import read_table
from indexer.search.base import SearchBackend
from indexer.storage import FileStore
from indexer.validate import ValidatedTable, coded_columns, measure_columns, validate_table
from schema.errors import CGDError
from schema.metadata import DEFAULT_CUBE_THRESHOLD
from schema.roles import ColumnSpec
from schema.suggest import suggest_roles

log = logging.getLogger(__name__)


@dataclass
class PipelineContext:
    """What the pipeline's jobs need, chosen once by configuration."""

    db: Database
    search: SearchBackend
    files: FileStore
    secret: bytes
    settings: dict[str, Any] = field(default_factory=dict)

    def cube_key(self, dataset_id: str) -> bytes:
        """The per-dataset secret behind cell-key perturbation (never published)."""
        return hmac.new(self.secret, f"cube:{dataset_id}".encode(), hashlib.sha256).digest()


def column_specs(df: pl.DataFrame, declared: dict[str, Any]) -> dict[str, ColumnSpec]:
    """Declared roles win; undeclared columns get the suggested role."""
    suggested = suggest_roles(df) if set(df.columns) - set(declared) else {}
    specs: dict[str, ColumnSpec] = {}
    for name in df.columns:
        if name in declared:
            specs[name] = ColumnSpec.from_dict(name, declared[name])
        else:
            specs[name] = suggested[name]
    return specs


def read_and_validate(
    path: str | os.PathLike, filename: str, declared: dict[str, Any]
) -> ValidatedTable:
    """Read an upload with its declared roles, map the roles and validate it.

    The roles being known before the read, the coded columns come as
    Categorical and the measures as numbers straight from a CSV parse
    (see :func:`indexer.readers.read_table`); undeclared columns get the
    suggested role (:func:`column_specs`).
    """
    df = read_table(
        path,
        filename=filename,
        categorical=coded_columns(declared),
        numeric=measure_columns(declared),
    )
    return validate_table(df, column_specs(df, declared), filename=filename)


def disclosure_config(settings: dict[str, Any]) -> DisclosureConfig:
    """Disclosure settings from the configuration.

    ``DISCLOSURE_K`` (5) and ``DISCLOSURE_K_SENSITIVE`` (10, for datasets with a
    sensitive topic) are the k of k-anonymity, ``DISCLOSURE_L`` (2) the l of
    l-diversity, ``DISCLOSURE_PLACE_LEVEL`` (district) and
    ``DISCLOSURE_DATE_LEVEL`` (month) the finest place and date published. A
    value out of range is an error naming its ``CGD_`` variable.

    ``DISCLOSURE_NER`` is empty (patterns, phonenumbers and the dataset's own
    identifier values only: no model) or ``presidio`` (Presidio with its spaCy
    model, which must be installed).
    """
    config = _checked_disclosure(settings)
    ner = str(settings.get("DISCLOSURE_NER") or "").strip().lower()
    if not ner:
        return config
    if ner != "presidio":
        raise CGDError(
            f"Unknown DISCLOSURE_NER {ner!r}; use 'presidio' or leave it empty.",
            code="invalid_configuration",
        )
    try:
        recogniser = PresidioRecogniser()
    except (ImportError, OSError) as exc:
        raise CGDError(
            f"DISCLOSURE_NER=presidio needs presidio-analyzer and a spaCy model installed ({exc}).",
            code="ner_unavailable",
        ) from exc
    return dataclasses.replace(config, recogniser=recogniser)


def _checked_disclosure(settings: dict[str, Any]) -> DisclosureConfig:
    defaults = DisclosureConfig()

    def whole(key: str, default: int, low: int) -> int:
        value = settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise CGDError(
                f"CGD_{key} must be a whole number of at least {low}, not {value!r}.",
                code="invalid_configuration",
            )
        return value

    k = whole("DISCLOSURE_K", defaults.k_default, 2)
    k_sensitive = whole("DISCLOSURE_K_SENSITIVE", defaults.k_sensitive, k)
    l_value = whole("DISCLOSURE_L", defaults.l, 1)
    place = str(settings.get("DISCLOSURE_PLACE_LEVEL") or defaults.place_level).strip().lower()
    if place not in PLACE_LEVELS:
        raise CGDError(
            f"CGD_DISCLOSURE_PLACE_LEVEL must be one of {', '.join(PLACE_LEVELS)}, not {place!r}.",
            code="invalid_configuration",
        )
    date = str(settings.get("DISCLOSURE_DATE_LEVEL") or defaults.date_level).strip().lower()
    if date not in ("month", "year"):
        raise CGDError(
            f"CGD_DISCLOSURE_DATE_LEVEL must be month or year, not {date!r}.",
            code="invalid_configuration",
        )
    return DisclosureConfig(
        k_default=k, k_sensitive=k_sensitive, l=l_value, place_level=place, date_level=date
    )


def ingest_version(ctx: PipelineContext, version_id: str) -> dict[str, Any]:
    """Read, validate and anonymise one uploaded version; store its safe records."""
    with ctx.db.session() as session:
        version = dataset_service.get_version(session, version_id)
        raw_path, filename = version.raw_path, version.filename
        declared = dict(version.columns or {})
        meta = dict(version.metadata_ or {})
        dataset_id = version.dataset_id

    validated = read_and_validate(ctx.files.path(raw_path), filename, declared)
    anonymised = anonymise(
        validated.df,
        validated.columns,
        sensitive_topics=meta.get("sensitive_topics") or [],
        country=meta.get("country") or "NP",
        config=disclosure_config(ctx.settings),
    )
    records_key = f"datasets/{dataset_id}/versions/{version_id}/records.parquet"
    target = ctx.files.path(records_key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    anonymised.records.write_parquet(tmp)
    tmp.replace(target)

    with ctx.db.session() as session:
        version = dataset_service.get_version(session, version_id)
        dataset_service.mark_processed(
            session,
            version,
            records_path=records_key,
            record_count=anonymised.records.height,
            columns={n: s.to_dict() for n, s in anonymised.columns.items()},
            validation_report=validated.report,
            disclosure_report=anonymised.report.to_dict(),
        )
    return {"records": anonymised.records.height}


def publish_version(ctx: PipelineContext, version_id: str) -> dict[str, Any]:
    """Build the protected cube, index records and cube, then switch the public version."""
    with ctx.db.session() as session:
        version = dataset_service.get_version(session, version_id)
        if version.status not in (
            VersionStatus.AWAITING_APPROVAL.value,
            VersionStatus.PUBLISHED.value,
        ):
            raise CGDError(
                f"Version is {version.status}, not ready to publish.", code="invalid_state"
            )
        if needs_free_text_approval(version):
            raise CGDError(
                "This version has free text the publisher has not approved; "
                "approve the scrubbed preview first.",
                code="free_text_not_approved",
            )
        dataset_id = version.dataset_id
        records_path = version.records_path
        columns = {n: ColumnSpec.from_dict(n, c) for n, c in (version.columns or {}).items()}
        threshold = int((version.metadata_ or {}).get("cube_threshold") or DEFAULT_CUBE_THRESHOLD)

    records = pl.read_parquet(ctx.files.path(records_path))
    cube = build_cube(records, columns, threshold=threshold, key_seed=ctx.cube_key(dataset_id))
    ctx.search.index_version(
        dataset_id, version_id, records, cube.cells, {n: c.to_dict() for n, c in columns.items()}
    )
    previous = None
    with ctx.db.session() as session:
        version = dataset_service.get_version(session, version_id)
        previous = version.dataset.published_version_id
        dataset_service.mark_published(session, version)
        ctx.search.activate_version(dataset_id, version_id)
        ctx.search.index_dataset(dataset_document(version.dataset, version))
    if previous and previous != version_id:
        ctx.search.drop_version(dataset_id, previous)
    return {"cells": len(cube.cells), "records": records.height}


def withdraw_version(ctx: PipelineContext, version_id: str) -> dict[str, Any]:
    """Take a version out of public view; if it was the public one, the dataset goes."""
    with ctx.db.session() as session:
        version = dataset_service.get_version(session, version_id)
        was_public = version.dataset.published_version_id == version_id
        dataset_id = version.dataset_id
        dataset_service.mark_withdrawn(session, version)
        if was_public:
            ctx.search.delete_dataset(dataset_id)
            ctx.search.drop_version(dataset_id, version_id)
    return {"was_public": was_public}


def reindex_all(ctx: PipelineContext) -> int:
    """Rebuild the whole search index from the catalogue into a fresh index, then switch."""
    from sqlalchemy import select

    from catalog.models import Dataset

    def items():
        with ctx.db.session() as session:
            datasets = session.scalars(
                select(Dataset).where(
                    Dataset.published_version_id.is_not(None), Dataset.withdrawn.is_(False)
                )
            ).all()
            for dataset in datasets:
                version = dataset.published_version
                if version is None or not version.records_path:
                    yield dataset_document(dataset, version), None, None, {}
                    continue
                columns = {
                    n: ColumnSpec.from_dict(n, c) for n, c in (version.columns or {}).items()
                }
                records = pl.read_parquet(ctx.files.path(version.records_path))
                threshold = int(
                    (version.metadata_ or {}).get("cube_threshold") or DEFAULT_CUBE_THRESHOLD
                )
                cube = build_cube(
                    records, columns, threshold=threshold, key_seed=ctx.cube_key(dataset.id)
                )
                yield (
                    dataset_document(dataset, version),
                    records,
                    cube.cells,
                    {n: c.to_dict() for n, c in columns.items()},
                )

    count = 0

    def counted():
        nonlocal count
        for item in items():
            count += 1
            yield item

    ctx.search.rebuild(counted())
    return count


def reindex_dataset(ctx: PipelineContext, dataset_id: str) -> dict[str, Any]:
    """Refresh one dataset's search document from the catalogue (e.g. after an endorsement)."""
    from catalog.models import Dataset

    with ctx.db.session() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.published_version is None or dataset.withdrawn:
            return {"indexed": False}
        ctx.search.index_dataset(dataset_document(dataset, dataset.published_version))
    return {"indexed": True}


JOB_FUNCTIONS = {
    "ingest": lambda ctx, p: _ingest_then_maybe_publish(ctx, p),
    "publish": lambda ctx, p: publish_version(ctx, p["version_id"]),
    "withdraw": lambda ctx, p: withdraw_version(ctx, p["version_id"]),
    "reindex": lambda ctx, p: {"datasets": reindex_all(ctx)},
    "harvest": lambda ctx, p: _harvest(ctx, p),
    "reindex_dataset": lambda ctx, p: reindex_dataset(ctx, p["dataset_id"]),
}


def needs_free_text_approval(version: DatasetVersion) -> bool:
    """Whether the version publishes free text its publisher has not yet approved.

    Free text is scrubbed by patterns, which can miss what a person would see
    (a nickname, a house described), so it is public only after the publisher
    has read the scrubbed preview and approved it.
    """
    has_free_text = any(
        (spec or {}).get("role") == "free_text" for spec in (version.columns or {}).values()
    )
    return has_free_text and not version.free_text_approved


def _harvest(ctx: PipelineContext, payload: dict[str, Any]) -> dict[str, Any]:
    from indexer.harvest import run_harvest  # imports the fetchers only when a harvest runs

    return run_harvest(ctx, payload["source_id"], payload["run_id"])


def _ingest_then_maybe_publish(ctx: PipelineContext, payload: dict[str, Any]) -> dict[str, Any]:
    result = ingest_version(ctx, payload["version_id"])
    if payload.get("auto_publish"):
        with ctx.db.session() as session:
            waiting = needs_free_text_approval(
                dataset_service.get_version(session, payload["version_id"])
            )
        if waiting:
            # auto-publish never skips the publisher's look at scrubbed free text
            result["awaiting_approval"] = "free_text"
        else:
            result.update(publish_version(ctx, payload["version_id"]))
    return result


def run_job(ctx: PipelineContext, job_id: str, *, claimed: bool = False) -> Job:
    """Run one job to the end (see ``indexer.jobs.execute``: retries, heartbeat, fencing)."""
    from indexer.jobs import execute

    execute(ctx, job_id, claimed=claimed)
    with ctx.db.session() as session:
        return job_service.get_job(session, job_id)


def _error_dict(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, CGDError):
        return exc.to_dict()
    return {"code": "internal_error", "message": "The job failed unexpectedly; it was logged."}
