"""Contributor mutations over HTTP with personal access tokens minted by the catalogue."""

from __future__ import annotations

import pytest
import requests
from gql.transport.exceptions import TransportQueryError

from catalog.models import Role
from catalog.partnership_models import QualityItem
from catalog.principal import system
from catalog.services import organisations, partnerships
from catalog.services.partnerships import PartySpec
from indexer.synthetic import demo_metadata, generate_survey

from .conftest import person, personal_token

CREATE = """mutation($org: String!, $meta: JSON!) { createDataset(organization: $org, metadata: $meta) {
    dataset { id databaseId slug title organization { slug } } } }"""


@pytest.fixture
def world(fresh_server):
    live = fresh_server()
    rt = live.runtime
    with rt.db.session() as s:
        organisations.create_organisation(s, system(), slug="samata", name="Samata Collective")
        organisations.create_organisation(s, system(), slug="other-cso", name="Other CSO")
        nso = organisations.create_organisation(
            s, system(), slug="cbs-nepal", name="Central Bureau of Statistics", kind="government"
        )
        partnerships.verify_organisation(s, system(), nso, government_type="nso", note="checked")
    publisher = person(rt, "publisher@samata.example", "samata", Role.PUBLISHER.value)
    live.extras["publisher"] = personal_token(
        rt, publisher, ["samata"], ["datasets:write", "datasets:publish"]
    )
    live.extras["write_only"] = personal_token(rt, publisher, ["samata"], ["datasets:write"])
    outsider = person(rt, "editor@other.example", "other-cso", Role.EDITOR.value)
    live.extras["outsider"] = personal_token(rt, outsider, ["other-cso"], ["datasets:write"])
    nso_admin = person(rt, "admin@cbs.example", "cbs-nepal", Role.ADMIN.value)
    samata_admin = person(rt, "admin@samata.example", "samata", Role.ADMIN.value)
    with rt.db.session() as s:
        p = partnerships.create_partnership(
            s,
            samata_admin,
            title="Water monitoring",
            parties=[PartySpec("samata"), PartySpec("cbs-nepal")],
            topics=["water"],
        )
        partnerships.accept_partnership(s, nso_admin, p, "cbs-nepal")
    reviewer = person(rt, "reviewer@cbs.example", "cbs-nepal", Role.MEMBER.value)
    live.extras["reviewer"] = personal_token(rt, reviewer, ["cbs-nepal"], ["endorsements:write"])
    return live


def codes(live, query, variables, token=None) -> list[str]:
    with pytest.raises(TransportQueryError) as caught:
        live.execute(query, variables, token)
    return [e["extensions"]["code"] for e in caught.value.errors]


def upload_and_publish(live, dataset_id: str, csv: bytes) -> str:
    token = live.extras["publisher"]
    started = live.execute(
        """mutation($d: String!, $size: Int!) { startUpload(dataset: $d, filename: "survey.csv", size: $size) {
            upload { id chunkUrl completeUrl chunkSize received } } }""",
        {"d": dataset_id, "size": len(csv)},
        token,
    )["startUpload"]["upload"]
    assert started["received"] == 0
    auth = {"Authorization": f"Bearer {token}"}
    local = lambda url: url.replace("http://portal.test", live.url)  # noqa: E731 - BASE_URL of the test app
    half = len(csv) // 2
    for start, chunk in ((0, csv[:half]), (half, csv[half:])):
        r = requests.put(
            local(started["chunkUrl"]),
            data=chunk,
            timeout=30,
            headers={**auth, "Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(csv)}"},
        )
        assert r.status_code == 200, r.text
    done = requests.post(local(started["completeUrl"]), headers=auth, timeout=60)
    assert done.status_code == 202, done.text
    version_id = done.json()["version"]["id"]
    job = live.execute(
        "mutation($v: ID!) { publishVersion(version: $v, approveFreeText: true) { job { id kind status } } }",
        {"v": version_id},
        token,
    )["publishVersion"]["job"]
    assert job["kind"] == "publish"
    return version_id


def test_contributor_creates_uploads_publishes_and_withdraws_through_graphql(world):
    live = world
    token = live.extras["publisher"]
    created = live.execute(CREATE, {"org": "samata", "meta": demo_metadata()}, token)[
        "createDataset"
    ]["dataset"]
    assert created["organization"]["slug"] == "samata"
    meta = demo_metadata()
    meta["title"] = {"en": "Water access survey, revised"}
    updated = live.execute(
        "mutation($d: String!, $m: JSON!) { updateDatasetMetadata(dataset: $d, metadata: $m) { dataset { title } } }",
        {"d": created["id"], "m": meta},
        token,
    )["updateDatasetMetadata"]["dataset"]
    assert updated["title"] == "Water access survey, revised"

    csv = generate_survey(150, seed=5).write_csv().encode()
    version_id = upload_and_publish(live, created["databaseId"], csv)
    public = live.execute(
        '{ datasets(query: "revised") { totalCount edges { node { slug recordCount } } } }'
    )
    assert public["datasets"]["totalCount"] == 1
    assert public["datasets"]["edges"][0]["node"]["recordCount"] > 0

    records_query = "query($d: String!) { records(dataset: $d, first: 5) { totalCount rows } }"
    assert live.execute(records_query, {"d": created["databaseId"]})["records"]["totalCount"] > 0

    withdrawn = live.execute(
        "mutation($v: ID!) { withdrawVersion(version: $v) { job { kind status } } }",
        {"v": version_id},
        token,
    )["withdrawVersion"]["job"]
    assert withdrawn["kind"] == "withdraw"
    assert (
        live.execute('{ datasets(query: "revised") { totalCount } }')["datasets"]["totalCount"] == 0
    )


