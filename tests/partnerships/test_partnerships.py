"""Partnerships, quality reviews and endorsements, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from catalog.db import Database
from catalog.models import AuditEvent, DatasetVersion, Job, Role
from catalog.partnership_models import QualityItem
from catalog.principal import Principal, system
from catalog.services import datasets, organisations, partnerships, reviews, users
from catalog.services.partnerships import PartySpec
from indexer.synthetic import demo_metadata
from schema.errors import Conflict, InvalidInput, PermissionDenied

ALL_MEET = {item.value: {"rating": "meets", "comment": ""} for item in QualityItem}


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def _user(s, org, email, role="member"):
    u = users.create_user(s, system(), email=email, password="long-enough-pw")
    organisations.set_membership(s, system(), org, u, role)
    return Principal(kind="user", user_id=u.id)


def _published_version(s, dataset, number=None) -> DatasetVersion:
    """A version marked published without running the pipeline (catalogue rules only)."""
    number = number or len(dataset.versions) + 1
    version = DatasetVersion(
        dataset=dataset, number=number, status="awaiting_approval", metadata_={}
    )
    s.add(version)
    s.flush()
    datasets.mark_published(s, version)
    return version


@pytest.fixture
def world(db):
    """A CSO with a published dataset, a verified NSO partnered with it, and people."""
    w = {}
    with db.session() as s:
        cso = organisations.create_organisation(
            s, system(), slug="samata", name="Samata Collective"
        )
        nso = organisations.create_organisation(
            s, system(), slug="cbs-nepal", name="Central Bureau of Statistics", kind="government"
        )
        ministry = organisations.create_organisation(
            s, system(), slug="mowss", name="Ministry of Water Supply", kind="government"
        )
        partnerships.verify_organisation(
            s, system(), nso, government_type="nso", note="checked letterhead"
        )
        w["cso_admin"] = _user(s, cso, "admin@samata.example", Role.ADMIN.value)
        w["cso_editor"] = _user(s, cso, "editor@samata.example", Role.EDITOR.value)
        w["nso_admin"] = _user(s, nso, "admin@cbs.example", Role.ADMIN.value)
        w["nso_reviewer"] = _user(s, nso, "reviewer@cbs.example")
        w["ministry_member"] = _user(s, ministry, "officer@mowss.example")
        ds = datasets.create_dataset(s, system(), "samata", demo_metadata())
        w["dataset_id"] = ds.id
        w["version_id"] = _published_version(s, ds).id
    return w


def _partner(db, world, **kw):
    with db.session() as s:
        p = partnerships.create_partnership(
            s,
            world["cso_admin"],
            title="Water access monitoring",
            parties=[PartySpec("samata"), PartySpec("cbs-nepal")],
            topics=kw.pop("topics", ["water"]),
            **kw,
        )
        pid = p.id
        assert p.status == "proposed"
        partnerships.accept_partnership(s, world["nso_admin"], p, "cbs-nepal")
        assert p.status == "active"
    return pid


def _review(db, world, principal=None, findings=ALL_MEET, decision="endorse"):
    principal = principal or world["nso_reviewer"]
    with db.session() as s:
        version = datasets.get_version(s, world["version_id"])
        review = reviews.start_review(s, principal, version)
        reviews.record_findings(s, principal, review, findings)
        reviews.submit_review(
            s,
            principal,
            review,
            decision=decision,
            summary="Sound survey.",
            statement="Fit for SDG 6.1 reporting.",
        )
        return review.id


def test_partnership_becomes_active_only_when_every_party_accepts(db, world):
    with db.session() as s:
        p = partnerships.create_partnership(
            s,
            world["cso_admin"],
            title="Water",
            parties=[PartySpec("samata"), PartySpec("cbs-nepal")],
        )
        roles = {party.organisation.slug: party.role for party in p.parties}
        assert roles == {"samata": "data_provider", "cbs-nepal": "reviewer"}
        with pytest.raises(PermissionDenied):
            partnerships.accept_partnership(s, world["cso_editor"], p, "cbs-nepal")
        with pytest.raises(PermissionDenied):
            partnerships.accept_partnership(s, world["nso_reviewer"], p, "cbs-nepal")
        assert p.status == "proposed"
        partnerships.accept_partnership(s, world["nso_admin"], p, "cbs-nepal")
        assert p.status == "active"
        assert [
            x.title
            for x in partnerships.partnerships_of(s, organisations.get_organisation(s, "cbs-nepal"))
        ] == ["Water"]


def test_partnership_needs_an_administrator_of_a_party_and_a_reviewer(db, world):
    with db.session() as s, pytest.raises(PermissionDenied):
        partnerships.create_partnership(
            s,
            world["ministry_member"],
            title="X",
            parties=[PartySpec("samata"), PartySpec("cbs-nepal")],
        )
    with db.session() as s, pytest.raises(InvalidInput) as err:
        partnerships.create_partnership(
            s,
            world["cso_admin"],
            title="X",
            parties=[PartySpec("samata"), PartySpec("cbs-nepal", role="member")],
            starts_on=date(2025, 5, 1),
            ends_on=date(2025, 1, 1),
        )
    assert {p.code for p in err.value.problems} == {"no_reviewer", "invalid_dates"}


def test_nso_partner_reviews_and_endorses_a_version_with_findings_per_item(db, world):
    _partner(db, world)
    review_id = _review(db, world)
    with db.session() as s:
        ds = datasets.get_dataset(s, world["dataset_id"])
        [endorsement] = reviews.endorsements_for(s, ds)
        assert endorsement.organisation.slug == "cbs-nepal"
        assert endorsement.version_id == world["version_id"]
        assert endorsement.statement == "Fit for SDG 6.1 reporting."
        assert endorsement.endorsed_at is not None
        review = reviews.get_review(s, review_id)
        assert {f.item for f in review.findings} == {i.value for i in QualityItem}
        assert reviews.is_endorsed(datasets.get_version(s, world["version_id"]))
        # the search document is refreshed by a queued job
        jobs = s.scalars(select(Job).where(Job.kind == "reindex_dataset")).all()
        assert [j.payload for j in jobs] == [{"dataset_id": world["dataset_id"]}]


def test_a_new_version_does_not_inherit_the_endorsement(db, world):
    _partner(db, world)
    _review(db, world)
    with db.session() as s:
        ds = datasets.get_dataset(s, world["dataset_id"])
        v2 = _published_version(s, ds)
        assert reviews.endorsements_for(s, ds) == []
        assert not reviews.is_endorsed(v2)
        old = datasets.get_version(s, world["version_id"])
        assert old.status == "superseded"
        assert len(reviews.endorsements_for(s, ds, version=old)) == 1


def test_reviewer_outside_a_partnership_in_force_is_refused(db, world):
    with db.session() as s:
        version = datasets.get_version(s, world["version_id"])
        with pytest.raises(PermissionDenied) as err:
            reviews.start_review(s, world["nso_reviewer"], version)
        assert err.value.code == "not_a_partner"
    pid = _partner(db, world, ends_on=date.today() - timedelta(days=1), starts_on=date(2020, 1, 1))
    with db.session() as s:
        version = datasets.get_version(s, world["version_id"])
        with pytest.raises(PermissionDenied) as err:
            reviews.start_review(s, world["nso_reviewer"], version, organisation_slug="cbs-nepal")
        assert err.value.code == "not_a_partner"
        p = partnerships.get_partnership(s, pid)
        partnerships.set_partnership_status(s, world["cso_admin"], p, "ended", reason="expired")
        assert p.status == "ended"


def test_partnership_scope_must_cover_the_dataset_topic(db, world):
    _partner(db, world, topics=["education"])
    with db.session() as s:
        version = datasets.get_version(s, world["version_id"])
        with pytest.raises(PermissionDenied) as err:
            reviews.start_review(s, world["nso_reviewer"], version, organisation_slug="cbs-nepal")
        assert err.value.code == "not_a_partner"


def test_unverified_government_partner_cannot_endorse(db, world):
    with db.session() as s:
        p = partnerships.create_partnership(
            s, system(), title="Water", parties=[PartySpec("samata"), PartySpec("mowss")]
        )
        assert p.status == "active"  # registered by a site admin
        version = datasets.get_version(s, world["version_id"])
        with pytest.raises(PermissionDenied) as err:
            reviews.start_review(s, world["ministry_member"], version, organisation_slug="mowss")
        assert err.value.code == "organisation_not_verified"


def test_only_site_admins_verify_organisations(db, world):
    with db.session() as s:
        org = organisations.get_organisation(s, "mowss")
        with pytest.raises(PermissionDenied):
            partnerships.verify_organisation(s, world["nso_admin"], org)
        with pytest.raises(InvalidInput):
            partnerships.verify_organisation(
                s, system(), organisations.get_organisation(s, "samata"), government_type="nso"
            )
        partnerships.verify_organisation(s, system(), org, government_type="ministry")
        assert org.verified and partnerships.profile_of(s, org).government_type == "ministry"


def test_token_needs_endorsements_scope(db, world):
    _partner(db, world)
    token = Principal(
        kind="token", user_id=world["nso_reviewer"].user_id, scopes=frozenset({"datasets:write"})
    )
    with db.session() as s:
        version = datasets.get_version(s, world["version_id"])
        with pytest.raises(PermissionDenied) as err:
            reviews.start_review(s, token, version, organisation_slug="cbs-nepal")
        assert err.value.code == "insufficient_scope"


def test_endorsing_needs_every_item_and_none_unmet(db, world):
    _partner(db, world)
    partial = {"relevance": {"rating": "meets"}}
    with pytest.raises(InvalidInput) as err:
        _review(db, world, findings=partial)
    assert err.value.code == "review_incomplete"
    assert len(err.value.problems) == len(QualityItem) - 1
    unmet = dict(
        ALL_MEET, consent={"rating": "does_not_meet", "comment": "No consent record for minors."}
    )
    with pytest.raises(InvalidInput):
        _review(db, world, findings=unmet)
    with pytest.raises(InvalidInput) as err:
        _review(db, world, findings={"consent": {"rating": "does_not_meet"}})
    assert err.value.problems[0].code == "comment_required"


def test_request_changes_records_review_without_endorsement_and_audits(db, world):
    _partner(db, world)
    findings = dict(
        ALL_MEET, sample_size_coverage={"rating": "partly_meets", "comment": "Two districts only."}
    )
    review_id = _review(db, world, findings=findings, decision="request_changes")
    with db.session() as s:
        ds = datasets.get_dataset(s, world["dataset_id"])
        assert reviews.endorsements_for(s, ds) == []
        review = reviews.get_review(s, review_id)
        assert review.decision == "request_changes" and review.status == "submitted"
        with pytest.raises(Conflict):
            reviews.record_findings(s, world["nso_reviewer"], review, ALL_MEET)
        actions = set(s.scalars(select(AuditEvent.action)).all())
        assert {
            "organisation.verify",
            "partnership.create",
            "partnership.accept",
            "review.start",
            "review.findings",
            "review.submit",
        } <= actions
        # submitted reviews are public, drafts only to the reviewer's organisation
        version = datasets.get_version(s, world["version_id"])
        anyone = Principal(kind="user", user_id=world["cso_editor"].user_id)
        assert [r.id for r in reviews.reviews_of(s, anyone, version)] == [review_id]


def test_revoking_an_endorsement_is_audited_and_clears_the_badge(db, world):
    _partner(db, world)
    _review(db, world)
    with db.session() as s:
        ds = datasets.get_dataset(s, world["dataset_id"])
        [endorsement] = reviews.endorsements_for(s, ds)
        with pytest.raises(PermissionDenied):
            reviews.revoke_endorsement(s, world["cso_admin"], endorsement, reason="we dislike it")
        reviews.revoke_endorsement(
            s, world["nso_reviewer"], endorsement, reason="Consent issue found."
        )
        assert reviews.endorsements_for(s, ds) == []
        assert len(reviews.endorsements_for(s, ds, include_revoked=True)) == 1
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("endorsement.%"))).all()
        assert (
            sorted(e.action for e in events)
            == ["endorsement.create"] * 2 + ["endorsement.revoke"] * 2
        )


def test_an_organisation_cannot_endorse_its_own_data(db, world):
    _partner(db, world)
    with db.session() as s:
        version = datasets.get_version(s, world["version_id"])
        with pytest.raises(PermissionDenied) as err:
            reviews.start_review(s, world["cso_admin"], version, organisation_slug="samata")
        assert err.value.code in {"own_data", "role_required"}
