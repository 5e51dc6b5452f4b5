"""The public portal in headless Debian Chromium: axe on every page type, the reader's journey,
the keyboard-only walk, the language switch and the page weight."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WCAG = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}


def _page_types(slug: str) -> dict[str, str]:
    return {
        "home": "/",
        "search": "/search?q=water",
        "search-facet": "/search?topic=water&dimension=caste_ethnicity",
        "dataset": f"/datasets/{slug}",
        "dataset-chart": f"/datasets/{slug}?measure=has_water_access&by=caste_ethnicity&by2=sex",
        "factsheet": f"/datasets/{slug}/factsheet",
        "topic-factsheet": "/topics/water/factsheet",
        "coverage": "/coverage",
        "organisations": "/organisations",
        "organisation": "/organisations/samata-data-collective",
        "about": "/about",
        "guide": "/guide",
        "protection": "/guide/protection",
        "sign-in": "/account/sign-in",
        "forgot-password": "/account/forgot-password",
        "not-found": "/datasets/no-such-dataset",
    }


def _axe(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={**WCAG, "resultTypes": ["violations"]})
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_every_page_type_has_no_axe_violations(live_site, page, lang):
    base, _app, slug = live_site
    found = {}
    for name, path in _page_types(slug).items():
        sep = "&" if "?" in path else "?"
        response = page.goto(f"{base}{path}{sep}lang={lang}")
        assert response.status == (404 if name == "not-found" else 200), name
        assert page.get_attribute("html", "lang") == lang
        violations = _axe(page)
        if violations:
            found[name] = violations
        screenshot(page, f"page-{name}-{lang}")
    assert not found, found


def test_search_facet_dataset_chart_and_fact_sheet_pdf_download(live_site, page):
    base, _app, slug = live_site
    page.goto(base + "/")
    page.get_by_label("Search datasets").fill("water")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=water"))
    assert re.fullmatch(r"\d+ datasets?", page.locator("#results-h").inner_text())

    page.locator("fieldset", has_text="Topic").get_by_label(re.compile("^Water")).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"topic=water"))
    assert "q=water" in page.url  # the state is in the URL: bookmarkable
    assert page.get_by_role("link", name=re.compile("Remove filter Topic: Water")).is_visible()

    page.locator(f'.dataset-card h3 a[href="/datasets/{slug}"]').click()
    page.wait_for_url(f"{base}/datasets/{slug}")
    page.get_by_label("Measure").select_option("has_water_access")
    page.get_by_label("Broken down by").select_option("caste_ethnicity")
    page.get_by_label("and by (optional)").select_option("sex")
    page.get_by_role("button", name="Show chart").click()
    page.wait_for_url(re.compile(r"by2=sex"))
    chart = page.locator("svg.chart")
    assert chart.get_attribute("role") == "img"
    assert (
        "Share: Has water access by Caste/ethnicity and Sex"
        in page.locator("svg.chart title").text_content()
    )
    assert page.locator("#cube-table tbody tr").count() >= 3
    screenshot(page, "journey-dataset-chart")

    with page.expect_download() as info:
        page.get_by_role("link", name="Fact sheet (PDF)").click()
    download = info.value
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == f"factsheet-{slug}-en.pdf"
    assert target.read_bytes().startswith(b"%PDF")


def _tab_to(page, predicate, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(predicate):
            return
    raise AssertionError(f"keyboard focus never reached: {predicate}")


def test_keyboard_only_walk_from_search_to_fact_sheet(live_site, page):
    base, _app, slug = live_site
    page.goto(base + "/search?q=water")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    _tab_to(page, f"document.activeElement.getAttribute('href') === '/datasets/{slug}'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/datasets/{slug}")
    # Change the chart with the keyboard only.
    _tab_to(page, "document.activeElement.id === 'by'")
    page.keyboard.press("ArrowDown")
    _tab_to(
        page,
        "document.activeElement.type === 'submit' && document.activeElement.closest('.chart-form') !== null",
    )
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"by="))
    _tab_to(page, f"document.activeElement.getAttribute('href') === '/datasets/{slug}/factsheet'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/datasets/{slug}/factsheet")
    assert page.locator("h1").inner_text().startswith("Access to water")
    screenshot(page, "keyboard-factsheet")


def test_language_switch_changes_every_string_and_sticks(live_site, page):
    base, _app, slug = live_site
    page.goto(f"{base}/datasets/{slug}")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="नेपाली").click()
    page.wait_for_url(re.compile(r"lang=ne"))
    assert page.get_attribute("html", "lang") == "ne"
    assert page.locator("#method-h").inner_text() == "तथ्याङ्क कसरी सङ्कलन गरियो"
    assert re.search(r"[०-९]", page.locator(".meta").first.inner_text())
    screenshot(page, "language-dataset-ne")
    page.get_by_role("navigation", name="मुख्य").get_by_role("link", name="तथ्याङ्क सेट").click()
    page.wait_for_url(f"{base}/search")
    assert page.get_attribute("html", "lang") == "ne"  # kept by the cookie
    page.get_by_role("link", name="English").click()
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "Search datasets"


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_dataset_page_weight_is_under_100_kb_and_20_kb_of_script(live_site, browser, lang):
    base, _app, slug = live_site
    context = browser.new_context()  # empty cache: a first visit
    page = context.new_page()
    requests = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(
        f"{base}/datasets/{slug}?measure=has_water_access&by=caste_ethnicity&by2=sex&lang={lang}"
    )
    page.wait_for_load_state("networkidle")
    sizes = {
        r.url: (r.resource_type, r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"])
        for r in requests
    }
    context.close()
    total = sum(n for _t, n in sizes.values())
    script = sum(n for t, n in sizes.values() if t == "script")
    if lang == "ne" and not any(t == "font" for t, _n in sizes.values()):
        # This machine has Noto Sans Devanagari installed (local() wins); count the web
        # subset a reader without it downloads.
        from portal.config import STATIC_DIR

        total += (STATIC_DIR / "fonts" / "NotoSansDevanagari-Regular.subset.woff2").stat().st_size
    assert total < 100 * 1024, sizes
    assert script < 20 * 1024, sizes
    assert all(u.startswith(base) for u in sizes), "nothing is fetched from elsewhere"
    print(
        f"dataset page ({lang}), first visit: {total} bytes transferred, {script} bytes of script"
    )
