"""The REST upload API end to end: datasets, multipart and resumable uploads, jobs, reports,
approve and publish, withdraw; JSON errors with a stable code and the field or row at fault."""

from __future__ import annotations

import base64
import io
import json

import pytest

from catalog.principal import SCOPES
from catalog.services import clients as client_service
from catalog.services import organisations
from tests.accounts.world import World, bearer, metadata, person, survey_csv

from .kobo import kobo_export


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _client_credentials(world: World, org: str, owner: str, scopes: list[str]) -> str:
    """Register a confidential application for ``org`` and get a client-credentials token over HTTP."""
    with world.runtime.db.session() as s:
        o = organisations.get_organisation(s, org)
        client, secret = client_service.register_client(
            s, person(world.users[owner]), o, name=f"{org} sync", redirect_uris=[], scopes=scopes
        )
        client_id = client.client_id
    resp = world.app.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )
    assert resp.status_code == 200, resp.data
    return resp.get_json()["access_token"]


def _world(app) -> World:
    world = World(app.extensions["cgd"])
    world.app = app
    world.add_org("samata", "Samata Collective")
    world.add_org("dalit-voice", "Dalit Voice")
    world.add_user("ada", org="samata", role="admin")
    world.add_user("bea", org="dalit-voice", role="admin")
    return world


@pytest.fixture
def world(make_app):
    return _world(make_app())


def _create_dataset(
    client, token: str, title: str = "Kobo household survey", org: str = "samata"
) -> dict:
    resp = client.post(
        "/api/v1/datasets",
        headers=bearer(token),
        json={"organisation": org, "metadata": metadata(title)},
    )
    assert resp.status_code == 201, resp.data
    return resp.get_json()


