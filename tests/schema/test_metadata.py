import pytest

from schema.errors import InvalidInput
from schema.examples import example_metadata
from schema.metadata import columns_from_metadata, load_metadata
from schema.roles import ColumnRole


def _fields(exc: InvalidInput) -> dict[str, str]:
    return {p.field: p.message for p in exc.problems}


def test_example_metadata_is_valid_and_normalised():
    meta = load_metadata(example_metadata())
    assert meta["country"] == "NP"
    assert meta["period"] == {"start": "2024-01-15", "end": "2024-03-30"}
    assert meta["coverage"]["places"] == ["15"]
    assert "columns" not in meta


def test_defaults_are_filled():
    doc = example_metadata()
    for key in (
        "country",
        "cube_threshold",
        "topics",
        "sensitive_topics",
        "coverage",
        "period",
        "slug",
    ):
        doc.pop(key)
    meta = load_metadata(doc)
    assert meta["country"] == "NP" and meta["cube_threshold"] == 10
    assert meta["topics"] == [] and meta["sensitive_topics"] == []


def test_missing_consent_detail_names_the_dotted_field():
    doc = example_metadata()
    del doc["methodology"]["consent"]["how_obtained"]
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    fields = _fields(err.value)
    assert "methodology.consent.how_obtained" in fields
    assert "consent" in fields["methodology.consent.how_obtained"]


def test_methodology_is_required():
    doc = example_metadata()
    del doc["methodology"]
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    assert "methodology" in _fields(err.value)


@pytest.mark.parametrize(("threshold", "ok"), [(5, True), (500, True), (4, False), (501, False)])
def test_the_cube_threshold_has_a_floor_and_a_ceiling(threshold, ok):
    doc = example_metadata()
    doc["cube_threshold"] = threshold
    if ok:
        assert load_metadata(doc)["cube_threshold"] == threshold
        return
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    assert "cube_threshold" in _fields(err.value)


def test_all_problems_are_reported_at_once():
    doc = example_metadata()
    doc["licence"] = "All rights reserved"
    doc["topics"] = ["water", "astrology"]
    doc["period"] = {"start": "2024-05-01", "end": "2024-01-01"}
    doc["cube_threshold"] = 3
    doc["contact"]["email"] = "not-an-email"
    doc["surprise"] = True
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    fields = _fields(err.value)
    assert {
        "licence",
        "topics.1",
        "period.end",
        "cube_threshold",
        "contact.email",
        "surprise",
    } <= set(fields)
    assert err.value.code == "invalid_metadata"


@pytest.mark.parametrize("title", [{}, {"fr": "Titre"}, {"en": "   "}, "", None, ["x"]])
def test_title_needs_english_or_nepali_text(title):
    doc = example_metadata()
    doc["title"] = title
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    assert any(f.startswith("title") for f in _fields(err.value))


def test_nepali_only_title_is_enough():
    doc = example_metadata()
    doc["title"] = {"ne": "सर्वेक्षण"}
    assert load_metadata(doc)["title"] == {"ne": "सर्वेक्षण"}


def test_unknown_place_code_and_level_mismatch_are_reported():
    doc = example_metadata()
    doc["coverage"] = {"places": ["99", "3"], "level": "district"}
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    fields = _fields(err.value)
    assert "coverage.places.0" in fields and "coverage.places.1" in fields


def test_coverage_level_is_derived_from_places():
    doc = example_metadata()
    doc["coverage"] = {"places": ["2801", "28"]}
    assert load_metadata(doc)["coverage"]["level"] == "district"


def test_columns_are_validated_and_become_column_specs():
    doc = example_metadata()
    doc["columns"] = {
        "sex": {"role": "quasi_identifier", "dimension": "sex"},
        "litres": {"role": "measure", "label": "Litres per day"},
        "mobile": {"role": "direct_identifier"},
    }
    specs = columns_from_metadata(load_metadata(doc))
    assert specs["sex"].dimension == "sex"
    assert specs["litres"].role == ColumnRole.MEASURE
    doc["columns"]["caste"] = {"role": "dimension"}
    doc["columns"]["x"] = {"role": "boss", "dimension": "star_sign"}
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    fields = _fields(err.value)
    assert {"columns.caste.dimension", "columns.x.role", "columns.x.dimension"} <= set(fields)


def test_non_object_metadata_is_refused():
    with pytest.raises(InvalidInput):
        load_metadata(["not", "an", "object"])  # type: ignore[arg-type]


def test_sample_size_must_be_a_positive_whole_number():
    doc = example_metadata()
    doc["methodology"]["participant_selection"]["sample_size"] = "many"
    with pytest.raises(InvalidInput) as err:
        load_metadata(doc)
    assert "methodology.participant_selection.sample_size" in _fields(err.value)
