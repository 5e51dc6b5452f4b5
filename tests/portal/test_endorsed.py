"""An endorsed dataset: the badge, the partner, the home-page list and the facet."""

from __future__ import annotations

import pytest

from catalog.models import Role
from catalog.partnership_models import QualityItem
from catalog.principal import Principal, system
from catalog.services import datasets, organisations, partnerships, reviews, users
from catalog.services.partnerships import PartySpec

ALL_MEET = {item.value: {"rating": "meets", "comment": ""} for item in QualityItem}


def _person(s, org, email, role):
    u = users.create_user(s, system(), email=email, password="long-enough-pw")
    organisations.set_membership(s, system(), org, u, role)
    return Principal(kind="user", user_id=u.id)


@pytest.fixture(scope="module")
def endorsed(site):
    app, slug = site
    rt = app.extensions["cgd"]
    with rt.db.session() as s:
        nso = organisations.create_organisation(
            s, system(), slug="cbs-nepal", name="Central Bureau of Statistics", kind="government"
        )
        partnerships.verify_organisation(s, system(), nso, government_type="nso", note="synthetic")
        cso = organisations.get_organisation(s, "samata-data-collective")
        cso_admin = _person(s, cso, "admin@samata.example", Role.ADMIN.value)
        nso_admin = _person(s, nso, "admin@cbs.example", Role.ADMIN.value)
        reviewer = _person(s, nso, "reviewer@cbs.example", Role.MEMBER.value)
    with rt.db.session() as s:
        p = partnerships.create_partnership(
            s,
            cso_admin,
            title="Water access monitoring",
            parties=[PartySpec("samata-data-collective"), PartySpec("cbs-nepal")],
            topics=["water"],
        )
        partnerships.accept_partnership(s, nso_admin, p, "cbs-nepal")
    with rt.db.session() as s:
        version = datasets.get_dataset(s, slug).published_version
        review = reviews.start_review(s, reviewer, version)
        reviews.record_findings(s, reviewer, review, ALL_MEET)
        reviews.submit_review(
            s,
            reviewer,
            review,
            decision="endorse",
            summary="Sound.",
            statement="Fit for SDG 6.1 reporting.",
        )
    return app, slug


def test_endorsed_dataset_shows_endorser_partner_and_is_listed_and_faceted(endorsed):
    app, slug = endorsed
    client = app.test_client()
    page = client.get(f"/datasets/{slug}").data.decode()
    assert "Central Bureau of Statistics</strong> endorsed version 1 on" in page
    assert "Fit for SDG 6.1 reporting." in page
    assert 'href="/organisations/cbs-nepal"' in page and "Reviewer" in page
    home = client.get("/").data.decode()
    endorsed_block = home[home.index('id="endorsed-h"') : home.index('id="topics-h"')]
    assert f"/datasets/{slug}" in endorsed_block
    facet = client.get("/search?endorsed=true").data.decode()
    assert "1 dataset" in facet and f"/datasets/{slug}" in facet
    org = client.get("/organisations/cbs-nepal").data.decode()
    assert "Samata Data Collective (demo)" in org and "Data provider" in org
    sheet = client.get(f"/datasets/{slug}/factsheet").data.decode()
    assert "Endorsed by Central Bureau of Statistics" in sheet
