"""Sign-in never sends the browser to another site, whatever the ``next`` parameter holds."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from .site import PASSWORD

HOSTILE_NEXT = [
    "https://evil.example/",
    "//evil.example/x",
    "///evil.example/x",
    "////evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:\\\\evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%0a/evil.example",
    "/%09/evil.example",
    "/%5cevil.example",
    "%2f%2fevil.example",
    "/.//evil.example",
    "/..//evil.example",
    "/account/../\\evil.example",
    "//evil.example@127.0.0.1/",
    "/\u3002evil.example",
    "\uff0f\uff0fevil.example",
    "/\x00/evil.example",
]


def _browser_target(base: str, location: str) -> str:
    """Where a browser goes: WHATWG URL parsing strips tabs and newlines and treats '\\' as '/'."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip().replace("\\", "/")
    return urljoin(base + "/account/sign-in", cleaned)


@pytest.fixture(scope="module")
def sign_in_form(site):
    def post(target: str) -> requests.Response:
        s = requests.Session()
        page = s.get(site.url + "/account/sign-in", timeout=30)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return s.post(
            site.url + "/account/sign-in",
            params={"next": target},
            data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": csrf},
            allow_redirects=False,
            timeout=30,
        )

    return post


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_next_never_leaves_the_site(site, sign_in_form, target):
    resp = sign_in_form(target)
    assert resp.status_code in (302, 303), resp.status_code
    location = resp.headers["Location"]
    where = urlsplit(_browser_target(site.url, location))
    assert where.scheme in ("http", "https") and where.netloc == urlsplit(site.url).netloc, (
        target,
        location,
    )


def test_a_path_on_this_site_is_kept(site, sign_in_form):
    resp = sign_in_form("/account/tokens?x=1")
    assert resp.headers["Location"].endswith("/account/tokens?x=1")
