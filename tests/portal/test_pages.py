"""Public pages over a published synthetic survey: search, dataset, charts, coverage, organisations."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from portal import charts


class _Page(HTMLParser):
    """Collects what the tests look at: scripts, links, ids, table cells, inline styles."""

    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.links: list[str] = []
        self.ids: list[str] = []
        self.styles = 0
        self.stylesheets: list[str] = []
        self._script: dict | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.styles += 1
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])
        if tag == "script":
            self._script, self._buf = a, []

    def handle_data(self, data):
        if self._script is not None:
            self._buf.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._buf)))
            self._script = None


def parse(html: bytes | str) -> _Page:
    p = _Page()
    p.feed(html.decode() if isinstance(html, bytes) else html)
    return p


def _suppressed_breakdown(app, slug):
    """One or two dimensions of the demo cube with suppressed and published cells."""
    from itertools import combinations

    from catalog.services import datasets

    rt = app.extensions["cgd"]
    with rt.db.session() as s:
        ds = datasets.get_dataset(s, slug)
        columns = ds.published_version.columns
        dims = charts.chartable_dimensions(columns)
        for by in [(d,) for d in dims] + list(combinations(dims, 2)):
            cells = rt.search.cube(ds.id, by)
            if any(c["suppressed"] for c in cells) and any(not c["suppressed"] for c in cells):
                return by, cells
    pytest.fail("the demo cube has no breakdown with suppressed cells")


# -- search ---------------------------------------------------------------------------


def test_search_facets_filter_and_the_url_is_the_state(client):
    page = client.get("/search?topic=water")
    assert page.status_code == 200
    html = page.data.decode()
    assert "1 dataset" in html
    assert 'name="topic" value="water" checked' in html
    # Every facet of the contract is offered as a checkbox in a GET form (works without JS).
    for field in ("organisation", "topic", "dimension", "place", "licence", "language", "endorsed"):
        assert f'name="{field}"' in html, field
    none = client.get("/search?topic=water&endorsed=true").data.decode()
    assert "0 datasets" in none
    # The remove link drops exactly that filter.
    remove = re.search(r'href="([^"]+)">Remove filter Endorsed: Endorsed by a partner', none)
    assert remove and "endorsed" not in remove.group(1) and "topic=water" in remove.group(1)


def test_search_highlights_words_and_escapes_the_query(client):
    html = client.get("/search?q=sanitation").data.decode()
    assert "<mark>" in html.lower() or "<mark" in html
    hostile = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E").data.decode()
    assert "<script>alert(1)" not in hostile
    assert "&lt;script&gt;" in hostile


def test_search_pages_through_many_results_with_prev_and_next(site):
    app, _slug = site
    rt = app.extensions["cgd"]
    for i in range(23):
        rt.search.index_dataset(
            {
                "id": f"synthetic-{i:02d}",
                "slug": f"synthetic-{i:02d}",
                "title": {"en": f"Synthetic paging survey {i:02d}"},
                "description": {"en": "pagination zebra"},
                "organisation": {"slug": "samata-data-collective", "name": "Samata"},
                "published_at": f"2024-01-{i + 1:02d}T00:00:00",
            }
        )
    try:
        client = app.test_client()
        first = client.get("/search?q=zebra").data.decode()
        assert "23 datasets" in first
        assert 'rel="next"' in first and 'rel="prev"' not in first
        last = client.get("/search?q=zebra&page=3").data.decode()
        assert last.count('class="dataset-card"') == 3
        assert 'rel="prev"' in last and 'rel="next"' not in last
        assert 'aria-current="page"' in last
        assert client.get("/search?q=zebra&page=abc").status_code == 200
    finally:
        for i in range(23):
            rt.search.delete_dataset(f"synthetic-{i:02d}")


# -- dataset page ----------------------------------------------------------------------


def test_dataset_page_shows_methodology_org_versions_anonymisation_downloads_and_citation(
    client, slug
):
    page = client.get(f"/datasets/{slug}")
    html = page.data.decode()
    assert page.status_code == 200
    for text in (
        "How the data was collected",
        "Random sample",
        "Face-to-face interviews",
        "Consent",
        "Limitations",
        "How it was anonymised",
        "Columns removed because they identify people",
        "respondent_name",
        "Versions",
        "Cite this dataset",
        "Endorsements",
        "Downloads",
    ):
        assert text in html, text
    assert 'href="/organisations/samata-data-collective"' in html
    assert f"/datasets/{slug}/download.csv" in html
    assert f"/datasets/{slug}/factsheet.pdf" in html
    cite = re.search(r'<p class="citation">([^<]+)</p>', html).group(1)
    assert "Samata Data Collective" in cite and "Version 1." in cite and slug in cite


def test_dataset_page_carries_schema_org_dataset_json_ld(client, slug):
    doc = parse(client.get(f"/datasets/{slug}").data)
    blocks = [body for attrs, body in doc.scripts if attrs.get("type") == "application/ld+json"]
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@type"] == "Dataset" and data["@context"].startswith("https://schema.org")
    assert "water" in data["name"].lower()
    assert data["publisher"]["name"] == "Samata Data Collective (demo)"
    # Only the data block: no executable inline script anywhere.
    assert all(
        attrs.get("src") or attrs.get("type") == "application/ld+json" for attrs, _ in doc.scripts
    )


def test_chart_marks_suppressed_cells_as_suppressed_never_zero(site, client, slug):
    by, cells = _suppressed_breakdown(*site)
    query = f"by={by[0]}" + (f"&by2={by[1]}" if len(by) == 2 else "")
    html = client.get(f"/datasets/{slug}?{query}").data.decode()
    start = html.index('<table class="chart-table"')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    shown = re.findall(r"<td>(.*?)</td>", body, flags=re.S)
    assert sum("suppressed" in v for v in shown) == sum(c["suppressed"] for c in cells)
    published = [c for c in cells if not c["suppressed"]]
    assert sum(
        bool(re.fullmatch(r"[\d,]+", re.sub(r"<[^>]+>", "", v).strip())) for v in shown
    ) == len(published)
    assert not any(re.sub(r"<[^>]+>", "", v).strip() == "0" for v in shown)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "suppressed" in svg  # written on the chart where the bar would be
    assert "too small to publish" in svg  # and said in the text alternative


def test_chart_by_a_measure_and_two_dimensions_has_a_table_with_a_column_per_series(client, slug):
    html = client.get(
        f"/datasets/{slug}?measure=has_water_access&by=caste_ethnicity&by2=sex"
    ).data.decode()
    table = html[html.index('<table class="chart-table"') :]
    head = table[: table.index("</thead>")]
    assert "Female" in head and "Male" in head
    assert "Share: Has water access by Caste/ethnicity and Sex" in html
    assert 'option value="has_water_access" selected' in html
    assert 'option value="sex" selected' in html


def test_chart_choices_outside_the_dataset_are_explained_not_errors(client, slug):
    page = client.get(f"/datasets/{slug}?measure=respondent_name&by=phone&by2=nope")
    assert page.status_code == 200
    html = page.data.decode()
    assert "That measure is not in this dataset" in html
    assert "That breakdown is not in this dataset." in html


def test_unknown_dataset_is_a_404_page(client):
    page = client.get("/datasets/no-such-thing")
    assert page.status_code == 404
    assert b"Page not found." in page.data


# -- languages ---------------------------------------------------------------------------


def test_nepali_is_chosen_by_url_kept_in_a_cookie_and_uses_devanagari_digits(site, slug):
    client = site[0].test_client()
    first = client.get(f"/datasets/{slug}?lang=ne")
    assert "lang=ne" in first.headers.get("Set-Cookie", "")
    html = first.data.decode()
    assert '<html lang="ne">' in html
    assert "तथ्याङ्क कसरी सङ्कलन गरियो" in html  # "How the data was collected"
    records = re.search(r"(\S+) अभिलेख", html).group(1)
    assert re.fullmatch(r"[०-९,]+", records), records
    again = client.get("/search").data.decode()  # no ?lang: the cookie keeps Nepali
    assert '<html lang="ne">' in again and "तथ्याङ्क सेट खोज्नुहोस्" in again
    english = client.get("/search?lang=en").data.decode()
    assert '<html lang="en">' in english and "Search datasets" in english


def test_accept_language_picks_nepali_for_a_new_visitor(client):
    html = client.get("/", headers={"Accept-Language": "ne-NP,ne;q=0.9,en;q=0.5"}).data.decode()
    assert '<html lang="ne">' in html


# -- coverage, organisations, guide --------------------------------------------------------


def test_coverage_grid_shows_where_groups_have_data_and_where_none(client):
    html = client.get("/coverage").data.decode()
    assert "Who is left behind in the data?" in html
    body = html[html.index("<table") : html.index("</table>")]
    sogi = body[body.index("Sexual orientation and gender identity") :]
    sogi = sogi[: sogi.index("</tbody>")]
    assert "has-data" not in sogi  # the demo survey asks nothing on SOGI
    caste = body[body.index("Caste/ethnicity") :]
    caste = caste[: caste.index("</tbody>")]
    assert 'class="has-data"' in caste and "2025" in caste
    assert 'class="no-data">none<' in caste  # provinces the survey did not cover


def test_home_shows_counts_recent_topics_and_coverage_teaser(client):
    html = client.get("/").data.decode()
    assert "1 published dataset" in html and "1 publishing organisation" in html
    assert "Recently published" in html and "/datasets/" in html
    assert "/topics/water/factsheet" in html
    assert "Who is left behind in the data?" in html and 'href="/coverage"' in html


def test_organisation_pages_list_their_datasets(client, slug):
    listing = client.get("/organisations").data.decode()
    assert 'href="/organisations/samata-data-collective"' in listing
    page = client.get("/organisations/samata-data-collective").data.decode()
    assert f'href="/datasets/{slug}"' in page and "1 published dataset" in page
    assert client.get("/organisations/nobody").status_code == 404


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_about_and_guide_pages_render_in_both_languages(client, lang):
    for url in ("/about", "/guide"):
        page = client.get(f"{url}?lang={lang}")
        assert page.status_code == 200
        assert f'<html lang="{lang}">'.encode() in page.data
    guide = client.get(f"/guide?lang={lang}").data.decode()
    assert "/guide/cgd-xlsform-template.xlsx" in guide


def test_xlsform_template_downloads_as_a_workbook(client):
    import io

    from openpyxl import load_workbook

    resp = client.get("/guide/cgd-xlsform-template.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    assert {"survey", "choices", "settings"} <= set(book.sheetnames)


# -- weight, CSP, caching --------------------------------------------------------------------


def test_dataset_page_is_light_has_strict_csp_and_long_cached_static(client, slug):
    page = client.get(f"/datasets/{slug}?measure=has_water_access&by=caste_ethnicity&by2=sex")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    doc = parse(page.data)
    assert doc.styles == 0  # no style attribute: the SVG uses presentation attributes
    assert len(doc.ids) == len(set(doc.ids)), "duplicate ids"
    total = len(page.data)
    js = 0
    for href in doc.stylesheets:
        res = client.get(href)
        assert res.status_code == 200
        assert "max-age=31536000" in res.headers["Cache-Control"]
        assert "?v=" in href  # a content hash: a changed file gets a new URL
        total += len(res.data)
    for attrs, _ in doc.scripts:
        if attrs.get("src"):
            js += len(client.get(attrs["src"]).data)
    assert total < 100 * 1024, total
    assert js < 20 * 1024


def test_pages_are_gzipped_for_clients_that_accept_it(client, slug):
    import gzip

    plain = client.get(f"/datasets/{slug}")
    packed = client.get(f"/datasets/{slug}", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in plain.headers
    assert (
        packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    )
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 3
    api = client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in api.headers  # machine interfaces are left alone


def test_every_download_link_on_the_dataset_page_answers(client, slug):
    html = client.get(f"/datasets/{slug}").data.decode()
    section = html[html.index('id="dl-h"') :]
    section = section[: section.index("</section>")]
    links = re.findall(r'href="([^"]+)"', section)
    assert any(link.endswith("download.csv") for link in links)
    for link in links:
        resp = client.get(link)
        assert resp.status_code == 200, link
        if link.endswith(".csv"):
            header = resp.data.decode().splitlines()[0].split(",")
            assert "respondent_name" not in header and "phone" not in header
