"""The anonymous page cache: a kept page is served to anonymous readers only, a publish or any
catalogue change invalidates it in every process, and a kept page keeps every header."""

from __future__ import annotations

import pytest
from flask import render_template_string

from catalog.models import Dataset
from catalog.principal import system
from catalog.services import datasets as dataset_service
from indexer.dataset_index import refresh_dataset_document
from portal import page_cache
from portal.app import create_app
from tests.accounts.world import PASSWORD, cheap_password_hashing, csrf_token
from tests.conftest import app_config
from tests.portal.site import published_site

GZIP = {"Accept-Encoding": "gzip"}
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
)


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("page-cache")


@pytest.fixture(scope="module")
def site(folder):
    """Two apps on one catalogue and one search index: two gunicorn workers, in effect."""
    app, slug = published_site(folder)
    other = create_app(app_config(folder), start_jobs=False)
    yield app, other, slug
    other.extensions["cgd"].close()
    app.extensions["cgd"].close()


class Renders:
    """Counts how often a view really runs (a kept page does not run it)."""

    def __init__(self, app, endpoint: str) -> None:
        self.count = 0
        view = app.view_functions[endpoint]

        def counted(*args, **kwargs):
            self.count += 1
            return view(*args, **kwargs)

        app.view_functions[endpoint] = counted
        self._restore = lambda: app.view_functions.__setitem__(endpoint, view)


@pytest.fixture
def renders(site):
    made = []

    def watch(endpoint: str, app=None) -> Renders:
        r = Renders(app or site[0], endpoint)
        made.append(r)
        return r

    yield watch
    for r in made:
        r._restore()


def _title(app, slug: str) -> str:
    with app.extensions["cgd"].db.session() as s:
        return dataset_service.get_dataset(s, slug, system()).title("en")


def _retitle(app, slug: str, title: str) -> None:
    """Change the dataset's English title in the catalogue (a publisher's edit)."""
    with app.extensions["cgd"].db.session() as s:
        ds = s.query(Dataset).filter_by(slug=slug).one()
        ds.metadata_ = {**ds.metadata_, "title": {**ds.metadata_["title"], "en": title}}


def _sign_up(client, label: str) -> None:
    page = client.get("/account/sign-up")
    resp = client.post(
        "/account/sign-up",
        data={
            "email": f"{label}@example.org",
            "name": label,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_token(page.data),
        },
    )
    assert resp.status_code == 302, resp.data[:2000]


def test_an_anonymous_page_is_rendered_once_and_then_served_kept(site, renders):
    app, _other, slug = site
    seen = renders("public.dataset")
    client = app.test_client()
    first = client.get(f"/datasets/{slug}", headers=GZIP)
    second = client.get(f"/datasets/{slug}", headers=GZIP)
    assert first.status_code == second.status_code == 200
    assert seen.count == 1
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Encoding"] == "gzip"


