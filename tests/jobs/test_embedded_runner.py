"""The embedded job runner: ingest runs as a job in a worker thread, status readable."""

from __future__ import annotations

import time

from catalog.models import JobStatus
from catalog.principal import system
from catalog.services import datasets, organisations
from catalog.services.jobs import get_job
from indexer.synthetic import demo_metadata, generate_survey


def _wait(runtime, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.db.session() as s:
            job = get_job(s, job_id)
            if job.status in (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value):
                return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def _upload(runtime, tmp_path, content: bytes | None = None):
    with runtime.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata")
        ds = datasets.create_dataset(s, system(), "samata", demo_metadata())
        dataset_id = ds.id
    key = f"datasets/{dataset_id}/uploads/survey.csv"
    path = runtime.files.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        generate_survey(150, seed=5).write_csv(path)
    else:
        path.write_bytes(content)
    with runtime.db.session() as s:
        ds = datasets.get_dataset(s, dataset_id, system())
        version, job = datasets.create_version(s, system(), ds, filename="survey.csv", raw_path=key)
        return version.id, job.id


def test_ingest_job_runs_in_the_worker_thread_and_reports_status(make_app, database_url, tmp_path):
    app = make_app(database_url, JOB_RUNNER_OVERRIDE="embedded")
    runtime = app.extensions["cgd"]
    runtime.jobs.start()
    version_id, job_id = _upload(runtime, tmp_path)
    job = _wait(runtime, job_id)
    assert job.status == "succeeded", job.error
    assert job.result["records"] > 0 and job.progress == 100
    with runtime.db.session() as s:
        version = datasets.get_version(s, version_id)
        assert version.status == "awaiting_approval"
        assert "phone" not in version.columns and "respondent_name" not in version.columns
        publish = datasets.request_publish(s, system(), version, approve_free_text=True)
        publish_id = publish.id
    assert _wait(runtime, publish_id).status == "succeeded"
    with runtime.db.session() as s:
        assert datasets.get_version(s, version_id).status == "published"


def test_a_failed_ingest_is_recorded_with_its_problems(make_app, tmp_path):
    app = make_app(JOB_RUNNER_OVERRIDE="embedded")
    runtime = app.extensions["cgd"]
    runtime.jobs.start()
    version_id, job_id = _upload(runtime, tmp_path, content=b"\x00\x01\x02binary\xff" * 100)
    job = _wait(runtime, job_id)
    assert job.status == "failed"
    assert job.error["code"] and job.error["message"]
    with runtime.db.session() as s:
        version = datasets.get_version(s, version_id)
        assert version.status == "failed" and version.error["code"] == job.error["code"]
        assert version.dataset.published_version_id is None


def test_jobs_left_queued_are_picked_up_when_the_runner_starts(make_app, tmp_path):
    app = make_app(JOB_RUNNER_OVERRIDE="embedded")
    runtime = app.extensions["cgd"]
    _, job_id = _upload(runtime, tmp_path)  # runner not started: the job waits in the table
    with runtime.db.session() as s:
        assert get_job(s, job_id).status == "queued"
    runtime.jobs.start()
    assert _wait(runtime, job_id).status == "succeeded"
