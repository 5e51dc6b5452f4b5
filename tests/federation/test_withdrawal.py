"""A withdrawn dataset (consent withdrawn) leaves every open format at once."""

from __future__ import annotations

import io
import json
import zipfile

import frictionless
import pytest

from .nodes import Node


@pytest.fixture
def node(tmp_path):
    n = Node(tmp_path, "withdraw")
    yield n
    n.close()


def test_withdrawn_dataset_is_gone_from_downloads_dcat_and_ckan(node, tmp_path):
    slug = node.publish_demo(tmp_path, rows=200)["slug"]
    client = node.app.test_client()
    urls = [
        f"/datasets/{slug}/{p}"
        for p in (
            "download.csv",
            "download.json",
            "datapackage.json",
            "datapackage.zip",
            "dcat.ttl",
        )
    ]
    assert all(client.get(u).status_code == 200 for u in urls)
    assert slug.encode() in client.get("/catalog.ttl").data

    node.withdraw(slug)

    assert [client.get(u).status_code for u in urls] == [404] * len(urls)
    assert slug.encode() not in client.get("/catalog.ttl").data
    assert client.get(f"/api/3/action/package_show?id={slug}").status_code == 404
    search = client.get("/api/3/action/package_search").get_json()["result"]
    assert search["count"] == 0
    assert client.get("/api/3/action/package_list").get_json()["result"] == []


def test_each_published_version_has_its_data_package_and_a_withdrawn_one_has_none(node, tmp_path):
    first = node.publish_demo(tmp_path, rows=150, seed=1, slug="village-survey")
    second = node.publish_demo(tmp_path, rows=180, seed=2, slug="village-survey")
    assert first["slug"] == second["slug"] == "village-survey"
    client = node.app.test_client()

    def rows(version: int) -> int:
        resp = client.get(f"/datasets/village-survey/versions/{version}/datapackage.zip")
        assert resp.status_code == 200
        path = tmp_path / f"v{version}.zip"
        path.write_bytes(resp.data)
        assert frictionless.validate(str(path)).valid
        with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
            descriptor = json.loads(zf.read("datapackage.json"))
            assert descriptor["version"] == f"{version}.0.0"
            return zf.read("records.csv").decode().count("\n") - 1

    assert 0 < rows(1) <= 150 and 150 < rows(2) <= 180
    assert client.get("/datasets/village-survey/versions/3/datapackage.zip").status_code == 404

    node.withdraw("village-survey")  # the public version (2) goes; the dataset goes dark
    assert client.get("/datasets/village-survey/versions/1/datapackage.zip").status_code == 404
