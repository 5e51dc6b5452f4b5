"""The harvester never reaches private addresses unless allowed, and bounds time and size."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Response

from catalog.principal import Principal, system
from catalog.services import harvest as harvest_service
from indexer import harvest_http
from indexer.harvest import harvest_now
from indexer.harvest_http import HarvestClient, HarvestFetchError, address_allowed, check_url
from schema.errors import Conflict, InvalidInput, PermissionDenied

from .nodes import LiveServer, Node


class CountingServer(LiveServer):
    """Answers every request with a fixed body (after an optional delay) and counts them."""

    def __init__(
        self,
        body: bytes = b"{}",
        delay: float = 0.0,
        headers: dict | None = None,
        status: int = 200,
    ):
        self.body, self.delay, self.headers, self.status, self.hits = (
            body,
            delay,
            headers or {},
            status,
            0,
        )
        super().__init__(self._answer)

    def _answer(self, environ, start_response):
        self.hits += 1
        if self.delay:
            time.sleep(self.delay)
        return Response(
            self.body, status=self.status, headers=self.headers, mimetype="application/json"
        )(environ, start_response)


@pytest.fixture
def server():
    servers = []

    def make(**kw):
        s = CountingServer(**kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address):
    assert not address_allowed(address, allow_private=False)


def test_public_addresses_pass_and_the_allow_setting_lifts_the_private_rule():
    assert address_allowed("93.184.215.14", allow_private=False)
    assert address_allowed("2606:4700::1111", allow_private=False)
    assert address_allowed("127.0.0.1", allow_private=True) and address_allowed(
        "10.0.0.1", allow_private=True
    )
    assert not address_allowed("0.0.0.0", allow_private=True)


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://127.0.0.1:5000/catalog.ttl", "harvest_address_refused"),
        ("http://localhost/api/3/action/package_search", "harvest_address_refused"),
        ("http://[::1]/graphql", "harvest_address_refused"),
        ("http://169.254.169.254/latest/meta-data/", "harvest_address_refused"),
        ("http://2130706433/", "harvest_address_refused"),
        ("file:///etc/passwd", "harvest_bad_url"),
        ("gopher://example.org/", "harvest_bad_url"),
        ("http://user:secret@example.org/", "harvest_bad_url"),
    ],
)
def test_check_url_refuses_what_it_must(url, code):
    with pytest.raises(HarvestFetchError) as err:
        check_url(url, allow_private=False)
    assert err.value.code == code


def test_harvest_of_a_loopback_source_is_refused_without_the_allow_setting(tmp_path, server):
    target = server(body=b'{"success": true, "result": {"count": 0, "results": []}}')
    node = Node(tmp_path, "strict", HARVEST_ALLOW_PRIVATE=False)  # the default
    try:
        with node.runtime.db.session() as s:
            harvest_service.create_source(s, system(), name="internal", url=target.url, kind="ckan")
        result = harvest_now(node.runtime.ctx, "internal")
        assert result["status"] == "failed" and result["error"]["code"] == "harvest_address_refused"
        assert target.hits == 0  # nothing was sent
    finally:
        node.close()


def test_a_dns_answer_that_changes_after_the_check_is_caught_at_connect(server, monkeypatch):
    """Rebinding: the name checked as public, the socket lands on loopback; the peer check refuses it."""
    target = server()
    monkeypatch.setattr(harvest_http, "check_url", lambda url, allow_private: None)
    client = HarvestClient(allow_private=False)
    with pytest.raises(HarvestFetchError) as err:
        client.get(target.url)
    assert err.value.code == "harvest_address_refused"
    assert target.hits == 0


def test_redirects_are_rechecked_at_every_hop(server):
    final = server(body=b'{"ok": true}')
    hop = server(status=302, headers={"Location": final.url + "/x"})
    client = HarvestClient(allow_private=True)
    assert client.get(hop.url).json() == {"ok": True}
    to_file = server(status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(HarvestFetchError) as err:
        client.get(to_file.url)
    assert err.value.code == "harvest_bad_url"


def test_responses_over_the_size_limit_are_cut_off(server):
    big = server(body=b"x" * 300_000)
    with pytest.raises(HarvestFetchError) as err:
        HarvestClient(allow_private=True, max_bytes=100_000).get(big.url)
    assert err.value.code == "harvest_too_large"
    assert len(HarvestClient(allow_private=True, max_bytes=400_000).get(big.url).body) == 300_000


def test_slow_sources_time_out_and_a_run_has_a_deadline(server):
    slow = server(delay=1.5)
    started = time.monotonic()
    with pytest.raises(HarvestFetchError) as err:
        HarvestClient(allow_private=True, timeout=0.3).get(slow.url)
    assert err.value.code == "harvest_timeout" and time.monotonic() - started < 1.4
    client = HarvestClient(allow_private=True, deadline_seconds=0.01)
    time.sleep(0.02)
    with pytest.raises(HarvestFetchError) as err:
        client.get(slow.url)
    assert err.value.code == "harvest_timeout"


def test_only_site_administrators_configure_sources(tmp_path):
    node = Node(tmp_path, "admin")
    try:
        member = Principal(kind="user", user_id=7, is_admin=False)
        with node.runtime.db.session() as s:
            with pytest.raises(PermissionDenied):
                harvest_service.create_source(
                    s, member, name="peer", url="https://example.org", kind="ckan"
                )
            with pytest.raises(InvalidInput) as err:
                harvest_service.create_source(
                    s, system(), name="Bad Name", url="ftp://x", kind="sparql"
                )
            assert {p.field for p in err.value.problems} == {"name", "url", "kind"}
            source = harvest_service.create_source(
                s, system(), name="peer", url="https://peer.invalid", kind="ckan"
            )
            with pytest.raises(PermissionDenied):
                harvest_service.request_harvest(s, member, source)
            harvest_service.request_harvest(s, system(), source)
            with pytest.raises(Conflict) as busy:  # one run of a source at a time
                harvest_service.request_harvest(s, system(), source)
            assert busy.value.code == "harvest_running"
    finally:
        node.close()


def test_due_sources_are_the_active_scheduled_ones_whose_last_run_is_old_enough(tmp_path):
    from datetime import UTC, datetime, timedelta

    node = Node(tmp_path, "schedule")
    try:
        now = datetime.now(UTC)
        with node.runtime.db.session() as s:
            for name, hours, last, active in [
                ("hourly-stale", 1, now - timedelta(hours=2), True),
                ("hourly-fresh", 1, now - timedelta(minutes=10), True),
                ("daily-never", 24, None, True),
                ("on-demand", None, None, True),
                ("paused", 1, None, False),
            ]:
                src = harvest_service.create_source(
                    s,
                    system(),
                    name=name,
                    url="https://peer.invalid",
                    kind="dcat",
                    frequency_hours=hours,
                )
                src.last_run_at, src.active = last, active
        with node.runtime.db.session() as s:
            assert sorted(x.name for x in harvest_service.due_sources(s, now)) == [
                "daily-never",
                "hourly-stale",
            ]
    finally:
        node.close()


def test_private_addresses_are_refused_by_default_configuration(tmp_path):
    from portal.config import load_config

    assert (
        load_config({"INSTANCE_PATH": str(tmp_path / "i")}, env={})["HARVEST_ALLOW_PRIVATE"]
        is False
    )
    env = {"CGD_HARVEST_ALLOW_PRIVATE": "true"}
    assert (
        load_config({"INSTANCE_PATH": str(tmp_path / "i")}, env=env)["HARVEST_ALLOW_PRIVATE"]
        is True
    )
