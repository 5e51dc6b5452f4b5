import pytest

from schema.vocabularies import (
    AGE,
    DIMENSIONS,
    DISTRICT,
    PROVINCE,
    age_band,
    generalise,
    get_dimension,
    level_of,
    parent_of,
    wg_disability_identifier,
)

REQUIRED = {
    "sex",
    "age",
    "disability",
    "caste_ethnicity",
    "province",
    "district",
    "municipality",
    "migration_status",
    "sogi",
    "language",
    "wealth_quintile",
    "urban_rural",
}


def test_all_standard_dimensions_exist_with_english_and_nepali_labels():
    assert set(DIMENSIONS) >= REQUIRED
    for dim in DIMENSIONS.values():
        assert dim.labels["en"] and dim.labels["ne"]
        for code in dim.codes:
            assert code.labels["en"] and code.labels["ne"], (dim.code, code.code)


def test_geography_has_seven_provinces_and_77_districts_each_with_a_province():
    assert [c.code for c in PROVINCE.codes] == list("1234567")
    assert len(DISTRICT.codes) == 77
    assert all(parent_of(c.code) in PROVINCE for c in DISTRICT.codes)
    assert PROVINCE.label("7") == "Sudurpashchim"


@pytest.mark.parametrize(
    ("dimension", "raw", "code"),
    [
        ("sex", " FEMALE ", "female"),
        ("sex", "महिला", "female"),
        ("sex", "M", "male"),
        ("district", "kathmandu", "28"),
        ("district", "काठमाडौं", "28"),
        ("district", "Kavre", "31"),
        ("district", "Nawalpur", "43"),
        ("province", "Province No. 1", "1"),
        ("province", "सुदूरपश्चिम प्रदेश", "7"),
        ("caste_ethnicity", "Hill Dalit", "hill_dalit"),
        ("caste_ethnicity", "पहाडी दलित", "hill_dalit"),
        ("caste_ethnicity", "Tharu", "tarai_janajati"),
        ("disability_seeing", "A lot of difficulty", "a_lot_of_difficulty"),
        ("age", "३४", "34"),
        ("age", "30 - 34", "30-34"),
        ("age", "65+", "65+"),
        ("wealth_quintile", "Poorest", "q1"),
        ("urban_rural", "गाउँपालिका", "rural"),
    ],
)
def test_values_match_codes_across_case_spelling_and_nepali(dimension, raw, code):
    assert get_dimension(dimension).match(raw) == code


def test_unmatched_values_are_reported_not_guessed():
    mapping, unmatched = get_dimension("sex").match_column(["F", "Male", "banana", None, "F", ""])
    assert mapping == {"F": "female", "Male": "male"}
    assert unmatched == ["banana"]


def test_unknown_dimension_names_known_ones():
    with pytest.raises(KeyError, match="sex"):
        get_dimension("star_sign")


def test_age_bands_and_generalisation():
    assert age_band(0) == "0-4" and age_band(34) == "30-34" and age_band(90) == "85+"
    assert age_band(34, "un") == "15-64" and age_band(20, "broad") == "15-24"
    assert generalise("age", "34", "5y") == "30-34"
    assert generalise("age", "30-34", "un") == "15-64"
    assert generalise("age", "10-19", "un") is None  # straddles two bands
    assert AGE.match("121") is None


def test_places_generalise_up_the_hierarchy():
    assert (
        level_of("2801") == "municipality"
        and level_of("28") == "district"
        and level_of("3") == "province"
    )
    assert parent_of("2801") == "28" and parent_of("28") == "3" and parent_of("3") is None
    assert generalise("municipality", "2801", "province") == "3"
    assert generalise("district", "15", "province") == "2"
    assert generalise("province", "3", "province") == "3"
    with pytest.raises(ValueError):
        generalise("district", "28", "municipality")


def test_washington_group_identifier():
    answers = dict.fromkeys(
        ["seeing", "hearing", "mobility", "cognition", "self_care", "communication"],
        "no_difficulty",
    )
    assert wg_disability_identifier(answers) == "without_disability"
    answers["hearing"] = "a_lot_of_difficulty"
    assert wg_disability_identifier(answers) == "with_disability"
    assert wg_disability_identifier({"seeing": "some_difficulty"}) is None


def test_dimensions_name_sdmx_and_hxl_where_they_exist():
    assert get_dimension("sex").sdmx == "SEX"
    assert get_dimension("district").hxl.tag() == "#adm2+code"


