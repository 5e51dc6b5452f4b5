"""A leak test: seeded personal data never reaches anything that is published."""

import json
import re

import pytest

from indexer.disclosure import anonymise, build_cube
from tests.disclosure.synthetic import survey


@pytest.fixture(scope="module")
def published():
    df, roles, seeded = survey(600, seed=11)
    out = anonymise(df, roles, sensitive_topics=["gbv"])
    cube = build_cube(out.records, out.columns, key_seed=b"per-dataset-secret")
    texts = {
        "records_csv": out.records.write_csv(),
        "records_json": out.records.write_json(),
        "report": json.dumps(out.report.to_dict(), ensure_ascii=False),
        "summary": json.dumps(out.report.summary(), ensure_ascii=False),
        "preview": json.dumps(out.report.free_text_preview, ensure_ascii=False),
        "cube": json.dumps(cube.to_rows(), ensure_ascii=False),
        "columns": json.dumps([s.to_dict() for s in out.columns.values()], ensure_ascii=False),
    }
    return texts, seeded


def test_no_seeded_name_phone_email_id_or_gps_is_published(published):
    texts, seeded = published
    for where, text in texts.items():
        lowered = text.lower()
        for value in seeded.strings():
            assert value.lower() not in lowered, (where, value)


def test_no_part_of_a_seeded_name_is_published(published):
    texts, seeded = published
    for where, text in texts.items():
        for part in seeded.name_parts():
            assert not re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text, re.IGNORECASE), (
                where,
                part,
            )


def test_no_phone_digits_survive_in_any_format(published):
    texts, seeded = published
    for where, text in texts.items():
        digits_only = re.sub(r"\D", "", text)
        for phone in seeded.phones:
            assert phone not in digits_only or phone not in re.sub(r"[\s\-+()]", "", text), (
                where,
                phone,
            )


def test_preview_shows_typed_placeholders(published):
    texts, _ = published
    preview = texts["preview"]
    for placeholder in ("[NAME]", "[PHONE]"):
        assert placeholder in texts["records_csv"]
    assert "[" in preview
