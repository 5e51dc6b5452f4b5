"""schema.org ``Dataset`` JSON-LD embedded in dataset pages (what dataset search engines read)."""

from __future__ import annotations

import json
import re

SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def test_dataset_page_embeds_schema_org_dataset_json_ld(catalogue):
    water = catalogue.published["water"]
    page = catalogue.app.test_client().get(f"/datasets/{water['slug']}").data.decode()
    (raw,) = SCRIPT.findall(page)
    doc = json.loads(raw)
    assert doc["@context"] == "https://schema.org/" and doc["@type"] == "Dataset"
    assert doc["@id"] == f"{catalogue.url}/datasets/{water['slug']}"
    assert doc["name"].startswith("Access to water") and doc["description"]
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["temporalCoverage"] == "2025-01-15/2025-03-30"
    assert doc["publisher"]["name"] == "Samata Collective"
    urls = {d["contentUrl"] for d in doc["distribution"]}
    assert f"{catalogue.url}/datasets/{water['slug']}/download.csv" in urls
    names = {v["name"] for v in doc["variableMeasured"]}
    assert "sex" in names and "respondent_name" not in names and "phone" not in names
