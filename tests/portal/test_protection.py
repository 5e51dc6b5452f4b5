"""The public page on disclosure control (/guide/protection): renders in both languages, shows
the settings the code applies, is linked from the about, dataset and fact-sheet pages, and keeps
the structure screen readers navigate by."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from indexer.disclosure import DisclosureConfig

URL = "/guide/protection"


class _Outline(HTMLParser):
    """Headings, ids, landmarks, section labels, links and anything the page must not carry."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str | None]] = []
        self.ids: list[str] = []
        self.labelledby: list[str] = []
        self.links: list[str] = []
        self.landmarks: list[str] = []
        self.navs: list[str | None] = []
        self.scripts: list[str | None] = []
        self.images = 0
        self.styles = 0
        self.in_main = False
        self.main_headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if "style" in a:
            self.styles += 1
        if tag == "section" and a.get("aria-labelledby"):
            self.labelledby.append(a["aria-labelledby"])
        if tag in ("main", "header", "footer", "nav"):
            self.landmarks.append(tag)
        if tag == "main":
            self.in_main = True
        if tag == "nav" and self.in_main:
            self.navs.append(a.get("aria-label"))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "script":
            self.scripts.append(a.get("src") or a.get("type"))
        if tag in ("img", "picture", "canvas"):
            self.images += 1
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append((int(tag[1]), a.get("id")))
            if self.in_main:
                self.main_headings.append(int(tag[1]))

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False


def outline(html: str) -> _Outline:
    page = _Outline()
    page.feed(html)
    return page


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_protection_page_renders_in_both_languages(client, lang):
    page = client.get(f"{URL}?lang={lang}")
    assert page.status_code == 200
    html = page.data.decode()
    assert f'<html lang="{lang}">' in html
    title = "How figures and people are protected" if lang == "en" else "तथ्याङ्क र मानिसहरूको सुरक्षा"
    assert title in html
    if lang == "ne":
        # translated, with Devanagari digits
        assert "Counts are adjusted slightly" not in html and "साना समूह लुकाइन्छन्" in html
        assert "१०" in _text(html)


def test_protection_page_has_landmarks_a_table_of_contents_and_labelled_sections(client):
    html = client.get(URL).data.decode()
    page = outline(html)
    assert "main" in page.landmarks and "header" in page.landmarks
    assert page.navs == ["On this page"]
    # one h1, then h2 sections with h3 inside: no level skipped
    assert page.main_headings[0] == 1 and page.main_headings.count(1) == 1
    for before, after in zip(page.main_headings, page.main_headings[1:], strict=False):
        assert after <= before + 1, page.main_headings
    # every section is named by its own heading, and the table of contents reaches each
    h2_ids = [hid for level, hid in page.headings if level == 2 and hid]
    assert page.labelledby == h2_ids and len(h2_ids) >= 6
    toc = [href[1:] for href in page.links if href.startswith("#") and href != "#main"]
    assert toc == h2_ids
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    # small and static: no script of its own, no images, no inline styles
    base_scripts = outline(client.get("/guide").data.decode()).scripts
    assert page.scripts == base_scripts
    assert page.images == 0 and page.styles == 0
    assert len(html.encode()) < 20 * 1024, len(html.encode())


def test_protection_page_states_the_defaults_the_code_applies(client):
    from indexer.disclosure.cube import MIN_THRESHOLD, make_ptable
    from schema.metadata import DEFAULT_CUBE_THRESHOLD, MAX_CUBE_THRESHOLD

    config = DisclosureConfig()
    text = _text(client.get(URL).data.decode())
    assert (
        f"at least {config.k_default} people, or at least {config.k_sensitive} when the dataset "
        "is about a sensitive topic"
    ) in text
    assert f"takes at least {config.l} different values" in text
    assert (
        f"A group of fewer than {DEFAULT_CUBE_THRESHOLD} people is not published" in text
        and f"from {MIN_THRESHOLD} to {MAX_CUBE_THRESHOLD}; its page says which" in text
    )
    table = make_ptable(DEFAULT_CUBE_THRESHOLD)
    largest = int(table.filter(table["pcv"] >= DEFAULT_CUBE_THRESHOLD)["pvalue"].abs().max())
    assert f"at most {largest} up or down" in text
    assert "places at district level or broader" in text and "dates to the month and year" in text
    assert "Gender-based violence" in text and "HIV status" in text
    assert "A name recogniser" not in text  # none configured in tests


