"""Harvest sources cannot reach this machine or its network (SSRF), over the admin REST API."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Response

from catalog.principal import Principal, system
from catalog.services import organisations
from catalog.services import tokens as token_service
from catalog.services import users as user_service

from ..federation.nodes import LiveServer
from .leaks import assert_clean
from .site import cheap_hashing


class Canary(LiveServer):
    """A service on 127.0.0.1 that must never be reached; redirects to itself if asked."""

    def __init__(self) -> None:
        self.hits = 0
        super().__init__(self._answer)

    def _answer(self, environ, start_response):
        self.hits += 1
        return Response(b'{"success": true, "result": []}', mimetype="application/json")(
            environ, start_response
        )


@pytest.fixture(scope="module")
def canary():
    c = Canary()
    yield c
    c.close()


@pytest.fixture(scope="module")
def admin_token(site):
    with cheap_hashing(), site.runtime.db.session() as s:
        user = user_service.create_user(
            s,
            system("test"),
            email="root@example.org",
            password="a long pass phrase 42",
            is_admin=True,
        )
        org = organisations.get_organisation(s, "samata")
        organisations.set_membership(s, system("test"), org, user, "admin")
        _row, raw = token_service.create_personal_token(
            s,
            Principal(kind="user", user_id=user.id, is_admin=True),
            name="harvest admin",
            scopes=["org:admin"],
            organisation_ids=[org.id],
        )
    return raw


def _targets(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/api/3/action",
        f"http://localhost:{port}/api/3/action",
        f"http://127.1:{port}/",
        f"http://0x7f000001:{port}/",
        f"http://2130706433:{port}/",
        f"http://017700000001:{port}/",
        f"http://[::1]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://0.0.0.0:{port}/",
        f"http://user:pass@127.0.0.1:{port}/",
        f"http://127.0.0.1.:{port}/",
        f"HTTP://LOCALHOST:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://127.0.0.1/",
        "dict://127.0.0.1:6379/info",
        f"http://127.0.0.1:{port}@evil.example/",
        "http://redis:6379/",
        "javascript:alert(1)",
        "//127.0.0.1/",
        "http:///etc/passwd",
        f"http://[::]:{port}/",
        f"http://0:{port}/",
        f"http://[fe80::1%25lo]:{port}/",
        f"http://127.0.0.1:{port}#@evil.example/",
        f"http://127.0.0.1:{port}\\@evil.example/",
        f"http://①②⑦.0.0.1:{port}/",
        f"http://localhost.:{port}/",
        f"http://LOCALHOST.localdomain:{port}/",
    ]


def test_private_and_non_http_sources_are_refused_or_never_reached(site, canary, admin_token):
    auth = {"Authorization": f"Bearer {admin_token}"}
    assert site.app.config.get("HARVEST_ALLOW_PRIVATE") in (None, False)
    for i, url in enumerate(_targets(canary.server.port)):
        for kind in ("ckan", "dcat", "cgd"):
            name = f"ssrf-{i}-{kind}"
            created = site.post(
                "/api/v1/harvest/sources",
                json={"name": name, "url": url, "kind": kind},
                headers=auth,
            )
            assert_clean(created, url, site)
            if created.status_code == 201:
                run = site.post(f"/api/v1/harvest/sources/{name}/runs", headers=auth)
                assert_clean(run, url, site)
                assert run.status_code in (202, 400, 403, 409), (url, run.status_code)
                if run.status_code == 202:
                    report = site.get(
                        f"/api/v1/harvest/runs/{run.json()['id']}", headers=auth
                    ).json()
                    assert report["status"] == "failed", (url, report)
                    assert report["counts"].get("created", 0) == 0, (url, report)
            else:
                assert created.status_code in (400, 409, 422), (url, created.status_code)
                assert created.json()["error"]["code"], created.text
    assert canary.hits == 0, f"the harvester reached 127.0.0.1 {canary.hits} times"


def test_only_site_administrators_register_sources(site, canary):
    for label in ("ada", "bea"):
        token = site.token(
            label, ["org:admin", "datasets:write"], ["samata" if label == "ada" else "dalit-voice"]
        )
        resp = site.post(
            "/api/v1/harvest/sources",
            json={
                "name": f"by-{label}",
                "url": "https://data.example.org/api/3/action",
                "kind": "ckan",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 403, resp.text
    resp = site.post(
        "/api/v1/harvest/sources", json={"name": "anon", "url": "https://x.example", "kind": "ckan"}
    )
    assert resp.status_code in (401, 403)
