"""Fact sheets per dataset and per topic, in English and Nepali, as HTML and as PDF."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import IN_CI

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            names.add(str(font.get("/BaseFont")))
            for desc in font.get("/DescendantFonts") or []:
                descriptor = desc.get_object().get("/FontDescriptor")
                if descriptor is not None and descriptor.get_object().get("/FontFile2") is not None:
                    names.add("embedded:" + str(desc.get_object().get("/BaseFont")))
    return names


def _png(pdf: bytes, name: str) -> Path:
    """Render the first page with poppler's pdftoppm into tests/artifacts (kept for a human to look at)."""
    if shutil.which("pdftoppm") is None:
        if IN_CI:
            pytest.fail("pdftoppm (poppler-utils) is missing (CI=true: a failure)")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf_path = ARTIFACTS / f"{name}.pdf"
    pdf_path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-singlefile", pdf_path, ARTIFACTS / name],
        check=True,
        timeout=60,
    )
    return ARTIFACTS / f"{name}.png"


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_dataset_factsheet_pdf_is_one_a4_page_with_the_devanagari_font_embedded(client, slug, lang):
    resp = client.get(f"/datasets/{slug}/factsheet.pdf?lang={lang}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert f"factsheet-{slug}-{lang}.pdf" in resp.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(resp.data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    fonts = _fonts(reader)
    assert any(
        f.startswith("embedded:") and "NotoSansDevanagari" in f.replace("-", "") for f in fonts
    ), fonts
    text = reader.pages[0].extract_text()
    if lang == "en":
        assert "Methodology in brief" in text and "Samata Data Collective" in text
    else:
        # PDF text extraction reorders some vowel signs; these words survive it intact.
        assert "तथ्यपत्र" in text and "खानेपानी" in text and "२०८२" in text
    png = _png(resp.data, f"factsheet-dataset-{lang}")
    assert png.stat().st_size > 10_000


def test_dataset_factsheet_html_has_figures_chart_table_method_and_source(client, slug):
    html = client.get(f"/datasets/{slug}/factsheet").data.decode()
    assert html.count("<svg") >= 1 and html.count('class="chart-table"') == html.count("<svg")
    for text in (
        "Key figures",
        "Methodology in brief",
        "Source",
        "Random sample",
        f"/datasets/{slug}/factsheet.pdf",
    ):
        assert text in html, text
    nepali = client.get(f"/datasets/{slug}/factsheet?lang=ne").data.decode()
    assert "तथ्यपत्र" in nepali and "संक्षेपमा विधि" in nepali
    assert "सीमान्तकृत घरपरिवारमा" in nepali  # the dataset's own Nepali title


@pytest.mark.parametrize("lang", ["en", "ne"])
def test_topic_factsheet_gathers_the_topics_datasets(client, slug, lang):
    html = client.get(f"/topics/water/factsheet?lang={lang}").data.decode()
    assert f"/datasets/{slug}" in html
    assert ("Water" if lang == "en" else "खानेपानी") in html
    resp = client.get(f"/topics/water/factsheet.pdf?lang={lang}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(resp.data)).pages) == 1
    _png(resp.data, f"factsheet-topic-{lang}")
    assert client.get("/topics/no-such-topic/factsheet").status_code == 404


def test_factsheet_renderer_fetches_nothing_outside_static(tmp_path):
    from portal.factsheet import render_pdf

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for fact sheets")
    pdf = render_pdf(
        f'<html><body><p>x</p><img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/x.png"></body></html>'
    )
    assert pdf.startswith(b"%PDF")
    assert b"not for fact sheets" not in pdf


def test_topic_factsheet_with_two_datasets_still_fits_one_page(site, tmp_path):
    from indexer.synthetic import demo_metadata, generate_survey
    from portal.ingest import ingest_file

    app, slug = site
    rt = app.extensions["cgd"]
    meta = demo_metadata()
    meta["slug"] = "second-water-survey"
    meta["title"] = {
        "en": "Second water survey, Karnali 2025",
        "ne": "दोस्रो खानेपानी सर्वेक्षण, कर्णाली २०८२",
    }
    path = tmp_path / "second.csv"
    generate_survey(400, seed=99).write_csv(path)
    ingest_file(rt, path, "samata-data-collective", meta, publish=True)
    client = app.test_client()
    for lang in ("en", "ne"):
        html = client.get(f"/topics/water/factsheet?lang={lang}").data.decode()
        assert "/datasets/second-water-survey" in html and f"/datasets/{slug}" in html
        resp = client.get(f"/topics/water/factsheet.pdf?lang={lang}")
        _png(resp.data, f"factsheet-topic-two-{lang}")
        assert len(PdfReader(io.BytesIO(resp.data)).pages) == 1, lang
