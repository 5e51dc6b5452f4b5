"""A withdrawn dataset (consent withdrawn) leaves every open format at once."""

from __future__ import annotations

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
