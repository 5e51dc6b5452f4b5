"""Site administrators configure and run harvest sources over ``/api/v1/harvest`` with a token."""

from __future__ import annotations

import pytest

from catalog.principal import Principal, system
from catalog.services import organisations, tokens
from catalog.services import users as user_service

from .nodes import Node


@pytest.fixture
def node(tmp_path):
    n = Node(tmp_path, "admin-api", HARVEST_ALLOW_PRIVATE=True)
    yield n
    n.close()


def _token(node: Node, email: str, *, admin: bool, scopes: list[str]) -> str:
    with node.runtime.db.session() as s:
        try:
            org = organisations.get_organisation(s, "hub")
        except Exception:  # noqa: BLE001 - first call creates it
            org = organisations.create_organisation(s, system(), slug="hub", name="Hub")
        user = user_service.create_user(
            s, system(), email=email, password="a long pass phrase 42", is_admin=admin
        )
        organisations.set_membership(s, system(), org, user, "admin")
        me = Principal(kind="user", user_id=user.id, is_admin=admin)
        _row, raw = tokens.create_personal_token(
            s, me, name="harvest", scopes=scopes, organisation_ids=[org.id]
        )
    return raw


def test_admin_token_registers_a_source_queues_a_run_and_reads_the_report(node, catalogue):
    client = node.app.test_client()
    auth = {
        "Authorization": f"Bearer {_token(node, 'admin@example.org', admin=True, scopes=['org:admin'])}"
    }
    created = client.post(
        "/api/v1/harvest/sources",
        headers=auth,
        json={
            "name": "peer",
            "url": f"{catalogue.url}/api/3/action",
            "kind": "ckan",
            "frequency_hours": 24,
        },
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["last_run"] is None
    started = client.post("/api/v1/harvest/sources/peer/runs", headers=auth)
    assert started.status_code == 202
    run = client.get(f"/api/v1/harvest/runs/{started.get_json()['id']}", headers=auth).get_json()
    assert run["status"] == "succeeded" and run["progress"] == 100  # the test app runs jobs inline
    assert run["counts"]["created"] == 3 and len(run["report"]["created"]) == 3
    listed = client.get("/api/v1/harvest/sources", headers=auth).get_json()["sources"]
    assert [(s["name"], s["last_run"]["status"]) for s in listed] == [("peer", "succeeded")]
    bad = client.post(
        "/api/v1/harvest/sources", headers=auth, json={"name": "x", "url": "nope", "kind": "ftp"}
    )
    assert bad.status_code == 400 and {p["field"] for p in bad.get_json()["error"]["problems"]} == {
        "name",
        "url",
        "kind",
    }


@pytest.mark.parametrize(
    "admin, scopes", [(False, ["org:admin"]), (True, ["datasets:read-private"])]
)
def test_other_tokens_and_anonymous_callers_are_refused(node, admin, scopes):
    client = node.app.test_client()
    auth = {
        "Authorization": f"Bearer {_token(node, 'someone@example.org', admin=admin, scopes=scopes)}"
    }
    body = {"name": "peer", "url": "https://example.org", "kind": "ckan"}
    assert client.post("/api/v1/harvest/sources", headers=auth, json=body).status_code == 403
    assert client.get("/api/v1/harvest/sources", headers=auth).status_code == 403
    anonymous = client.get("/api/v1/harvest/sources")
    assert (
        anonymous.status_code == 403 and anonymous.get_json()["error"]["code"] == "unauthenticated"
    )
