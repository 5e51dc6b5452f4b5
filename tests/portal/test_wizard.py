"""The upload wizard end to end over HTTP: sign in, upload, roles, metadata, preview, publish."""

from __future__ import annotations

import io
import re

import pytest

from indexer.synthetic import demo_metadata, generate_survey

PASSWORD = "correct horse battery staple"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def member(site):
    """A publisher of the demo organisation, and an outsider with no organisation."""
    from catalog.principal import system
    from catalog.services import organisations, users

    app, _slug = site
    rt = app.extensions["cgd"]
    import uuid

    tag = uuid.uuid4().hex[:8]
    with rt.db.session() as s:
        org = organisations.get_organisation(s, "samata-data-collective")
        user = users.create_user(s, system(), email=f"pub-{tag}@example.org", password=PASSWORD)
        organisations.set_membership(s, system(), org, user, "publisher")
        users.create_user(s, system(), email=f"out-{tag}@example.org", password=PASSWORD)
    return f"pub-{tag}@example.org", f"out-{tag}@example.org"


def _sign_in(client, email):
    page = client.get("/account/sign-in").data.decode()
    resp = client.post(
        "/account/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert resp.status_code == 302, resp.data[:500]


def _metadata_form(csrf: str) -> dict:
    meta = demo_metadata()
    m = meta["methodology"]
    return {
        "csrf_token": csrf,
        "title.en": "Wizard survey of water points 2025",
        "title.ne": "खानेपानी धारा सर्वेक्षण २०८२",
        "description.en": "Synthetic data uploaded through the wizard.",
        "licence": "CC-BY-4.0",
        "period.start": "2025-01-15",
        "period.end": "2025-03-30",
        "coverage.places": "Saptari, Siraha",
        "languages": "ne, mai",
        "contact.name": "Data team",
        "contact.email": "data@example.org",
        "methodology.purpose": m["purpose"],
        "methodology.participant_selection.method": "random",
        "methodology.participant_selection.sample_size": "300",
        "methodology.participant_selection.inclusion_criteria": "Households in selected wards.",
        "methodology.collection.method": "face_to_face",
        "methodology.collection.tool": "KoboToolbox",
        "methodology.consent.how_obtained": m["consent"]["how_obtained"],
        "methodology.consent.uses": m["consent"]["uses"],
        "methodology.consent.withdrawal_contact": "data@example.org",
        "methodology.facilitation.collected_by": m["facilitation"]["collected_by"],
        "methodology.facilitation.community_involvement": m["facilitation"][
            "community_involvement"
        ],
        "methodology.facilitation.training": m["facilitation"]["training"],
        "methodology.data_management.storage": m["data_management"]["storage"],
        "methodology.data_management.retention": m["data_management"]["retention"],
        "methodology.limitations": m["limitations"],
        "topics": ["water", "sanitation"],
    }


def test_wizard_needs_sign_in(client):
    resp = client.get("/publish/")
    assert resp.status_code == 302 and "/account/sign-in" in resp.headers["Location"]


def test_wizard_uploads_maps_describes_previews_and_publishes(site, member):
    app, _slug = site
    client = app.test_client()
    _sign_in(client, member[0])
    start = client.get("/publish/").data.decode()
    assert 'value="samata-data-collective"' in start
    df = generate_survey(300, seed=7)
    names = set(df["respondent_name"].to_list())
    body = io.BytesIO(df.write_csv().encode())
    resp = client.post(
        "/publish/",
        data={
            "csrf_token": _csrf(start),
            "organisation": "samata-data-collective",
            "file": (body, "water points.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    columns_url = resp.headers["Location"]
    page = client.get(columns_url).data.decode()
    # Suggestions: the phone column is an identifier, its values are never echoed back.
    assert re.search(r'name="role-phone">.*?<option value="direct_identifier" selected', page, re.S)
    assert not [n for n in names if n in page]

    form = {"csrf_token": _csrf(page)}
    for name in df.columns:
        role = re.search(
            rf'name="role-{name}">.*?<option value="(\w+)" selected', page, re.S
        ).group(1)
        form[f"role-{name}"] = role
        dim = re.search(rf'name="dimension-{name}">(.*?)</select>', page, re.S).group(1)
        chosen = re.search(r'<option value="(\w+)" selected', dim)
        form[f"dimension-{name}"] = chosen.group(1) if chosen else ""
    form["role-difficulty_walking"], form["dimension-difficulty_walking"] = (
        "dimension",
        "disability_mobility",
    )
    resp = client.post(columns_url, data=form)
    assert resp.status_code == 302, resp.data.decode()[:2000]
    metadata_url = resp.headers["Location"]

    page = client.get(metadata_url).data.decode()
    bad = _metadata_form(_csrf(page))
    del bad["methodology.purpose"]
    resp = client.post(metadata_url, data=bad)
    assert resp.status_code == 400
    html = resp.data.decode()
    assert 'aria-invalid="true"' in html and "Say why the data were collected." in html
    assert "Wizard survey of water points 2025" in html  # what was typed is kept

    resp = client.post(metadata_url, data=_metadata_form(_csrf(html)))
    assert resp.status_code == 302, resp.data.decode()[:3000]
    progress = client.get(resp.headers["Location"]).data.decode()
    assert "See the anonymisation preview" in progress and "progress.js" in progress
    draft = re.search(r"/publish/(\w+)/", resp.headers["Location"]).group(1)
    status = client.get(f"/publish/{draft}/status.json").get_json()
    assert status["version_status"] == "awaiting_approval" and status["next"].endswith("/review")

    # The draft's copy of the raw file is gone once the version has its own.
    rt = app.extensions["cgd"]
    assert not list(rt.files.path(f"wizard/{draft}").glob("upload-*"))
    assert client.get(columns_url).status_code == 302

    review = client.get(f"/publish/{draft}/review").data.decode()
    for text in (
        "Dropped",
        "respondent_name",
        "Scrubbed from free text",
        "Generalised",
        "Suppressed",
    ):
        assert text in review, text
    assert not [n for n in names if n in review]
    # Free text must be approved explicitly.
    refused = client.post(f"/publish/{draft}/review", data={"csrf_token": _csrf(review)})
    assert refused.status_code == 400 and b"approve it first" in refused.data
    assert (
        client.get("/search?q=%22water+points%22").data.decode().count('class="dataset-card"') == 0
    )
    resp = client.post(
        f"/publish/{draft}/review", data={"csrf_token": _csrf(review), "approve_free_text": "yes"}
    )
    assert resp.status_code == 302
    status = client.get(f"/publish/{draft}/status.json").get_json()
    assert status["version_status"] == "published"
    public = client.get(status["next"]).data.decode()
    assert "Wizard survey of water points 2025" in public
    assert not [n for n in names if n in public]


def test_wizard_drafts_are_private_to_their_owner(site, member):
    app, _slug = site
    owner, outsider = app.test_client(), app.test_client()
    _sign_in(owner, member[0])
    _sign_in(outsider, member[1])
    start = owner.get("/publish/").data.decode()
    resp = owner.post(
        "/publish/",
        data={
            "csrf_token": _csrf(start),
            "organisation": "samata-data-collective",
            "file": (io.BytesIO(generate_survey(40, seed=2).write_csv().encode()), "s.csv"),
        },
        content_type="multipart/form-data",
    )
    url = resp.headers["Location"]
    assert owner.get(url).status_code == 200
    assert outsider.get(url).status_code == 404
    # The outsider belongs to no organisation: nothing to publish for, and a forged post is refused.
    page = outsider.get("/publish/").data.decode()
    assert "not an editor of any organisation" in page
    forged = outsider.post(
        "/publish/",
        data={
            "csrf_token": _csrf(outsider.get("/account/sign-in").data.decode()),
            "organisation": "samata-data-collective",
            "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert forged.status_code == 403


def test_wizard_reports_a_bad_file_with_its_problem(site, member):
    app, _slug = site
    client = app.test_client()
    _sign_in(client, member[0])
    page = client.get("/publish/").data.decode()
    resp = client.post(
        "/publish/",
        data={
            "csrf_token": _csrf(page),
            "organisation": "samata-data-collective",
            "file": (io.BytesIO(bytes(range(256)) * 64), "binary.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    assert b'role="alert"' in resp.data and b"binary.csv" in resp.data
