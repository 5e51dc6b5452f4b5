"""Every REST action and GraphQL mutation x every scope x own / other organisation x anonymous
(and x role).

Exactly the allowed cells succeed; every refused cell answers with its stable
error code. The rules live in catalog.permissions; this checks that both
interfaces go through them for every action.
"""

from __future__ import annotations

import io
import json

import pytest

from catalog.principal import SCOPES
from tests.accounts.world import World, bearer, metadata, survey_csv

OWN, OTHER = "samata", "dalit-voice"

# action -> (scope needed, least role). Reads of unpublished things need read-private.
RULES = {
    "create_dataset": ("datasets:write", "editor"),
    "read_private_dataset": ("datasets:read-private", "member"),
    "upload_multipart": ("datasets:write", "editor"),
    "start_resumable_upload": ("datasets:write", "editor"),
    "job_status": ("datasets:read-private", "member"),
    "version_state": ("datasets:read-private", "member"),
    "validation_report": ("datasets:read-private", "member"),
    "anonymisation_report": ("datasets:read-private", "member"),
    "publish": ("datasets:publish", "publisher"),
    "withdraw": ("datasets:publish", "publisher"),
    "graphql_create_dataset": ("datasets:write", "editor"),
    "graphql_update_metadata": ("datasets:write", "editor"),
    "graphql_start_upload": ("datasets:write", "editor"),
    "graphql_publish": ("datasets:publish", "publisher"),
    "graphql_withdraw": ("datasets:publish", "publisher"),
}

MUTATIONS = {
    "graphql_create_dataset": (
        "mutation($o: String!, $m: JSON!) { createDataset(organization: $o, metadata: $m) { dataset { id } } }",
        lambda t: {"o": t["org"], "m": metadata("Created by GraphQL")},
    ),
    "graphql_update_metadata": (
        "mutation($d: String!, $m: JSON!) { updateDatasetMetadata(dataset: $d, metadata: $m) { dataset { id } } }",
        lambda t: {"d": t["read"]["dataset"], "m": metadata("Renamed by GraphQL")},
    ),
    "graphql_start_upload": (
        'mutation($d: String!) { startUpload(dataset: $d, filename: "s.csv", size: 100) { upload { id } } }',
        lambda t: {"d": t["read"]["dataset"]},
    ),
    "graphql_publish": (
        "mutation($v: ID!) { publishVersion(version: $v, approveFreeText: true) { job { id } } }",
        lambda t: {"v": t["gpublish"]["version"]},
    ),
    "graphql_withdraw": (
        "mutation($v: ID!) { withdrawVersion(version: $v) { job { id } } }",
        lambda t: {"v": t["gwithdraw"]["version"]},
    ),
}
ROLES = ["member", "editor", "publisher", "admin"]


def _outcome(client, action: str, headers: dict, target: dict) -> tuple[bool, str | None, str]:
    """(succeeded, error code, what came back) for one cell, over REST or GraphQL."""
    if action in MUTATIONS:
        query, variables = MUTATIONS[action]
        resp = client.post(
            "/graphql", headers=headers, json={"query": query, "variables": variables(target)}
        )
        body = resp.get_json()
        errors = body.get("errors") or []
        if resp.status_code == 200 and not errors and all((body.get("data") or {}).values()):
            return True, None, ""
        code = (
            (errors[0].get("extensions") or {}).get("code")
            if errors
            else f"http_{resp.status_code}"
        )
        return False, code, resp.get_data(as_text=True)[:300]
    resp = _do(client, action, headers, target)
    if resp.status_code < 300:
        return True, None, ""
    return False, resp.get_json()["error"]["code"], resp.get_data(as_text=True)[:300]


def _do(client, action: str, headers: dict, target: dict):
    csv = survey_csv(30, seed=9)
    if action == "create_dataset":
        return client.post(
            "/api/v1/datasets",
            headers=headers,
            json={"organisation": target["org"], "metadata": metadata("Matrix created")},
        )
    if action == "read_private_dataset":
        return client.get(f"/api/v1/datasets/{target['read']['slug']}", headers=headers)
    if action == "upload_multipart":
        return client.post(
            f"/api/v1/datasets/{target['read']['dataset']}/versions",
            headers=headers,
            data={
                "file": (io.BytesIO(csv), "survey.csv"),
                "columns": json.dumps(metadata("x")["columns"]),
            },
            content_type="multipart/form-data",
        )
    if action == "start_resumable_upload":
        return client.post(
            f"/api/v1/datasets/{target['read']['dataset']}/uploads",
            headers=headers,
            json={"filename": "survey.csv", "size": len(csv)},
        )
    if action == "job_status":
        return client.get(f"/api/v1/jobs/{target['read']['job']}", headers=headers)
    if action == "version_state":
        return client.get(f"/api/v1/versions/{target['read']['version']}", headers=headers)
    if action == "validation_report":
        return client.get(
            f"/api/v1/versions/{target['read']['version']}/validation-report", headers=headers
        )
    if action == "anonymisation_report":
        return client.get(
            f"/api/v1/versions/{target['read']['version']}/anonymisation-report", headers=headers
        )
    if action == "publish":
        return client.post(
            f"/api/v1/versions/{target['publish']['version']}/publish",
            headers=headers,
            json={"approve_free_text": True},
        )
    if action == "withdraw":
        return client.post(
            f"/api/v1/versions/{target['withdraw']['version']}/withdraw", headers=headers
        )
    raise AssertionError(action)


