"""REST /api/v1 for partnerships, reviews and endorsements, on SQLite and PostgreSQL:
the whole path from a proposed partnership to a badge that a new version does not inherit."""

from __future__ import annotations

from sqlalchemy import select

from catalog.models import AuditEvent
from catalog.partnership_models import QualityItem
from catalog.principal import system
from catalog.services import datasets
from tests.partnerships.api_world import _call, _publish

ALL_MEET = {item.value: {"rating": "meets", "comment": ""} for item in QualityItem}


def _partner(world):
    status, body = _call(
        world,
        "POST",
        "/api/v1/partnerships",
        "cso_admin",
        {
            "title": "Water access monitoring",
            "parties": [{"organisation": "samata"}, {"organisation": "cbs"}],
            "topics": ["water"],
            "starts_on": "2026-01-01",
            "data_sharing_terms": "Aggregates only; CC BY 4.0.",
        },
    )
    assert status == 201, body
    assert body["status"] == "proposed" and not body["in_force"]
    roles = {p["organisation"]["slug"]: p["role"] for p in body["parties"]}
    assert roles == {"samata": "data_provider", "cbs": "reviewer"}
    status, accepted = _call(
        world,
        "POST",
        f"/api/v1/partnerships/{body['id']}/accept",
        "nso_admin",
        {"organisation": "cbs"},
    )
    assert status == 200 and accepted["status"] == "active" and accepted["in_force"]
    return body["id"]


def _endorse(world, version_id):
    status, review = _call(world, "POST", f"/api/v1/versions/{version_id}/reviews", "reviewer", {})
    assert status == 201, review
    assert [f["item"] for f in review["findings"]] == [i.value for i in QualityItem]
    status, review = _call(
        world, "PUT", f"/api/v1/reviews/{review['id']}/findings", "reviewer", {"findings": ALL_MEET}
    )
    assert status == 200 and all(f["rating"] == "meets" for f in review["findings"])
    status, done = _call(
        world,
        "POST",
        f"/api/v1/reviews/{review['id']}/submit",
        "reviewer",
        {"decision": "endorse", "statement": "Fit for SDG 6.1 monitoring."},
    )
    assert status == 200, done
    assert done["status"] == "submitted" and done["decision"] == "endorse" and done["endorsement"]
    return review["id"], done["endorsement"]


def test_partnership_review_and_endorsement_through_rest_and_a_new_version_starts_unendorsed(
    api_world,
):
    world = api_world
    pid = _partner(world)
    status, listed = _call(world, "GET", "/api/v1/organisations/samata/partnerships")
    assert status == 200 and [p["id"] for p in listed["partnerships"]] == [pid]
    assert [
        p["id"]
        for p in _call(world, "GET", "/api/v1/organisations/cbs/partnerships")[1]["partnerships"]
    ] == [pid]

    # an unverified government body cannot review yet
    status, err = _call(world, "POST", f"/api/v1/versions/{world['v1']}/reviews", "reviewer", {})
    assert status == 403 and err["error"]["code"] == "organisation_not_verified"
    status, err = _call(
        world,
        "POST",
        "/api/v1/organisations/cbs/verification",
        "cso_admin",
        {"government_type": "nso"},
    )
    assert status == 403 and err["error"]["code"] == "admin_required"
    status, verified = _call(
        world,
        "POST",
        "/api/v1/organisations/cbs/verification",
        "operator",
        {"government_type": "nso", "note": "Letter of 3 March checked."},
    )
    assert status == 200 and verified["verified"] and verified["government_type"] == "nso"

    review_id, endorsement_id = _endorse(world, world["v1"])
    status, badge = _call(
        world, "GET", f"/api/v1/datasets/{world['dataset_id']}/endorsements"
    )  # anonymous
    assert status == 200 and badge["endorsed"] and badge["version"] == world["v1"]
    (e,) = badge["endorsements"]
    assert e["id"] == endorsement_id and e["organisation"]["slug"] == "cbs" and e["endorsed_at"]
    assert e["statement"] == "Fit for SDG 6.1 monitoring." and e["version_number"] == 1
    assert [p["id"] for p in badge["partnerships"]] == [pid]
    runtime = world["runtime"]
    assert runtime.search.get_dataset(world["dataset_id"])["endorsed"] is True  # reindexed by a job
    status, reviews = _call(world, "GET", f"/api/v1/versions/{world['v1']}/reviews")
    assert status == 200 and [r["id"] for r in reviews["reviews"]] == [review_id]

    # version 2 of the same dataset: published, not endorsed
    with runtime.db.session() as s:
        ds = datasets.get_dataset(s, world["dataset_id"], system())
        key = f"datasets/{ds.id}/uploads/v2.csv"
    from indexer.synthetic import generate_survey

    path = runtime.files.path(key)
    generate_survey(160, seed=9).write_csv(path)
    with runtime.db.session() as s:
        ds = datasets.get_dataset(s, world["dataset_id"], system())
        v2, _ = datasets.create_version(s, system(), ds, filename="v2.csv", raw_path=key)
        v2_id = v2.id
    _publish(runtime, v2_id)
    status, badge = _call(world, "GET", f"/api/v1/datasets/{world['dataset_id']}/endorsements")
    assert status == 200 and badge["version"] == v2_id and badge["version_number"] == 2
    assert badge["endorsed"] is False and badge["endorsements"] == []
    assert runtime.search.get_dataset(world["dataset_id"])["endorsed"] is False

    with runtime.db.session() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {
        "partnership.create",
        "partnership.accept",
        "organisation.verify",
        "review.start",
        "review.findings",
        "review.submit",
        "endorsement.create",
    } <= actions


