"""The signed-in account pages in headless Chromium: axe on each, in English and Nepali, and
a password change done with the keyboard alone."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_portal_browser import _axe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PASSWORD = "correct horse battery staple"
ORG = "samata-data-collective"


@pytest.fixture
def org_admin(live_site):
    from catalog.principal import system
    from catalog.services import organisations, users

    _base, app, _slug = live_site
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    with app.extensions["cgd"].db.session() as s:
        org = organisations.get_organisation(s, ORG)
        user = users.create_user(s, system(), email=email, password=PASSWORD)
        organisations.set_membership(s, system(), org, user, "admin")
    return email


def _sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/account/sign-in?lang=en")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_label(re.compile("password", re.I)).fill(password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/account")


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_account_pages_have_no_axe_violations(live_site, page, org_admin, lang):
    base, _app, _slug = live_site
    _sign_in(page, base, org_admin)
    found = {}
    for name, path in {
        "account": "/account",
        "tokens": "/account/tokens",
        "security": "/account/security",
        "members": f"/orgs/{ORG}/members",
        "clients": f"/orgs/{ORG}/clients",
    }.items():
        response = page.goto(f"{base}{path}?lang={lang}")
        assert response.status == 200, name
        violations = _axe(page)
        if violations:
            found[name] = violations
        screenshot(page, f"account-{name}-{lang}")
    assert not found, found


def test_a_password_change_with_the_keyboard_alone(live_site, page, org_admin):
    base, _app, _slug = live_site
    _sign_in(page, base, org_admin)
    page.goto(f"{base}/account/security?lang=en")
    page.get_by_label("Current password").focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "new_password"
    page.keyboard.type("a brand new passphrase")
    page.keyboard.press("Tab")
    page.keyboard.type("a brand new passphrase")
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    status.wait_for()
    assert "Your password is changed" in status.inner_text()
    page.locator("form.sign-out button").click()
    page.wait_for_url(f"{base}/")
    _sign_in(page, base, org_admin, "a brand new passphrase")