def _targets(world: World, org: str) -> dict:
    return {
        "org": org,
        "read": world.dataset(org, f"{org} private survey"),
        "publish": world.dataset(org, f"{org} to publish"),
        "withdraw": world.dataset(org, f"{org} to withdraw"),
        "gpublish": world.dataset(org, f"{org} to publish by GraphQL"),
        "gwithdraw": world.dataset(org, f"{org} to withdraw by GraphQL"),
    }


def _expected_refusal(action: str, headers: dict, scope_ok: bool, org_ok: bool) -> set[str]:
    if not headers:
        # Anonymous: reads of unpublished things are simply not found, writes need sign-in.
        return {"dataset_not_found"} if action == "read_private_dataset" else {"unauthenticated"}
    if action == "read_private_dataset":
        return {"dataset_not_found"}
    if not scope_ok:
        return {"insufficient_scope"}
    if not org_ok:
        return {"organisation_not_granted"}
    return {"role_required"}


@pytest.fixture
def world(make_app):
    app = make_app()
    world = World(app.extensions["cgd"])
    world.app = app
    world.add_org(OWN)
    world.add_org(OTHER)
    return world


def test_exactly_the_allowed_scope_and_organisation_cells_succeed(world):
    world.add_user("own-admin", org=OWN, role="admin")
    targets = {OWN: _targets(world, OWN), OTHER: _targets(world, OTHER)}
    principals = {"anonymous": None}
    for scope in SCOPES:
        principals[scope] = world.token("own-admin", [scope], [OWN])
    client = world.app.test_client()
    wrong = []
    cells = 0
    for action, (needed, _role) in RULES.items():
        for label, token in principals.items():
            for org in (OWN, OTHER):
                cells += 1
                headers = bearer(token)
                allowed = token is not None and label == needed and org == OWN
                ok, code, text = _outcome(client, action, headers, targets[org])
                if ok != allowed:
                    wrong.append((action, label, org, text))
                elif not ok:
                    want = _expected_refusal(action, headers, label == needed, org == OWN)
                    if code not in want:
                        wrong.append((action, label, org, f"code {code}, want {want}"))
    assert cells == len(RULES) * (len(SCOPES) + 1) * 2
    assert not wrong, "\n".join(map(str, wrong))


def test_exactly_the_roles_high_enough_succeed_with_every_scope(world):
    tokens = {}
    for role in ROLES:
        world.add_user(role, org=OWN, role=role)
        tokens[role] = world.token(role, list(SCOPES), [OWN])
    client = world.app.test_client()
    wrong = []
    targets = _targets(world, OWN)
    for role in ROLES:
        if ROLES.index(role) >= ROLES.index("publisher"):
            # A successful publish or withdraw changes state: fresh versions for each role that may.
            for key in ("publish", "withdraw", "gpublish", "gwithdraw"):
                targets[key] = world.dataset(OWN, f"{role} {key}")
        for action, (_scope, least) in RULES.items():
            allowed = ROLES.index(role) >= ROLES.index(least)
            ok, code, text = _outcome(client, action, bearer(tokens[role]), targets)
            if ok != allowed:
                wrong.append((action, role, text))
            elif not allowed:
                if code != (
                    "dataset_not_found" if action == "read_private_dataset" else "role_required"
                ):
                    wrong.append((action, role, code))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_token_of_another_organisation_member_cannot_act_for_ours(world):
    world.add_user("outsider", org=OTHER, role="admin")
    outsider = world.token("outsider", list(SCOPES), [OTHER])
    targets = _targets(world, OWN)
    client = world.app.test_client()
    for action in RULES:
        ok, code, text = _outcome(client, action, bearer(outsider), targets)
        assert not ok and code in {"organisation_not_granted", "dataset_not_found"}, (
            action,
            code,
            text,
        )


def test_a_token_cannot_be_bound_to_an_organisation_its_owner_does_not_belong_to(world):
    from schema.errors import InvalidInput

    world.add_user("member", org=OWN, role="admin")
    with pytest.raises(InvalidInput) as err:
        world.token("member", ["datasets:write"], [OTHER])
    assert err.value.code == "organisation_not_member"