def test_mutations_are_refused_by_the_catalogue_rules(world):
    live = world
    meta = demo_metadata()
    assert codes(live, CREATE, {"org": "samata", "meta": meta}) == ["unauthenticated"]
    assert codes(live, CREATE, {"org": "samata", "meta": meta}, live.extras["outsider"]) == [
        "organisation_not_granted"
    ]
    created = live.execute(CREATE, {"org": "samata", "meta": meta}, live.extras["write_only"])
    dataset_id = created["createDataset"]["dataset"]["databaseId"]
    bad = dict(meta)
    del bad["title"]
    assert codes(live, CREATE, {"org": "samata", "meta": bad}, live.extras["publisher"]) == [
        "invalid_metadata"
    ]
    assert codes(
        live,
        'mutation($d: String!) { startUpload(dataset: $d, filename: "x.csv", size: 10) { upload { id } } }',
        {"d": dataset_id},
        live.extras["outsider"],
    ) == ["organisation_not_granted"]
    assert codes(
        live,
        'mutation { publishVersion(version: "nope") { job { id } } }',
        {},
        live.extras["write_only"],
    ) == ["version_not_found"]


def test_start_upload_keeps_the_extension_of_a_name_in_another_script(world):
    live = world
    token = live.extras["publisher"]
    created = live.execute(CREATE, {"org": "samata", "meta": demo_metadata()}, token)
    dataset_id = created["createDataset"]["dataset"]["databaseId"]
    start = """mutation($d: String!, $f: String!) { startUpload(dataset: $d, filename: $f, size: 10) {
        upload { filename } } }"""
    upload = live.execute(start, {"d": dataset_id, "f": "सर्वेक्षण.csv"}, token)["startUpload"]
    assert upload["upload"]["filename"] == "upload.csv"
    assert codes(live, start, {"d": dataset_id, "f": "सर्वेक्षण"}, token) == ["invalid_upload"]


def test_publishing_needs_the_publish_scope(world):
    live = world
    created = live.execute(
        CREATE, {"org": "samata", "meta": demo_metadata()}, live.extras["publisher"]
    )
    dataset_id = created["createDataset"]["dataset"]["databaseId"]
    csv = generate_survey(120, seed=9).write_csv().encode()
    version_id = upload_and_publish(live, dataset_id, csv)
    assert codes(
        live,
        "mutation($v: ID!) { withdrawVersion(version: $v) { job { id } } }",
        {"v": version_id},
        live.extras["write_only"],
    ) == ["insufficient_scope"]


def test_partner_endorses_a_published_version(world):
    live = world
    created = live.execute(
        CREATE, {"org": "samata", "meta": demo_metadata()}, live.extras["publisher"]
    )
    dataset_id = created["createDataset"]["dataset"]["databaseId"]
    version_id = upload_and_publish(
        live, dataset_id, generate_survey(150, seed=13).write_csv().encode()
    )
    findings = [{"item": item.value, "rating": "meets"} for item in QualityItem]
    endorse = """mutation($v: ID!, $f: [FindingInput!]!) { endorseVersion(version: $v, findings: $f,
        statement: "Fit for SDG 6.1 reporting.") { endorsement { statement versionNumber organization { slug } } } }"""
    assert codes(live, endorse, {"v": version_id, "f": findings}, live.extras["publisher"])[0] in {
        "insufficient_scope",
        "not_a_partner",
        "own_data",
    }
    done = live.execute(endorse, {"v": version_id, "f": findings}, live.extras["reviewer"])
    assert done["endorseVersion"]["endorsement"] == {
        "statement": "Fit for SDG 6.1 reporting.",
        "versionNumber": 1,
        "organization": {"slug": "cbs-nepal"},
    }
    one = live.execute(
        "query($id: ID!) { dataset(id: $id) { endorsed endorsements { organization { name } } } }",
        {"id": dataset_id},
    )["dataset"]
    assert one["endorsements"] == [{"organization": {"name": "Central Bureau of Statistics"}}]
    assert one["endorsed"] is True


def test_an_unknown_token_is_a_graphql_shaped_401(world):
    r = requests.post(
        f"{world.url}/graphql",
        json={"query": "{ rateLimit { limit } }"},
        headers={"Authorization": "Bearer cgd_pat_not-a-real-token"},
        timeout=10,
    )
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]
    assert r.json()["errors"][0]["extensions"]["code"] == "invalid_token"


def test_a_cross_site_form_post_cannot_carry_a_mutation(world):
    # Browsers send text/plain and form bodies cross-site without a preflight; only JSON is read.
    body = '{"query": "mutation { withdrawVersion(version: \\"x\\") { job { id } } }"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        r = requests.post(
            f"{world.url}/graphql", data=body, headers={"Content-Type": content_type}, timeout=10
        )
        assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "bad_request"
