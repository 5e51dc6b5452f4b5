"""GraphQL for partnerships, quality reviews and endorsements: the same path as REST,
gated by ``endorsements:write`` and partner membership (SQLite; PostgreSQL in the REST suite)."""

from __future__ import annotations

import pytest

from catalog.partnership_models import QualityItem
from tests.partnerships.api_world import _call

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ALL_MEET = [{"item": item.value, "rating": "meets"} for item in QualityItem]


def _gql(world, query, variables=None, token=None):
    headers = {"Authorization": f"Bearer {world[token]}"} if token else {}
    res = (
        world["app"]
        .test_client()
        .post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    )
    return res.get_json()


PROPOSE = """
mutation($title: String!, $parties: [PartyInput!]!, $topics: [String!]) {
  proposePartnership(title: $title, parties: $parties, topics: $topics) {
    partnership { id status inForce parties { organization { slug } role acceptedAt } }
  }
}"""
ACCEPT = "mutation($id: ID!, $org: String!) { acceptPartnership(id: $id, organization: $org) { partnership { status inForce } } }"
VERIFY = 'mutation($org: String!) { verifyOrganization(organization: $org, governmentType: "nso") { organization { slug verified } } }'
START = "mutation($v: ID!) { startQualityReview(version: $v) { review { id status findings { item rating } } } }"
FINDINGS = "mutation($r: ID!, $f: [FindingInput!]!) { recordQualityFindings(review: $r, findings: $f) { review { findings { item rating } } } }"
SUBMIT = """mutation($r: ID!, $d: String!, $s: String) {
  submitQualityReview(review: $r, decision: $d, summary: $s, statement: "Fit for SDG 6.1 monitoring.") {
    review { status decision } endorsement { organization { slug } statement versionNumber endorsedAt }
  }
}"""


def _codes(result) -> list[str]:
    return [(e.get("extensions") or {}).get("code") for e in result.get("errors") or []]


def test_partnership_review_and_endorsement_through_graphql(api_world):
    world = api_world
    proposed = _gql(
        world,
        PROPOSE,
        {
            "title": "Water access monitoring",
            "parties": [{"organization": "samata"}, {"organization": "cbs"}],
            "topics": ["water"],
        },
        "cso_admin",
    )
    assert "errors" not in proposed, proposed
    partnership = proposed["data"]["proposePartnership"]["partnership"]
    assert partnership["status"] == "proposed"
    assert {p["organization"]["slug"]: p["role"] for p in partnership["parties"]} == {
        "samata": "data_provider",
        "cbs": "reviewer",
    }
    accepted = _gql(world, ACCEPT, {"id": partnership["id"], "org": "cbs"}, "nso_admin")
    assert accepted["data"]["acceptPartnership"]["partnership"] == {
        "status": "active",
        "inForce": True,
    }

    refused = _gql(world, START, {"v": world["v1"]}, "reviewer")
    assert _codes(refused) == ["organisation_not_verified"], refused
    assert _codes(_gql(world, VERIFY, {"org": "cbs"}, "cso_admin")) == ["admin_required"]
    assert _gql(world, VERIFY, {"org": "cbs"}, "operator")["data"]["verifyOrganization"][
        "organization"
    ]["verified"]

    assert _codes(_gql(world, START, {"v": world["v1"]}, "reviewer_no_scope")) == [
        "insufficient_scope"
    ]
    review = _gql(world, START, {"v": world["v1"]}, "reviewer")["data"]["startQualityReview"][
        "review"
    ]
    assert review["status"] == "draft" and len(review["findings"]) == 9
    recorded = _gql(world, FINDINGS, {"r": review["id"], "f": ALL_MEET}, "reviewer")
    assert all(
        f["rating"] == "meets"
        for f in recorded["data"]["recordQualityFindings"]["review"]["findings"]
    )
    submitted = _gql(world, SUBMIT, {"r": review["id"], "d": "endorse"}, "reviewer")["data"][
        "submitQualityReview"
    ]
    assert submitted["review"] == {"status": "submitted", "decision": "endorse"}
    assert (
        submitted["endorsement"]["organization"]["slug"] == "cbs"
        and submitted["endorsement"]["versionNumber"] == 1
    )

    public = _gql(
        world,
        """query($org: String!, $ds: String!, $v: ID!) {
          partnerships(organization: $org) { id title inForce }
          datasetPartnerships(dataset: $ds) { id }
          qualityChecklist { item question }
          qualityReviews(version: $v) { decision organization { slug } findings { item rating } }
        }""",
        {"org": "samata", "ds": world["dataset_id"], "v": world["v1"]},
    )
    assert "errors" not in public, public
    data = public["data"]
    assert (
        [p["id"] for p in data["partnerships"]]
        == [partnership["id"]]
        == [p["id"] for p in data["datasetPartnerships"]]
    )
    assert [i["item"] for i in data["qualityChecklist"]] == [i.value for i in QualityItem]
    (r,) = data["qualityReviews"]
    assert r["decision"] == "endorse" and r["organization"]["slug"] == "cbs"
    # the existing dataset type shows the badge of the published version
    status, badge = _call(world, "GET", f"/api/v1/datasets/{world['dataset_id']}/endorsements")
    assert badge["endorsed"] and badge["endorsements"][0]["organisation"]["slug"] == "cbs"


def test_anonymous_mutations_are_refused_and_drafts_stay_private(api_world):
    world = api_world
    assert _codes(_gql(world, START, {"v": world["v1"]})) == ["unauthenticated"]
    proposed = _gql(
        world,
        PROPOSE,
        {"title": "x", "parties": [{"organization": "samata"}, {"organization": "cbs"}]},
    )
    assert _codes(proposed) == ["unauthenticated"]
