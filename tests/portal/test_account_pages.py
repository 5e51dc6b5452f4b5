"""The account pages in Nepali, the account links of the site navigation, sign-out by POST
with its CSRF token, and static files that do not depend on the session."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urlencode

import pytest

from catalog.models import Role
from catalog.services import clients as client_service
from catalog.services import invitations, organisations
from tests.accounts.world import (
    World,
    cheap_password_hashing,
    csrf_token,
    person,
    sign_in,
)

REDIRECT = "http://127.0.0.1:8765/callback"
DEVANAGARI = re.compile(r"[\u0900-\u097f]")


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def world(make_app):
    app = make_app()
    world = World.of(app)
    world.add_org("samata", "Samata Collective")
    world.add_user("ada", org="samata", role=Role.ADMIN.value)
    world.add_user("bea")  # belongs to no organisation
    return world


def _sign_in(client, label: str):
    resp = sign_in(client, f"{label}@example.org")
    assert resp.status_code == 302, resp.data
    return client


def _visible_text(page: bytes) -> str:
    """What a reader sees: tags, hidden inputs, scripts and styles removed, entities decoded."""
    text = page.decode()
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html_lib.unescape(text))


def _between(page: bytes, start: str, end: str) -> str:
    text = page.decode()
    return text[text.index(start) : text.index(end, text.index(start))]


def _account_nav(page: bytes) -> str:
    text = page.decode()
    start = text.index('class="account-nav"')
    return text[start : text.index("</nav>", start)]


def _client(world) -> dict:
    with world.runtime.db.session() as s:
        org = organisations.get_organisation(s, "samata")
        client, _secret = client_service.register_client(
            s,
            person(world.users["ada"]),
            org,
            name="Kobo sync",
            redirect_uris=[REDIRECT],
            scopes=["datasets:write", "datasets:read-private"],
            confidential=False,
        )
        return {"client_id": client.client_id}


def _invitation(world) -> str:
    with world.runtime.db.session() as s:
        org = organisations.get_organisation(s, "samata")
        _inv, raw = invitations.invite(
            s, person(world.users["ada"]), org, email="bea@example.org", role="editor"
        )
    return raw


def _authorize_query(client_id: str) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "datasets:write",
            "state": "s1",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )


# Per page: Nepali text that must show, and English labels of the page that must not.
PAGES = {
    "sign-in": (
        "anonymous",
        "/account/sign-in",
        ["इमेल", "पासवर्ड", "साइन अप"],
        ["E-mail", "Password", "No account yet", "Sign up"],
    ),
    "sign-up": (
        "anonymous",
        "/account/sign-up",
        ["खाता खोल्नुहोस्", "कम्तीमा १० अक्षर"],
        ["Create an account", "Password", "Already registered", "at least 10 characters"],
    ),
    "account": (
        "ada",
        "/account",
        ["तपाईंका संस्थाहरू", "प्रशासक", "साइन आउट"],
        ["Your organisations", "Sign out", "Personal access tokens", "Members"],
    ),
    "tokens": (
        "ada",
        "/account/tokens",
        ["व्यक्तिगत पहुँच टोकनहरू", "स्कोप (अनुमति)", "नयाँ संस्करण अपलोड", "म्याद (दिनमा)"],
        [
            "Create token",
            "Expires in",
            "Scopes",
            "Organisations",
            "No tokens yet",
            "upload new versions",
        ],
    ),
    "clients": (
        "ada",
        "/orgs/samata/clients",
        ["Samata Collective का एप्लिकेसनहरू", "गोप्य (गोप्य साँचो भएको)", "रद्द गर्नुहोस्"],
        ["Register application", "Redirect URIs", "Confidential", "Revoke", "Client id"],
    ),
    "members": (
        "ada",
        "/orgs/samata/members",
        ["Samata Collective का सदस्यहरू", "कसैलाई निमन्त्रणा गर्नुहोस्", "सम्पादक"],
        ["Invite someone", "Open invitations", "Change", "E-mail", "editor"],
    ),
    "invitation": (
        "bea",
        "/invitations/{invitation}",
        ["Samata Collective मा सामेल हुनुहोस्", "सम्पादक", "निमन्त्रणा स्वीकार गर्नुहोस्"],
        ["Join", "You are invited", "Accept the invitation", "editor"],
    ),
    "consent": (
        "ada",
        "/oauth/authorize?{authorize}",
        [
            "Kobo sync लाई तपाईंको तर्फबाट काम गर्न अनुमति दिने?",
            "अनुमति दिनुहोस्",
            "अस्वीकार गर्नुहोस्",
            "datasets:write",
        ],
        ["Allow", "Deny", "act for you", "For which of your organisations", "upload new versions"],
    ),
    "consent-error": (
        "ada",
        "/oauth/authorize?response_type=code&client_id=no-such-client",
        ["यो अनुमति अनुरोध मान्य छैन"],
        ["This authorisation request is not valid", "Tell the makers"],
    ),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_each_account_page_renders_in_nepali_with_no_english_label(world, name):
    who, path, nepali, english = PAGES[name]
    if "{invitation}" in path:
        path = path.format(invitation=_invitation(world))
    if "{authorize}" in path:
        path = path.format(authorize=_authorize_query(_client(world)["client_id"]))
    if name == "clients":
        _client(world)  # a listed application, so the table shows its state and the Revoke button
    if name == "members":
        _invitation(world)  # an open invitation is listed too
    client = world.app.test_client()
    if who != "anonymous":
        _sign_in(client, who)
    sep = "&" if "?" in path else "?"
    resp = client.get(f"{path}{sep}lang=ne")
    assert resp.status_code == (400 if name == "consent-error" else 200), resp.data[:500]
    assert b'<html lang="ne">' in resp.data
    text = _visible_text(resp.data)
    for phrase in nepali:
        assert phrase in text, (name, phrase)
    for label in english:
        assert label not in text, (name, label)
    main = _visible_text(_between(resp.data, "<main", "</main>").encode())
    assert DEVANAGARI.search(main)


def test_the_same_pages_stay_english_without_a_language(world):
    client = _sign_in(world.app.test_client(), "ada")
    page = client.get("/account/tokens?lang=en")
    text = _visible_text(page.data)
    assert "Personal access tokens" in text and "Create token" in text
    assert not DEVANAGARI.search(_visible_text(_between(page.data, "<main", "</main>").encode()))


def test_form_problems_are_shown_in_nepali(world):
    client = world.app.test_client()
    page = client.get("/account/sign-in?lang=ne")
    wrong = client.post(
        "/account/sign-in?lang=ne",
        data={
            "email": "ada@example.org",
            "password": "not it",
            "csrf_token": csrf_token(page.data),
        },
    )
    assert wrong.status_code == 401
    assert "इमेल वा पासवर्ड मिलेन।" in wrong.data.decode()
    assert b"Wrong e-mail or password" not in wrong.data
    page = client.get("/account/sign-up?lang=ne")
    weak = client.post(
        "/account/sign-up?lang=ne",
        data={"email": "new@example.org", "password": "short", "csrf_token": csrf_token(page.data)},
    )
    assert weak.status_code == 400
    assert "कम्तीमा १० अक्षर प्रयोग गर्नुहोस्।" in weak.data.decode()
    _sign_in(client, "ada")
    page = client.get("/account/tokens?lang=ne")
    bad = client.post(
        "/account/tokens?lang=ne",
        data={"name": "", "expires_in_days": "999", "csrf_token": csrf_token(page.data)},
    )
    text = bad.data.decode()
    assert bad.status_code == 400
    assert "नाम लेख्नुहोस्।" in text and "म्याद १ देखि ३६६ दिनसम्म राख्नुहोस्।" in text


def test_navigation_signed_out_offers_sign_in_and_sign_up_only(world):
    page = world.app.test_client().get("/about")
    nav = _account_nav(page.data)
    assert 'href="/account/sign-in?next=/about"' in nav
    assert 'href="/account/sign-up?next=/about"' in nav
    assert "Sign out" not in nav and "/publish" not in nav and "/account/tokens" not in nav


def test_navigation_signed_in_shows_email_publish_tokens_and_a_post_sign_out(world):
    client = _sign_in(world.app.test_client(), "ada")
    page = client.get("/about")
    nav = _account_nav(page.data)
    assert "ada@example.org" in nav
    assert 'href="/publish/">Publish a dataset<' in nav
    assert 'href="/account/tokens">Tokens<' in nav
    assert "sign-in" not in nav and "sign-up" not in nav
    form = re.search(r'<form method="post" action="/account/sign-out"[^>]*>(.*?)</form>', nav, re.S)
    assert form, nav
    assert 'name="csrf_token"' in form.group(1) and '<button type="submit">' in form.group(1)
    # Native links and a button: reachable by keyboard, nothing taken out of the tab order,
    # and no inline script or event handler (the CSP forbids them).
    assert 'tabindex="-1"' not in nav and "<script" not in nav
    assert not re.search(r"\son\w+=", page.data.decode())
    assert "<script>" not in page.data.decode()
    # The links lead where they say.
    assert client.get("/publish/").status_code == 200
    assert client.get("/account/tokens").status_code == 200
    ne = _account_nav(client.get("/about?lang=ne").data)
    assert "तथ्याङ्क सेट प्रकाशित गर्नुहोस्" in ne and "टोकनहरू" in ne and "साइन आउट" in ne


def test_sign_out_is_a_post_with_the_csrf_token_of_the_navigation_form(world):
    client = _sign_in(world.app.test_client(), "ada")
    assert client.get("/account/sign-out").status_code == 405
    refused = client.post("/account/sign-out")  # no CSRF token: another site cannot sign you out
    assert refused.status_code == 400
    assert client.get("/account").status_code == 200  # still signed in
    page = client.get("/about")
    token = re.search(
        r'action="/account/sign-out"[^>]*><input type="hidden" name="csrf_token" value="([^"]+)"',
        page.data.decode(),
    ).group(1)
    out = client.post("/account/sign-out", data={"csrf_token": token})
    assert out.status_code == 302
    assert client.get("/account").status_code == 302  # back to the sign-in page
    assert 'href="/account/sign-in' in _account_nav(client.get("/about").data)


@pytest.mark.parametrize("signed_in", [False, True])
def test_static_files_do_not_vary_on_the_cookie_and_are_cached_for_a_year(world, signed_in):
    client = world.app.test_client()
    if signed_in:
        _sign_in(client, "ada")
    resp = client.get("/static/css/portal.css")
    assert resp.status_code == 200
    assert "Cookie" not in resp.headers.get("Vary", "")
    assert "Set-Cookie" not in resp.headers
    cache = resp.headers.get("Cache-Control", "")
    assert "public" in cache
    max_age = int(re.search(r"max-age=(\d+)", cache).group(1))
    assert max_age >= 365 * 24 * 3600
    # Pages, unlike static files, do depend on who is signed in.
    assert "Cookie" in client.get("/about").headers.get("Vary", "")
