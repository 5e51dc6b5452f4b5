"""The geography vocabulary: all 753 local levels, their names, parents and matching."""

import subprocess
import sys
from collections import Counter

import pytest

from schema.vocabularies import generalise
from schema.vocabularies.geography import (
    DISTRICT,
    LOCAL_LEVEL_TYPES,
    MUNICIPALITY,
    PROVINCE,
    level_of,
    local_level_type,
    match_place,
    parent_of,
    place_at_level,
)

DEVANAGARI = range(0x0900, 0x0980)


def test_there_are_753_local_levels_of_the_four_official_types():
    types = Counter(local_level_type(c.code) for c in MUNICIPALITY.codes)
    assert types == {
        "metropolitan_city": 6,
        "sub_metropolitan_city": 11,
        "municipality": 276,
        "rural_municipality": 460,
    }
    assert sum(types.values()) == 753 == len({c.code for c in MUNICIPALITY.codes})
    assert set(types) == set(LOCAL_LEVEL_TYPES)


def test_local_levels_per_province_match_the_official_counts():
    per_province = Counter(place_at_level(c.code, "province") for c in MUNICIPALITY.codes)
    assert [per_province[p] for p in "1234567"] == [137, 136, 119, 85, 109, 79, 88]


def test_every_local_level_has_english_and_nepali_names_and_a_district_parent():
    for c in MUNICIPALITY.codes:
        en, ne = c.labels["en"], c.labels["ne"]
        assert en.isascii() and en.strip() == en and en, c.code
        assert any(ord(ch) in DEVANAGARI for ch in ne) and ne.strip() == ne, c.code
        assert c.parent in DISTRICT and c.code[:2] == c.parent, c.code
        assert level_of(c.code) == "municipality" and parent_of(c.code) == c.parent
        suffix = LOCAL_LEVEL_TYPES[local_level_type(c.code)]
        assert en.endswith(" " + suffix["en"]) and ne.endswith(suffix["ne"]), c.code


def test_every_district_has_local_levels_and_the_metropolitan_cities_are_where_expected():
    districts = Counter(c.parent for c in MUNICIPALITY.codes)
    assert set(districts) == {d.code for d in DISTRICT.codes}
    metros = {
        MUNICIPALITY.label(c.code): DISTRICT.label(c.parent)
        for c in MUNICIPALITY.codes
        if local_level_type(c.code) == "metropolitan_city"
    }
    assert metros == {
        "Biratnagar Metropolitan City": "Morang",
        "Birgunj Metropolitan City": "Parsa",
        "Kathmandu Metropolitan City": "Kathmandu",
        "Lalitpur Metropolitan City": "Lalitpur",
        "Bharatpur Metropolitan City": "Chitwan",
        "Pokhara Metropolitan City": "Kaski",
    }


def test_codes_follow_the_official_district_and_local_level_serials():
    kmc = MUNICIPALITY.info("2808")
    assert kmc.federal_code == "30608" and kmc.type == "metropolitan_city" and kmc.wards == 32
    assert MUNICIPALITY.label("2808") == "Kathmandu Metropolitan City"
    assert MUNICIPALITY.label("6806") == "Birendranagar Municipality"
    assert DISTRICT.label("68") == "Surkhet" and DISTRICT.label("76") == "Kailali"
    assert DISTRICT.match("306") == "28" and MUNICIPALITY.match("30608") == "2808"
    assert generalise("municipality", "7613", "province") == "7"  # Dhangadhi


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Kathmandu Metropolitan City", "2808"),
        ("काठमाडौं महानगरपालिका", "2808"),
        ("काठमाण्डौ महानगरपालिका", "2808"),
        ("Kathmandu", "2808"),
        ("kathmandu metropolitian city", "2808"),
        ("Pokhara", "4004"),
        ("पोखरा", "4004"),
        ("Pokhara Lekhnath", "4004"),
        ("Lalitpur Metropolitan City", "3002"),
        ("Birganj", "2207"),
        ("Dhangadhi Sub-Metropolitan City", "7613"),
        ("Janakpur", "1715"),
        ("Phaktanlung Gaunpalika", "0101"),
        ("फक्ताङ्लुङ्ग गाउंपालिका", "0101"),
        ("Birendranagar Nagarpalika", "6806"),
        ("माडी गाउँपालिका", "4805"),  # Rolpa's Madi is spelt differently in Nepali
    ],
)
def test_known_local_levels_match_by_english_nepali_and_spelling_variants(raw, code):
    assert MUNICIPALITY.match(raw) == code


@pytest.mark.parametrize(
    ("raw", "district", "code"),
    [
        ("Madi", "Chitwan", "3507"),
        ("Madi", "35", "3507"),
        ("Madi Municipality", "Sankhuwasabha", "0209"),
        ("Tribeni", "Salyan", "6709"),
        ("Kalika", "Rasuwa", "2504"),
        ("Madi Rural Municipality", "Kaski", "4001"),
    ],
)
def test_a_shared_name_is_ambiguous_unless_the_district_is_known(raw, district, code):
    assert MUNICIPALITY.match(raw) is None
    assert len(MUNICIPALITY.candidates(raw)) > 1
    assert code in MUNICIPALITY.candidates(raw)
    assert MUNICIPALITY.match(raw, district=district) == code


def test_ambiguous_names_are_reported_not_guessed_in_a_column():
    values = ["Madi", "Pokhara", "Bagmati", "Atlantis", None, "Madi"]
    mapping, unmatched = MUNICIPALITY.match_column(values)
    assert mapping == {"Pokhara": "4004"}
    assert unmatched == ["Madi", "Bagmati", "Atlantis"]
    ambiguous = MUNICIPALITY.ambiguous(values)
    assert set(ambiguous) == {"Madi", "Bagmati"}
    assert {DISTRICT.label(MUNICIPALITY.get(c).parent) for c in ambiguous["Madi"]} == {
        "Sankhuwasabha",
        "Chitwan",
        "Kaski",
        "Rolpa",
    }
    # With the district known, the same column matches without guessing.
    mapping, unmatched = MUNICIPALITY.match_column(["Madi", "Bharatpur"], district="Chitwan")
    assert mapping == {"Madi": "3507", "Bharatpur": "3504"} and unmatched == []


def test_a_name_outside_the_given_district_or_an_unknown_district_matches_nothing():
    assert MUNICIPALITY.match("Pokhara", district="Kathmandu") is None
    assert MUNICIPALITY.match("Madi", district="Atlantis") is None


def test_match_place_prefers_districts_for_shared_bare_names_and_never_guesses():
    assert match_place("Kathmandu") == "28"  # the district, not the metropolitan city
    assert match_place("Jhapa") == "11"  # not Jhapa Rural Municipality
    assert match_place("Siraha") == "16"
    assert match_place("Kathmandu Metropolitan City") == "2808"
    assert match_place("Pokhara") == "4004"
    assert match_place("Bagmati") == "3"  # three local levels share it; the province does not
    assert match_place("Madi") is None
    assert match_place("2808") == "2808" and match_place(None) is None
    assert PROVINCE.match("Karnali") == "6"


def test_importing_the_vocabulary_does_not_read_the_local_level_list():
    code = (
        "import schema.vocabularies.geography as g, sys;"
        "assert g.MUNICIPALITY._table is None;"
        "assert g.level_of('2808') == 'municipality';"
        "assert g.MUNICIPALITY._table is not None"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
