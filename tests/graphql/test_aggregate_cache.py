"""Aggregates are built from inputs kept per catalogue generation: a change of the version's
columns committed by another process, or a withdrawal, shows in the next answer."""

from __future__ import annotations

import pytest

from catalog.models import Dataset, DatasetVersion
from catalog.principal import system
from catalog.services import datasets as dataset_service
from portal.app import create_app
from tests.conftest import app_config
from tests.portal.site import published_site

AGGREGATE = """query($ds: String!, $by: [String!]!) {
  aggregate(dataset: $ds, by: $by) { cells { count suppressed dimensions { column code } } }
}"""


@pytest.fixture
def two_workers(tmp_path):
    app, slug = published_site(tmp_path, rows=200)
    other = create_app(app_config(tmp_path), start_jobs=False)
    yield app, other, slug
    other.extensions["cgd"].close()
    app.extensions["cgd"].close()


def _aggregate(app, slug: str, by: list[str]) -> dict:
    resp = app.test_client().post(
        "/graphql", json={"query": AGGREGATE, "variables": {"ds": slug, "by": by}}
    )
    assert resp.status_code == 200
    return resp.get_json()


def test_a_column_change_committed_elsewhere_shows_in_the_next_aggregate(two_workers):
    app, other, slug = two_workers
    first = _aggregate(app, slug, ["sex"])
    assert "errors" not in first and first["data"]["aggregate"]["cells"]
    assert _aggregate(app, slug, ["sex"]) == first  # answered from the kept inputs
    with other.extensions["cgd"].db.session() as s:
        version = s.get(
            DatasetVersion, s.query(Dataset).filter_by(slug=slug).one().published_version_id
        )
        columns = {
            name: spec for name, spec in version.columns.items() if spec.get("dimension") != "sex"
        }
        assert len(columns) < len(version.columns)
        version.columns = columns  # as a harvest update rewrites a version's columns in place
    after = _aggregate(app, slug, ["sex"])
    assert after["errors"][0]["extensions"]["code"] == "invalid_aggregate"


def test_a_withdrawn_dataset_has_no_aggregate_at_once(two_workers):
    app, other, slug = two_workers
    assert "errors" not in _aggregate(app, slug, ["district"])
    rt = other.extensions["cgd"]
    with rt.db.session() as s:
        version = dataset_service.get_dataset(s, slug, system()).published_version
        dataset_service.withdraw_version(s, system(), version)
    gone = _aggregate(app, slug, ["district"])
    assert gone["data"] is None or gone["data"].get("aggregate") is None
    assert gone["errors"][0]["extensions"]["code"] == "dataset_not_found"