# Every standard dimension, its SDMX concept and HXL tag; None where the standard has none.
MAPPINGS = {
    "sex": ("SEX", "#respondee+sex"),
    "age": ("AGE", "#respondee+age"),
    "disability": ("DISABILITY_STATUS", "#respondee+disabled"),
    **{
        f"disability_{d}": (None, None)
        for d in ("seeing", "hearing", "mobility", "cognition", "self_care", "communication")
    },
    "caste_ethnicity": (None, "#respondee+ethnicity"),
    "province": ("REF_AREA", "#adm1+code"),
    "district": ("REF_AREA", "#adm2+code"),
    "municipality": ("REF_AREA", "#adm3+code"),
    "migration_status": ("MIGRATORY_STATUS", None),
    "sogi": (None, None),
    "language": (None, "#respondee+language"),
    "wealth_quintile": ("INCOME_WEALTH_QUANTILE", None),
    "urban_rural": ("URBANISATION", None),
}


def test_every_dimension_has_its_documented_sdmx_and_hxl_mapping():
    assert set(DIMENSIONS) == set(MAPPINGS)
    for code, (sdmx, hxl) in MAPPINGS.items():
        dim = DIMENSIONS[code]
        assert (dim.sdmx, dim.hxl.tag() if dim.hxl else None) == (sdmx, hxl), code


def test_category_level_hxl_attributes_where_hxl_has_them():
    attrs = {
        (dim.code, c.code): c.hxl_attribute
        for dim in DIMENSIONS.values()
        for c in dim.codes
        if c.hxl_attribute
    }
    assert attrs[("sex", "female")] == "+f" and attrs[("sex", "male")] == "+m"
    assert attrs[("disability", "with_disability")] == "+disabled"
    assert attrs[("urban_rural", "urban")] == "+urban"
    assert attrs[("migration_status", "refugee")] == "+displaced"
    assert attrs[("migration_status", "returnee")] == "+returnees"


def test_washington_group_has_six_domains_sharing_four_answers():
    domains = [d for d in DIMENSIONS if d.startswith("disability_")]
    assert len(domains) == 6
    for d in domains:
        assert [c.code for c in DIMENSIONS[d].codes] == [
            "no_difficulty",
            "some_difficulty",
            "a_lot_of_difficulty",
            "cannot_do_at_all",
        ]
        assert all(c.labels["ne"] for c in DIMENSIONS[d].codes)


@pytest.mark.parametrize(
    ("dimension", "raw", "code"),
    [
        ("sex", "Mahila", "female"),
        ("sex", "Fem.", "female"),
        ("caste_ethnicity", "Kshetri", "hill_chhetri"),
        ("caste_ethnicity", "BAHUN", "hill_brahmin"),
        ("caste_ethnicity", "ब्राह्मण", "hill_brahmin"),
        ("caste_ethnicity", "मुस्लिम", "muslim"),
        ("language", "नेपाली", "ne"),
        ("language", "Newari", "new"),
        ("migration_status", "Foreign employment", "international_migrant"),
        ("migration_status", "बसाइँ नसरेका", "non_migrant"),
        ("sogi", "तेस्रो लिङ्गी", "third_gender"),
        ("sogi", "Trans woman", "transgender_woman"),
        ("disability_hearing", "कुनै कठिनाइ छैन", "no_difficulty"),
        ("disability_mobility", "CANNOT DO AT ALL", "cannot_do_at_all"),
        ("disability", "अपाङ्गता भएका", "with_disability"),
        ("municipality", "Pokhara", "4004"),
        ("municipality", "पोखरा", "4004"),
        ("municipality", "Lalitpur Metropolitan City", "3002"),
        ("urban_rural", "Nagarpalika", "urban"),
        ("wealth_quintile", "Quintile 3", "q3"),
        ("age", "३०-३४", "30-34"),
        ("age", "65 and above", "65+"),
        ("province", "कोशी प्रदेश", "1"),
        ("district", "Kavrepalanchok", "31"),
        ("district", "kathmandu district", "28"),
    ],
)
def test_more_spellings_and_nepali_labels_match(dimension, raw, code):
    assert get_dimension(dimension).match(raw) == code


@pytest.mark.parametrize(
    ("dimension", "raw"),
    [
        ("sex", "fmale"),
        ("district", "Kathmandoo"),
        ("caste_ethnicity", "Brahmin-ish"),
        ("wealth_quintile", "6"),
        ("age", "130"),
        ("municipality", "Atlantis"),
    ],
)
def test_near_misses_are_not_guessed(dimension, raw):
    mapping, unmatched = get_dimension(dimension).match_column([raw])
    assert mapping == {} and unmatched == [raw]
