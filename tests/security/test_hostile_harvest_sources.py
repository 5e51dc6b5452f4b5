"""Hostile catalogues harvested over HTTP (private addresses allowed for the test): bombs, entities,
remote contexts, nesting and markup are refused with a clean failed run; the portal stays healthy."""

from __future__ import annotations

import json

import pytest
from werkzeug.wrappers import Request, Response

from catalog.principal import Principal, system
from catalog.services import organisations
from catalog.services import tokens as token_service
from catalog.services import users as user_service

from ..federation.nodes import LiveServer, Node
from .leaks import assert_clean
from .site import cheap_hashing

DEEP_JSON = b'{"success": true, "result": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="x">&lol3;</rdf:Description></rdf:RDF>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">
<rdf:Description rdf:about="http://x/d"><dct:title>&x;</dct:title></rdf:Description></rdf:RDF>"""
REMOTE_CONTEXT = json.dumps({"@context": "http://127.0.0.1:1/context.jsonld", "@id": "x"}).encode()
DEEP_TURTLE = b"@prefix ex: <http://x/> . ex:a ex:b " + b"[ ex:c " * 20_000 + b"]" * 20_000 + b" ."
XSS_CKAN = json.dumps(
    {
        "success": True,
        "result": [
            {
                "name": "x",
                "title": "<script>alert(1)</script>",
                "notes": "<img src=x onerror=alert(1)>",
            }
        ],
    }
).encode()

BODIES = {
    "/deep-json/api/3/action/package_list": (DEEP_JSON, "application/json"),
    "/deep-json/api/3/action/package_search": (DEEP_JSON, "application/json"),
    "/deep-jsonld/catalog.jsonld": (b"[" * 50_000 + b"]" * 50_000, "application/ld+json"),
    "/laughs/catalog.rdf": (BILLION_LAUGHS, "application/rdf+xml"),
    "/xxe/catalog.rdf": (XXE, "application/rdf+xml"),
    "/remote/catalog.jsonld": (REMOTE_CONTEXT, "application/ld+json"),
    "/turtle/catalog.ttl": (DEEP_TURTLE, "text/turtle"),
    "/garbage/api/3/action/package_search": (bytes(range(256)) * 100, "application/json"),
}


class Hostile(LiveServer):
    def __init__(self) -> None:
        self.paths: list[str] = []
        super().__init__(self._answer)

    def _answer(self, environ, start_response):
        req = Request(environ)
        self.paths.append(req.path)
        body, ctype = BODIES.get(req.path, (b'{"success": false}', "application/json"))
        return Response(body, mimetype=ctype)(environ, start_response)


@pytest.fixture(scope="module")
def harvesting(tmp_path_factory):
    node = Node(tmp_path_factory.mktemp("harvesting"), "harvesting", HARVEST_ALLOW_PRIVATE=True)
    hostile = Hostile()
    with cheap_hashing(), node.runtime.db.session() as s:
        org = organisations.create_organisation(s, system(), slug="hub", name="Hub")
        user = user_service.create_user(
            s, system(), email="h@example.org", password="a long pass phrase 42", is_admin=True
        )
        organisations.set_membership(s, system(), org, user, "admin")
        _row, raw = token_service.create_personal_token(
            s,
            Principal(kind="user", user_id=user.id, is_admin=True),
            name="h",
            scopes=["org:admin"],
            organisation_ids=[org.id],
        )
    yield node, hostile, {"Authorization": f"Bearer {raw}"}
    hostile.close()
    node.close()


@pytest.mark.parametrize(
    "name, path, kind",
    [
        ("deep-ckan", "/deep-json/api/3/action", "ckan"),
        ("deep-jsonld", "/deep-jsonld/catalog.jsonld", "dcat"),
        ("laughs", "/laughs/catalog.rdf", "dcat"),
        ("xxe", "/xxe/catalog.rdf", "dcat"),
        ("remote-context", "/remote/catalog.jsonld", "dcat"),
        ("deep-turtle", "/turtle/catalog.ttl", "dcat"),
        ("garbage", "/garbage/api/3/action", "ckan"),
    ],
)
def test_a_hostile_catalogue_fails_its_run_cleanly(harvesting, name, path, kind):
    import requests

    node, hostile, auth = harvesting
    created = requests.post(
        f"{node.url}/api/v1/harvest/sources",
        json={"name": name, "url": hostile.url + path, "kind": kind},
        headers=auth,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    run = requests.post(f"{node.url}/api/v1/harvest/sources/{name}/runs", headers=auth, timeout=60)
    assert_clean(run, name)
    report = requests.get(
        f"{node.url}/api/v1/harvest/runs/{run.json()['id']}", headers=auth, timeout=30
    )
    assert_clean(report, name)
    body = report.json()
    assert body["status"] == "failed", body
    text = json.dumps(body)
    assert "root:" not in text and "lollollol" not in text
    assert "RecursionError" not in text and "maximum recursion" not in text, text[:400]
    assert body["error"]["code"].startswith("harvest_"), body["error"]
    assert requests.get(f"{node.url}/healthz", timeout=30).status_code == 200
    assert "/context.jsonld" not in hostile.paths
