"""The pipeline's side of disclosure control: approval before free text is public,
the report stored with the version, and the per-dataset cube threshold."""

from __future__ import annotations

import itertools

import pytest

from catalog.principal import system
from catalog.services import datasets
from indexer.pipeline import PipelineContext, publish_version
from schema.errors import CGDError, InvalidInput
from tests.disclosure.published import approve_and_publish, upload_survey


def _ctx(runtime) -> PipelineContext:
    return runtime.ctx


def test_auto_publish_stops_at_awaiting_approval_when_there_is_free_text(make_app):
    app = make_app()
    runtime = app.extensions["cgd"]
    up = upload_survey(runtime, auto_publish=True)
    assert up["job_status"] == "succeeded", up["job_error"]
    assert up["job_result"]["awaiting_approval"] == "free_text"
    client = app.test_client()
    with runtime.db.session() as s:
        version = datasets.get_version(s, up["version_id"])
        assert version.status == "awaiting_approval"
        assert version.dataset.published_version_id is None
    assert client.get(f"/datasets/{up['slug']}").status_code == 404
    assert runtime.search.records(up["dataset_id"]).rows == []
    assert runtime.search.active_version(up["dataset_id"]) is None


def test_free_text_is_published_only_after_the_publisher_approves_the_preview(make_app):
    app = make_app()
    runtime = app.extensions["cgd"]
    up = upload_survey(runtime)
    with runtime.db.session() as s:
        version = datasets.get_version(s, up["version_id"])
        preview = version.disclosure_report["free_text_preview"]
        assert preview and all("[" in item["text"] for item in preview)
        with pytest.raises(InvalidInput) as refused:
            datasets.request_publish(s, system(), version)
        assert refused.value.code == "free_text_not_approved"
    # the pipeline refuses too, whoever calls it
    with pytest.raises(CGDError) as refused:
        publish_version(_ctx(runtime), up["version_id"])
    assert refused.value.code == "free_text_not_approved"
    assert runtime.search.active_version(up["dataset_id"]) is None

    assert approve_and_publish(runtime, up["version_id"]) == "published"
    rows = runtime.search.records(up["dataset_id"], limit=100).rows
    assert rows and any("[NAME]" in (r.get("testimony") or "") for r in rows)
    assert app.test_client().get(f"/datasets/{up['slug']}").status_code == 200


def test_the_report_is_stored_with_the_version_with_everything_the_issue_lists(make_app):
    runtime = make_app().extensions["cgd"]
    up = upload_survey(runtime, rows=400)
    with runtime.db.session() as s:
        version = datasets.get_version(s, up["version_id"])
        report = version.disclosure_report
        record_count = version.record_count
    reasons = {d["column"]: d["reason"] for d in report["dropped"]}
    assert reasons["respondent_name"] == "declared_identifier"
    assert reasons["citizenship_no"] == "detected_identifier"
    assert reasons["_uuid"] == "collection_metadata"
    assert {"NAME", "PHONE", "EMAIL", "ID", "GPS", "URL", "DATE"} <= set(report["scrubbed"])
    assert any(g["step"] == "base" and g["column"] == "age" for g in report["generalisations"])
    assert report["suppressed_cells_total"] == sum(report["suppressed_cells"].values())
    assert report["records_in"] == report["records_out"] == record_count == 400
    assert report["records_dropped"] == 0
    assert report["k_target"] == 10 and report["k"] >= 10  # gbv is a sensitive topic
    assert report["l_target"] == 2 and report["l"] >= 2
    for side in ("risk_before", "risk_after"):
        assert {"expected_reidentifications", "global_risk", "max_individual_risk"} <= set(
            report[side]
        )
    assert (
        report["risk_after"]["expected_reidentifications"]
        < report["risk_before"]["expected_reidentifications"]
    )
    # what the report says was suppressed is exactly what is missing in the records
    records = runtime.files.path(
        f"datasets/{up['dataset_id']}/versions/{up['version_id']}/records.parquet"
    )
    import polars as pl

    published = pl.read_parquet(records)
    original = up["frame"]
    for column in report["quasi_identifiers"]:
        newly_null = published[column].is_null() & original[column].is_not_null()
        assert int(newly_null.sum()) == report["suppressed_cells"].get(column, 0), column


def test_cube_threshold_comes_from_the_dataset_and_is_never_below_five(make_app):
    runtime = make_app().extensions["cgd"]
    up = upload_survey(runtime, rows=400, cube_threshold=25)
    approve_and_publish(runtime, up["version_id"])
    with runtime.db.session() as s:
        dims = [
            n
            for n, c in datasets.get_version(s, up["version_id"]).columns.items()
            if c.get("role") in ("dimension", "quasi_identifier") and c.get("dimension")
        ]
    counts = []
    for by in itertools.chain.from_iterable(itertools.combinations(dims, r) for r in (1, 2)):
        for cell in runtime.search.cube(up["dataset_id"], by):
            assert cell["suppressed"] == (cell["count"] is None)
            if not cell["suppressed"]:
                counts.append(cell["count"])
    assert counts and min(counts) >= 25
    with pytest.raises(InvalidInput):
        upload_survey(runtime, org="other-org", cube_threshold=4)


def test_the_default_scrubber_needs_no_model_and_an_unavailable_ner_is_a_clear_error(make_app):
    from indexer.pipeline import disclosure_config

    assert disclosure_config({}).recogniser is None
    assert disclosure_config({"DISCLOSURE_NER": ""}).recogniser is None
    with pytest.raises(CGDError) as unknown:
        disclosure_config({"DISCLOSURE_NER": "magic"})
    assert unknown.value.code == "invalid_configuration"
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        runtime = make_app(DISCLOSURE_NER="presidio").extensions["cgd"]
        up = upload_survey(runtime, rows=50)
        assert up["job_status"] == "failed"
        assert up["job_error"]["code"] == "ner_unavailable"
