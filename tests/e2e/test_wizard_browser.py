"""The upload wizard in headless Chromium: sign in, upload, roles, metadata, live progress,
anonymisation report, approve, published page; axe on every wizard step."""

from __future__ import annotations

import re
import uuid

import pytest

from indexer.synthetic import demo_metadata, generate_survey
from tests.e2e.conftest import screenshot
from tests.e2e.test_portal_browser import _axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def publisher(live_site):
    from catalog.principal import system
    from catalog.services import organisations, users

    _base, app, _slug = live_site
    email = f"wizard-{uuid.uuid4().hex[:8]}@example.org"
    with app.extensions["cgd"].db.session() as s:
        org = organisations.get_organisation(s, "samata-data-collective")
        user = users.create_user(s, system(), email=email, password=PASSWORD)
        organisations.set_membership(s, system(), org, user, "publisher")
    return email


def test_upload_wizard_end_to_end(live_site, page, publisher, tmp_path):
    base, _app, _slug = live_site
    df = generate_survey(250, seed=21)
    csv = tmp_path / "ward-survey.csv"
    df.write_csv(csv)
    names = set(df["respondent_name"].to_list())
    violations = {}

    page.goto(f"{base}/publish/")
    page.wait_for_url(re.compile(r"/account/sign-in"))
    page.get_by_label(re.compile("e-?mail", re.I)).fill(publisher)
    page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/publish/")

    violations["start"] = _axe(page)
    screenshot(page, "wizard-1-start")
    page.get_by_label("Data file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload and continue").click()
    page.wait_for_url(re.compile(r"/columns$"))
    violations["columns"] = _axe(page)
    screenshot(page, "wizard-2-columns")
    assert page.get_by_label("Role of phone").input_value() == "direct_identifier"
    assert not [n for n in names if n in page.content()]
    page.get_by_label("Role of difficulty_walking").select_option("dimension")
    page.get_by_label("Code list of difficulty_walking").select_option("disability_mobility")
    page.get_by_role("button", name="Confirm the roles and continue").click()
    page.wait_for_url(re.compile(r"/metadata$"))

    m = demo_metadata()["methodology"]
    fill = {
        "Title in English": "Ward survey uploaded in the browser",
        "Description in English": "Synthetic data uploaded through the wizard in Chromium.",
        "Collection started": "2025-02-01",
        "Collection ended": "2025-02-28",
        "Places covered": "Saptari",
        "Languages of collection": "ne",
        "Contact name": "Data team",
        "Contact e-mail": "data@example.org",
        "Purpose of the collection": m["purpose"],
        "Number of participants": "250",
        "Who could take part": "Households in two wards.",
        "How informed consent was obtained": m["consent"]["how_obtained"],
        "Uses participants agreed to": m["consent"]["uses"],
        "Whom participants contact to withdraw": "data@example.org",
        "Who collected the data": m["facilitation"]["collected_by"],
        "How the community was involved": m["facilitation"]["community_involvement"],
        "Training of the data collectors": m["facilitation"]["training"],
        "Where the raw data is stored": m["data_management"]["storage"],
        "How long the raw data is kept": m["data_management"]["retention"],
    }
    for label, value in fill.items():
        page.get_by_label(label, exact=False).first.fill(value)
    page.get_by_role("button", name="Save and anonymise").click()
    # Limitations were left empty: the form comes back with the error next to the field.
    assert page.locator(".problems[role=alert]").is_visible()
    limitations = page.get_by_label("Known limitations")
    assert limitations.get_attribute("aria-invalid") == "true"
    violations["metadata-errors"] = _axe(page)
    screenshot(page, "wizard-3-metadata-errors")
    assert (
        page.get_by_label("Title in English").input_value() == "Ward survey uploaded in the browser"
    )
    limitations.fill(m["limitations"])
    page.get_by_label("Water").check()
    page.get_by_role("button", name="Save and anonymise").click()
    page.wait_for_url(re.compile(r"/progress$"))
    link = page.get_by_role("link", name="See the anonymisation preview")
    link.wait_for(state="visible")
    assert page.locator("#job-status").inner_text().strip() == "Done."
    violations["progress"] = _axe(page)
    screenshot(page, "wizard-4-progress")
    link.click()
    page.wait_for_url(re.compile(r"/review$"))
    assert "respondent_name" in page.locator("#r-dropped + ul").inner_text()
    assert not [n for n in names if n in page.content()]
    violations["review"] = _axe(page)
    screenshot(page, "wizard-5-review")
    page.get_by_label("I have read the scrubbed free text").check()
    page.get_by_role("button", name="Approve and publish").click()
    page.wait_for_url(re.compile(r"/progress$"))
    page.get_by_role("link", name="See the published dataset").click()
    page.wait_for_url(re.compile(r"/datasets/ward-survey-uploaded-in-the-browser"))
    assert page.locator("h1").inner_text() == "Ward survey uploaded in the browser"
    assert not [n for n in names if n in page.content()]
    screenshot(page, "wizard-6-published")
    assert not any(violations.values()), violations
