"""Upload the seeded Kobo-style survey through the catalogue and the pipeline, as a publisher would."""

from __future__ import annotations

from typing import Any

import polars as pl

from catalog.principal import system
from catalog.services import datasets, organisations
from catalog.services.jobs import get_job
from indexer.synthetic import demo_metadata
from tests.disclosure.synthetic import kobo_survey


def upload_survey(
    runtime,
    *,
    rows: int = 300,
    seed: int = 11,
    auto_publish: bool = False,
    org: str = "samata",
    **metadata: Any,
) -> dict[str, Any]:
    """Create an organisation and a dataset, upload the survey; the inline runner ingests it.

    Returns the ids, the job's outcome, and the seeded personal data.
    """
    df, declared, seeded = kobo_survey(rows, seed=seed)
    meta = demo_metadata()
    meta.update({"columns": declared, "sensitive_topics": ["gbv"]}, **metadata)
    ids = upload_frame(runtime, df, meta, org=org, auto_publish=auto_publish)
    with runtime.db.session() as s:
        job = get_job(s, ids["job_id"])
        status, result, error = job.status, dict(job.result or {}), job.error
    return ids | {
        "job_status": status,
        "job_result": result,
        "job_error": error,
        "frame": df,
        "seeded": seeded,
    }


def upload_frame(
    runtime, df: pl.DataFrame, meta: dict[str, Any], *, org: str, auto_publish: bool = False
) -> dict[str, Any]:
    """Create an organisation and a dataset with ``meta``, upload ``df`` as survey.csv; the
    inline runner ingests it. Returns the dataset's id and slug, the version's and the job's."""
    with runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug=org, name="Samata Collective")
        dataset = datasets.create_dataset(s, system(), org, meta)
        dataset_id, slug = dataset.id, dataset.slug
    key = f"datasets/{dataset_id}/uploads/survey.csv"
    path = runtime.files.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(path)
    with runtime.db.session() as s:
        dataset = datasets.get_dataset(s, dataset_id, system())
        version, job = datasets.create_version(
            s, system(), dataset, filename="survey.csv", raw_path=key, auto_publish=auto_publish
        )
        return {"dataset_id": dataset_id, "slug": slug, "version_id": version.id, "job_id": job.id}


def approve_and_publish(runtime, version_id: str) -> str:
    """The publisher approves the scrubbed preview; returns the publish job's status."""
    with runtime.db.session() as s:
        version = datasets.get_version(s, version_id)
        job_id = datasets.request_publish(s, system(), version, approve_free_text=True).id
    with runtime.db.session() as s:
        job = get_job(s, job_id)
        assert job.status == "succeeded", job.error
        return datasets.get_version(s, version_id).status