def test_request_changes_then_revoke_through_rest(api_world):
    world = api_world
    _partner(world)
    _call(
        world,
        "POST",
        "/api/v1/organisations/cbs/verification",
        "operator",
        {"government_type": "nso"},
    )
    status, review = _call(world, "POST", f"/api/v1/versions/{world['v1']}/reviews", "reviewer", {})
    findings = dict(
        ALL_MEET, consent={"rating": "does_not_meet", "comment": "No consent record for minors."}
    )
    _call(
        world, "PUT", f"/api/v1/reviews/{review['id']}/findings", "reviewer", {"findings": findings}
    )
    status, err = _call(
        world, "POST", f"/api/v1/reviews/{review['id']}/submit", "reviewer", {"decision": "endorse"}
    )
    assert status == 400 and err["error"]["code"] == "review_incomplete"
    assert [p["field"] for p in err["error"]["problems"]] == ["consent"]
    status, done = _call(
        world,
        "POST",
        f"/api/v1/reviews/{review['id']}/submit",
        "reviewer",
        {"decision": "request_changes", "summary": "Document consent for respondents under 18."},
    )
    assert status == 200 and done["decision"] == "request_changes" and done["endorsement"] is None
    assert (
        _call(world, "GET", f"/api/v1/datasets/{world['dataset_id']}/endorsements")[1]["endorsed"]
        is False
    )

    _, endorsement_id = _endorse(world, world["v1"])
    status, err = _call(
        world, "POST", f"/api/v1/endorsements/{endorsement_id}/revoke", "reviewer", {}
    )
    assert status == 400 and err["error"]["problems"][0]["field"] == "reason"
    status, revoked = _call(
        world,
        "POST",
        f"/api/v1/endorsements/{endorsement_id}/revoke",
        "reviewer",
        {"reason": "Errors found in district codes."},
    )
    assert status == 200 and revoked["active"] is False and revoked["revoke_reason"]
    assert (
        _call(world, "GET", f"/api/v1/datasets/{world['dataset_id']}/endorsements")[1]["endorsed"]
        is False
    )


def test_writes_need_a_token_with_the_scope_and_partner_membership(api_world):
    world = api_world
    pid = _partner(world)
    _call(
        world,
        "POST",
        "/api/v1/organisations/cbs/verification",
        "operator",
        {"government_type": "nso"},
    )
    status, err = _call(world, "POST", f"/api/v1/versions/{world['v1']}/reviews", None, {})
    assert status == 401 and err["error"]["code"] == "unauthenticated"
    status, err = _call(
        world, "POST", f"/api/v1/versions/{world['v1']}/reviews", "reviewer_no_scope", {}
    )
    assert status == 403 and err["error"]["code"] == "insufficient_scope"
    # the CSO may not review its own data, nor may a party that is not a reviewer
    status, err = _call(
        world,
        "POST",
        f"/api/v1/versions/{world['v1']}/reviews",
        "cso_admin",
        {"organisation": "samata"},
    )
    assert status == 403
    status, err = _call(
        world, "POST", f"/api/v1/partnerships/{pid}/status", "reviewer", {"status": "ended"}
    )
    assert status == 403 and err["error"]["code"] == "insufficient_scope"
    status, ended = _call(
        world,
        "POST",
        f"/api/v1/partnerships/{pid}/status",
        "nso_admin",
        {"status": "ended", "reason": "Agreement over."},
    )
    assert status == 200 and ended["status"] == "ended"
    status, err = _call(world, "POST", f"/api/v1/versions/{world['v1']}/reviews", "reviewer", {})
    assert status == 403 and err["error"]["code"] == "not_a_partner"


def test_bad_input_is_a_located_error(api_world):
    world = api_world
    status, err = _call(
        world,
        "POST",
        "/api/v1/partnerships",
        "cso_admin",
        {"title": "", "parties": [{"organisation": "samata", "role": "boss"}]},
    )
    assert status == 400 and err["error"]["code"] == "invalid_input"
    assert "parties.0.role" in {p["field"] for p in err["error"]["problems"]}
    status, err = _call(
        world,
        "POST",
        "/api/v1/partnerships",
        "cso_admin",
        {"title": "x", "parties": [{"organisation": "samata"}]},
    )
    assert status == 400 and {p["code"] for p in err["error"]["problems"]} >= {
        "too_few_parties",
        "no_reviewer",
    }
    status, err = _call(world, "GET", "/api/v1/partnerships/nope")
    assert status == 404 and err["error"]["code"] == "partnership_not_found"
    status, checklist = _call(world, "GET", "/api/v1/quality-checklist")
    assert (
        status == 200 and len(checklist["items"]) == 9 and "does_not_meet" in checklist["ratings"]
    )