def test_protection_page_follows_the_configuration(site, client, monkeypatch):
    from schema import metadata

    # the operator's settings (CGD_DISCLOSURE_*), read by the same function ingestion
    # uses; with the recogniser set, the page still never builds one (no model here)
    settings = site[0].extensions["cgd"].ctx.settings
    for key, value in {
        "DISCLOSURE_K": 7,
        "DISCLOSURE_K_SENSITIVE": 12,
        "DISCLOSURE_L": 3,
        "DISCLOSURE_PLACE_LEVEL": "province",
        "DISCLOSURE_NER": "presidio",
    }.items():
        monkeypatch.setitem(settings, key, value)
    monkeypatch.setattr(metadata, "DEFAULT_CUBE_THRESHOLD", 15)
    text = _text(client.get(URL).data.decode())
    assert "at least 7 people, or at least 12 when" in text
    assert "takes at least 3 different values" in text
    assert "A group of fewer than 15 people is not published" in text
    assert "No count is pushed below 15" in text
    assert "places at province level or broader" in text
    assert "A name recogniser also looks for other names and places." in text
    nepali = _text(client.get(f"{URL}?lang=ne").data.decode())
    assert "कम्तीमा ७ जनामा" in nepali and "१५ भन्दा कम मानिसको समूह" in nepali


def test_about_page_links_to_the_protection_page(client):
    heading = {"en": "How people are protected", "ne": "मानिसहरूको सुरक्षा कसरी गरिन्छ"}
    for lang in ("en", "ne"):
        html = client.get(f"/about?lang={lang}").data.decode()
        start = html.index(f"<h2>{heading[lang]}</h2>")
        section = html[start : html.index("<h2>", start + 4)]
        assert f'href="{URL}"' in section, lang


def test_dataset_page_links_to_the_protection_page_from_figures_and_anonymisation(client, slug):
    html = client.get(f"/datasets/{slug}").data.decode()
    figures = _section(html, "chart-h")
    assert "Counts are slightly adjusted, so quote them as approximate." in figures
    assert f'href="{URL}#counts"' in figures and "How figures are protected" in figures
    anonymised = _section(html, "anon-h")
    assert f'href="{URL}#risk"' in anonymised
    assert client.get(URL).status_code == 200


def _set_threshold(site, slug, threshold):
    from catalog.services import datasets

    runtime = site[0].extensions["cgd"]
    with runtime.db.session() as s:
        version = datasets.get_dataset(s, slug).published_version
        version.metadata_ = {**(version.metadata_ or {}), "cube_threshold": threshold}


def test_dataset_page_states_its_own_suppression_threshold(site, client, slug):
    # the demo dataset keeps the default threshold; one that sets its own shows that
    html = client.get(f"/datasets/{slug}").data.decode()
    assert "groups of fewer than 10 people are suppressed" in _section(html, "chart-h")
    html = client.get(f"/datasets/{slug}?lang=ne").data.decode()
    assert "१० जनाभन्दा कम मानिस भएका समूहहरू दबाइएका छन्" in _section(html, "chart-h")
    _set_threshold(site, slug, 25)
    try:
        html = client.get(f"/datasets/{slug}?lang=en").data.decode()
        assert "groups of fewer than 25 people are suppressed" in _section(html, "chart-h")
    finally:
        _set_threshold(site, slug, 10)


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_fact_sheets_say_counts_are_adjusted(client, slug, lang):
    line = {
        "en": "Counts are slightly adjusted to protect people; quote them as approximate.",
        "ne": "मानिसहरूको सुरक्षाका लागि सङ्ख्याहरू थोरै परिवर्तन गरिएका छन्",
    }[lang]
    for url in (f"/datasets/{slug}/factsheet", "/topics/water/factsheet"):
        html = client.get(f"{url}?lang={lang}").data.decode()
        footer = html[html.index('class="fs-footer"') :]
        assert line in footer, url