def test_a_kept_page_keeps_security_headers_vary_and_gets_its_own_request_id(site):
    app, _other, slug = site
    client = app.test_client()
    first = client.get("/search?q=water", headers=GZIP)
    kept = client.get("/search?q=water", headers=GZIP)
    for name in SECURITY_HEADERS:
        assert kept.headers.get(name) == first.headers.get(name) is not None, name
    vary = {v.strip() for v in kept.headers["Vary"].split(",")}
    assert {"Cookie", "Accept-Language", "Accept-Encoding"} <= vary
    assert kept.headers["Cache-Control"] == "no-cache"
    assert "Set-Cookie" not in kept.headers
    assert kept.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_a_browser_revalidates_with_the_etag_and_gets_304_without_a_body(site):
    app, _other, slug = site
    client = app.test_client()
    page = client.get(f"/datasets/{slug}", headers=GZIP)
    again = client.get(f"/datasets/{slug}", headers={**GZIP, "If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == page.headers["ETag"]
    assert "Cookie" in again.headers["Vary"]
    assert again.headers["X-Frame-Options"] == "DENY"
    other = client.get(f"/datasets/{slug}", headers={**GZIP, "If-None-Match": '"0-stale"'})
    assert other.status_code == 200 and other.data == page.data


def test_languages_and_encodings_are_kept_apart(site):
    app, _other, _slug = site
    client = app.test_client()
    english = client.get("/search?q=water")
    nepali = client.get("/search?q=water", headers={"Accept-Language": "ne"})
    english_again = client.get("/search?q=water")
    assert 'lang="en"' in english.get_data(as_text=True)
    assert 'lang="ne"' in nepali.get_data(as_text=True)
    assert english_again.data == english.data
    assert "Content-Encoding" not in english.headers
    gzipped = client.get("/search?q=water", headers=GZIP)
    assert gzipped.headers["Content-Encoding"] == "gzip"


def test_a_signed_in_reader_never_gets_a_kept_page_and_never_leaves_one(site, renders):
    app, _other, slug = site
    seen = renders("public.dataset")
    anonymous = app.test_client()
    anonymous.get(f"/datasets/{slug}")  # kept for anonymous readers
    member = app.test_client()
    _sign_up(member, "cache-reader")
    count = seen.count
    for _ in range(2):
        page = member.get(f"/datasets/{slug}")
        assert page.status_code == 200
        assert "cache-reader@example.org" in page.get_data(as_text=True)
        assert "ETag" not in page.headers
    assert seen.count == count + 2  # rendered for the member each time
    after = anonymous.get(f"/datasets/{slug}")
    assert "cache-reader@example.org" not in after.get_data(as_text=True)
    assert 'name="csrf_token"' not in after.get_data(as_text=True)


def test_a_bearer_token_or_authorization_header_bypasses_the_cache(site, renders):
    app, _other, slug = site
    client = app.test_client()
    client.get("/search?q=sanitation")
    seen = renders("public.search")
    resp = client.get("/search?q=sanitation", headers={"Authorization": "Basic eDp5"})
    assert resp.status_code == 200
    assert seen.count == 1


def test_pending_flash_messages_bypass_the_cache(site, renders):
    app, _other, slug = site
    client = app.test_client()
    client.get(f"/datasets/{slug}")
    seen = renders("public.dataset")
    with client.session_transaction() as sess:
        sess["_flashes"] = [("message", "Your upload was received.")]
    resp = client.get(f"/datasets/{slug}")
    assert resp.status_code == 200
    assert seen.count == 1


def test_a_page_with_a_csrf_token_or_a_cookie_is_not_kept(make_app, monkeypatch):
    app = make_app()
    calls = {"form": 0, "cookie": 0}

    @app.route("/_test/form")
    def _test_form():
        calls["form"] += 1
        return render_template_string("<form>{{ csrf_token() }}</form>")

    @app.route("/_test/cookie")
    def _test_cookie():
        calls["cookie"] += 1
        resp = app.make_response("<p>hello</p>")
        resp.set_cookie("seen", "1")
        return resp

    monkeypatch.setattr(
        page_cache, "CACHEABLE", page_cache.CACHEABLE | {"_test_form", "_test_cookie"}
    )
    client = app.test_client()
    tokens = {client.get("/_test/form").get_data(as_text=True) for _ in range(2)}
    assert calls["form"] == 2
    other_client = app.test_client()
    tokens.add(other_client.get("/_test/form").get_data(as_text=True))
    assert len(tokens) >= 2  # each session its own token, never a kept one
    for _ in range(2):
        assert "Set-Cookie" in app.test_client().get("/_test/cookie").headers
    assert calls["cookie"] == 2


def test_an_edit_committed_by_another_process_invalidates_the_kept_page(site, renders):
    app, other, slug = site
    client = app.test_client()
    original = _title(app, slug)
    assert original in client.get(f"/datasets/{slug}").get_data(as_text=True)
    seen = renders("public.dataset")
    client.get(f"/datasets/{slug}")
    assert seen.count == 0  # kept
    _retitle(other, slug, "Water points, corrected")  # committed through the other worker
    try:
        page = client.get(f"/datasets/{slug}").get_data(as_text=True)
        assert "Water points, corrected" in page
        assert seen.count == 1
    finally:
        _retitle(other, slug, original)


def test_a_search_index_write_alone_invalidates_kept_search_pages(site, renders):
    app, other, slug = site
    client = app.test_client()
    client.get("/search?q=water")
    seen = renders("public.search")
    client.get("/search?q=water")
    assert seen.count == 0
    with app.extensions["cgd"].db.session() as s:
        dataset_id = s.query(Dataset.id).filter_by(slug=slug).scalar()
    refresh_dataset_document(other.extensions["cgd"].ctx, dataset_id)  # no catalogue change
    client.get("/search?q=water")
    assert seen.count == 1


def test_publishing_and_withdrawing_show_at_once_in_both_workers(tmp_path):
    app, slug = published_site(tmp_path, rows=200)
    other = create_app(app_config(tmp_path), start_jobs=False)
    try:
        clients = [app.test_client(), other.test_client()]
        for c in clients:
            for _ in range(2):  # the second answer is the kept page
                assert "Version 1." in c.get(f"/datasets/{slug}").get_data(as_text=True)
        # a second version, ingested and published by the pipeline (as the RQ worker would)
        rt = app.extensions["cgd"]
        with rt.db.session() as s:
            first = dataset_service.get_dataset(s, slug, system()).published_version
            key, filename = first.raw_path, first.filename
        with rt.db.session() as s:
            ds = dataset_service.get_dataset(s, slug, system())
            version, _job = dataset_service.create_version(
                s, system(), ds, filename=filename, raw_path=key
            )
            version_id = version.id
        with rt.db.session() as s:
            version = dataset_service.get_version(s, version_id)
            dataset_service.request_publish(s, system(), version, approve_free_text=True)
        for c in clients:
            assert "Version 2." in c.get(f"/datasets/{slug}").get_data(as_text=True)
        with rt.db.session() as s:
            version = dataset_service.get_version(s, version_id)
            dataset_service.withdraw_version(s, system(), version)
        for c in clients:
            assert c.get(f"/datasets/{slug}").status_code == 404
            assert slug not in c.get("/search").get_data(as_text=True)
    finally:
        other.extensions["cgd"].close()
        app.extensions["cgd"].close()


def test_a_kept_page_is_rendered_again_after_its_maximum_age(site, renders, monkeypatch):
    app, _other, slug = site
    client = app.test_client()
    client.get(f"/datasets/{slug}")
    seen = renders("public.dataset")
    client.get(f"/datasets/{slug}")
    assert seen.count == 0
    monkeypatch.setattr(page_cache, "MAX_AGE_SECONDS", 0.0)
    client.get(f"/datasets/{slug}")  # partnerships in force may have ended since
    assert seen.count == 1
