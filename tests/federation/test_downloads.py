"""CSV/JSON downloads (with an optional HXL row) and Frictionless Data Packages of the public version."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import frictionless
import polars as pl
import pytest

from indexer.synthetic import generate_survey


def _identifiers(seed: int, rows: int) -> set[str]:
    df = generate_survey(rows, seed=seed)
    return set(df["respondent_name"].to_list()) | set(df["phone"].to_list())


def test_csv_and_json_downloads_hold_only_anonymised_records(catalogue):
    client = catalogue.app.test_client()
    water = catalogue.published["water"]
    csv_resp = client.get(f"/datasets/{water['slug']}/download.csv")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    df = pl.read_csv(io.BytesIO(csv_resp.data), infer_schema_length=0)
    assert 0 < df.height <= 300
    assert "respondent_name" not in df.columns and "phone" not in df.columns
    records = client.get(f"/datasets/{water['slug']}/download.json").get_json()
    assert len(records) == df.height and set(records[0]) == set(df.columns)
    secrets = _identifiers(11, 300)
    for body in (csv_resp.data.decode(), json.dumps(records, ensure_ascii=False)):
        assert not [s for s in secrets if s in body]


def test_hxl_row_on_request(catalogue):
    client = catalogue.app.test_client()
    slug = catalogue.published["water"]["slug"]
    rows = list(
        csv.reader(io.StringIO(client.get(f"/datasets/{slug}/download.csv?hxl=1").data.decode()))
    )
    header, tags = rows[0], rows[1]
    assert len(tags) == len(header)
    tagged = dict(zip(header, tags, strict=True))
    assert tagged["sex"].startswith("#") and "+sex" in tagged["sex"]
    assert tagged["household_size"].startswith("#indicator+num")
    plain = list(
        csv.reader(io.StringIO(client.get(f"/datasets/{slug}/download.csv").data.decode()))
    )
    assert plain[1] == rows[2] and not plain[1][0].startswith("#")
    hxl_json = client.get(f"/datasets/{slug}/download.json?hxl=1").get_json()
    assert hxl_json[0] == header and hxl_json[1] == tags and len(hxl_json) == len(rows)


def test_data_package_zip_passes_frictionless_validate(catalogue, tmp_path):
    client = catalogue.app.test_client()
    slug = catalogue.published["water"]["slug"]
    resp = client.get(f"/datasets/{slug}/datapackage.zip")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    path = tmp_path / "package.zip"
    path.write_bytes(resp.data)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["datapackage.json", "records.csv"]
        zf.extractall(tmp_path / "unzipped")
    report = frictionless.validate(str(path))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    unzipped = frictionless.validate(str(tmp_path / "unzipped" / "datapackage.json"))
    assert unzipped.valid
    descriptor = json.loads((tmp_path / "unzipped" / "datapackage.json").read_text())
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    fields = {f["name"]: f for f in descriptor["resources"][0]["schema"]["fields"]}
    assert "respondent_name" not in fields and "phone" not in fields
    assert descriptor["resources"][0]["schema"]["fields"][0]["name"] == "sex"


def test_data_package_descriptor_over_http_validates(catalogue):
    slug = catalogue.published["health"]["slug"]
    report = frictionless.validate(f"{catalogue.url}/datasets/{slug}/datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_a_type_error_in_the_table_schema_would_be_caught(catalogue, tmp_path):
    """The validation above can fail: a wrong type in the schema is reported by frictionless."""
    resp = catalogue.app.test_client().get(
        f"/datasets/{catalogue.published['water']['slug']}/datapackage.zip"
    )
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        zf.extractall(tmp_path)
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    for f in descriptor["resources"][0]["schema"]["fields"]:
        if f["name"] == "sex":
            f["type"] = "integer"
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))
    assert not frictionless.validate(str(tmp_path / "datapackage.json")).valid


@pytest.mark.parametrize(
    "path", ["download.csv", "download.json", "datapackage.json", "datapackage.zip"]
)
def test_unknown_dataset_downloads_are_404(catalogue, path):
    resp = catalogue.app.test_client().get(f"/datasets/nope/{path}")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "dataset_not_found"