def test_kobo_export_uploaded_by_client_credentials_ends_published_and_stays_private_to_others(app):
    world = _world(app)
    token = _client_credentials(world, "samata", "ada", list(SCOPES))
    outsider = _client_credentials(world, "dalit-voice", "bea", list(SCOPES))
    client = app.test_client()
    data, identifying = kobo_export(120)

    dataset = _create_dataset(client, token)
    assert dataset["organisation"] == "samata" and dataset["published_version"] is None
    upload = client.post(
        f"/api/v1/datasets/{dataset['id']}/versions",
        headers=bearer(token),
        data={"file": (io.BytesIO(data), "kobo_export.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 202, upload.data
    version_id, job_id = upload.get_json()["version"]["id"], upload.get_json()["job"]["id"]

    job = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token)).get_json()
    assert job["status"] == "succeeded", job
    version = client.get(f"/api/v1/versions/{version_id}", headers=bearer(token)).get_json()
    assert version["status"] == "awaiting_approval" and version["record_count"] > 0
    report = client.get(
        f"/api/v1/versions/{version_id}/anonymisation-report", headers=bearer(token)
    )
    assert report.status_code == 200
    dropped = {d["column"] for d in report.get_json()["report"]["dropped"]}
    assert {
        "respondent_name",
        "phone",
        "deviceid",
        "_uuid",
        "_geolocation",
        "instanceID",
    } <= dropped, dropped
    validation = client.get(
        f"/api/v1/versions/{version_id}/validation-report", headers=bearer(token)
    )
    assert validation.status_code == 200

    # Another organisation's token sees nothing private and cannot publish.
    for path in (
        f"/api/v1/versions/{version_id}",
        f"/api/v1/versions/{version_id}/anonymisation-report",
        f"/api/v1/versions/{version_id}/validation-report",
        f"/api/v1/jobs/{job_id}",
    ):
        resp = client.get(path, headers=bearer(outsider))
        assert (
            resp.status_code == 403
            and resp.get_json()["error"]["code"] == "organisation_not_granted"
        ), path
    assert (
        client.get(f"/api/v1/datasets/{dataset['id']}", headers=bearer(outsider)).status_code == 404
    )
    refused = client.post(
        f"/api/v1/versions/{version_id}/publish",
        headers=bearer(outsider),
        json={"approve_free_text": True},
    )
    assert refused.status_code == 403

    # Free text needs the publisher's look at the scrubbed preview first.
    unapproved = client.post(
        f"/api/v1/versions/{version_id}/publish", headers=bearer(token), json={}
    )
    assert unapproved.status_code == 400
    assert unapproved.get_json()["error"]["problems"][0]["field"] == "approve_free_text"
    published = client.post(
        f"/api/v1/versions/{version_id}/publish",
        headers=bearer(token),
        json={"approve_free_text": True},
    )
    assert published.status_code == 202, published.data
    pub_job = client.get(
        f"/api/v1/jobs/{published.get_json()['id']}", headers=bearer(token)
    ).get_json()
    assert pub_job["status"] == "succeeded", pub_job
    public = client.get(f"/api/v1/datasets/{dataset['slug']}").get_json()
    assert public["published_version"] == version_id
    # Still readable by its organisation after publication, still private to everyone else.
    assert (
        client.get(
            f"/api/v1/versions/{version_id}/anonymisation-report", headers=bearer(token)
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/versions/{version_id}/anonymisation-report", headers=bearer(outsider)
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/versions/{version_id}/anonymisation-report").status_code == 401
    assert (
        client.post(f"/api/v1/versions/{version_id}/withdraw", headers=bearer(outsider)).status_code
        == 403
    )

    # Nothing identifying reached what the public can read.
    graphql = client.post(
        "/graphql", json={"query": '{ datasets(query: "household") { totalCount } }'}
    )
    assert graphql.status_code == 200
    page = client.get(f"/datasets/{dataset['slug']}")
    text = page.get_data(as_text=True) + json.dumps(public) + graphql.get_data(as_text=True)
    for kind, values in identifying.items():
        leaked = [v for v in values if v in text]
        assert not leaked, (kind, leaked[:3])


def test_withdrawing_the_public_version_takes_the_dataset_off_the_portal(world):
    token = world.token(
        "ada", ["datasets:write", "datasets:publish", "datasets:read-private"], ["samata"]
    )
    client = world.app.test_client()
    ids = world.dataset("samata", "To withdraw")
    client.post(
        f"/api/v1/versions/{ids['version']}/publish",
        headers=bearer(token),
        json={"approve_free_text": True},
    )
    assert client.get(f"/api/v1/datasets/{ids['slug']}").status_code == 200
    resp = client.post(f"/api/v1/versions/{ids['version']}/withdraw", headers=bearer(token))
    assert resp.status_code == 202
    assert (
        client.get(f"/api/v1/jobs/{resp.get_json()['id']}", headers=bearer(token)).get_json()[
            "status"
        ]
        == "succeeded"
    )
    assert client.get(f"/api/v1/datasets/{ids['slug']}").status_code == 404
    again = client.post(f"/api/v1/versions/{ids['version']}/withdraw", headers=bearer(token))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_state"
    twice = client.post(
        f"/api/v1/versions/{ids['version']}/publish", headers=bearer(token), json={}
    )
    assert twice.status_code == 409


def test_resumable_upload_in_chunks_with_resume_after_a_broken_chunk(make_app):
    world = _world(make_app(UPLOAD_CHUNK_BYTES=4096))
    token = world.token("ada", ["datasets:write", "datasets:read-private"], ["samata"])
    other = world.token("bea", ["datasets:write"], ["dalit-voice"])
    client = world.app.test_client()
    dataset = _create_dataset(client, token)
    data = survey_csv(200, seed=5)
    assert len(data) > 3 * 4096
    start = client.post(
        f"/api/v1/datasets/{dataset['id']}/uploads",
        headers=bearer(token),
        json={"filename": "survey.csv", "size": len(data)},
    )
    assert start.status_code == 201, start.data
    upload = start.get_json()
    assert upload["received"] == 0 and upload["chunk_size"] == 4096
    url = f"/api/v1/uploads/{upload['id']}"

    def put(offset: int, chunk: bytes, who: str = token):
        return client.put(
            url,
            data=chunk,
            headers={
                **bearer(who),
                "Content-Type": "application/octet-stream",
                "Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{len(data)}",
            },
        )

    assert put(0, data[:4096]).get_json()["received"] == 4096
    # A chunk that does not continue where the file ends is refused; the client asks where to resume.
    skipped = put(8192, data[8192:12288])
    assert (
        skipped.status_code == 409
        and skipped.get_json()["error"]["code"] == "upload_offset_mismatch"
    )
    too_big = put(4096, data[4096 : 4096 + 5000])
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "file_too_large"
    assert client.get(url, headers=bearer(token)).get_json()["received"] == 4096
    # Someone else's token cannot see or feed this upload.
    assert client.get(url, headers=bearer(other)).status_code == 404
    assert put(4096, data[4096:8192], who=other).status_code == 404
    early = client.post(f"{url}/complete", headers=bearer(token))
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "upload_incomplete"
    offset = 4096
    while offset < len(data):
        chunk = data[offset : offset + 4096]
        assert put(offset, chunk).status_code == 200
        offset += len(chunk)
    done = client.post(f"{url}/complete", headers=bearer(token))
    assert done.status_code == 202, done.data
    body = done.get_json()
    assert (
        client.get(f"/api/v1/jobs/{body['job']['id']}", headers=bearer(token)).get_json()["status"]
        == "succeeded"
    )
    assert (
        client.get(f"/api/v1/versions/{body['version']['id']}", headers=bearer(token)).get_json()[
            "status"
        ]
        == "awaiting_approval"
    )
    assert client.post(f"{url}/complete", headers=bearer(token)).status_code == 409


def test_uploads_over_the_size_limit_are_refused(make_app):
    world = _world(make_app(MAX_UPLOAD_BYTES=8000))
    token = world.token("ada", ["datasets:write"], ["samata"])
    client = world.app.test_client()
    dataset = _create_dataset(client, token)
    data = survey_csv(300)
    assert len(data) > 8000
    multipart = client.post(
        f"/api/v1/datasets/{dataset['id']}/versions",
        headers=bearer(token),
        data={"file": (io.BytesIO(data), "survey.csv")},
        content_type="multipart/form-data",
    )
    assert (
        multipart.status_code == 413 and multipart.get_json()["error"]["code"] == "file_too_large"
    )
    resumable = client.post(
        f"/api/v1/datasets/{dataset['id']}/uploads",
        headers=bearer(token),
        json={"filename": "survey.csv", "size": len(data)},
    )
    assert (
        resumable.status_code == 413
        and resumable.get_json()["error"]["problems"][0]["field"] == "file"
    )


def test_errors_are_json_with_a_stable_code_and_the_field_or_row_at_fault(world):
    token = world.token("ada", ["datasets:write", "datasets:read-private"], ["samata"])
    client = world.app.test_client()
    bad_meta = metadata("x")
    del bad_meta["licence"]
    resp = client.post(
        "/api/v1/datasets",
        headers=bearer(token),
        json={"organisation": "samata", "metadata": bad_meta},
    )
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["code"] and err["message"]
    assert any(p.get("field", "").endswith("licence") for p in err["problems"]), err
    unknown = client.post(
        "/api/v1/datasets",
        headers=bearer(token),
        json={"organisation": "samata", "metadata": {}, "colour": "red"},
    )
    assert unknown.status_code == 400
    assert {p.get("field") for p in unknown.get_json()["error"]["problems"]} >= {"colour"}
    not_json = client.post(
        "/api/v1/datasets", headers=bearer(token), data="{", content_type="application/json"
    )
    assert not_json.status_code == 400 and not_json.get_json()["error"]["code"] == "invalid_json"
    missing = client.get("/api/v1/versions/nope", headers=bearer(token))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "version_not_found"
    assert client.get("/api/v1/no-such-thing").get_json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/datasets")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]
    # A file whose rows break the standard: the job fails and says which row and column.
    dataset = _create_dataset(client, token, "Broken rows")
    broken = b"sex,age,district\nFemale,34,Saptari\nMale,34,Saptari,extra\n"
    up = client.post(
        f"/api/v1/datasets/{dataset['id']}/versions",
        headers=bearer(token),
        data={"file": (io.BytesIO(broken), "broken.csv")},
        content_type="multipart/form-data",
    )
    assert up.status_code == 202
    job = client.get(f"/api/v1/jobs/{up.get_json()['job']['id']}", headers=bearer(token)).get_json()
    assert job["status"] == "failed"
    assert job["error"]["code"]
    assert any(p.get("row") for p in job["error"].get("problems", [])), job["error"]
    no_file = client.post(
        f"/api/v1/datasets/{dataset['id']}/versions",
        headers=bearer(token),
        data={"columns": "{}"},
        content_type="multipart/form-data",
    )
    assert (
        no_file.status_code == 400 and no_file.get_json()["error"]["problems"][0]["field"] == "file"
    )
    bad_columns = client.post(
        f"/api/v1/datasets/{dataset['id']}/versions",
        headers=bearer(token),
        data={"file": (io.BytesIO(broken), "b.csv"), "columns": "[1]"},
        content_type="multipart/form-data",
    )
    assert (
        bad_columns.status_code == 400
        and bad_columns.get_json()["error"]["problems"][0]["field"] == "columns"
    )
