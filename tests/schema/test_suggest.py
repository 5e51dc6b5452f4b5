import random

import polars as pl
import pytest

from schema.roles import ColumnRole
from schema.suggest import suggest_roles


def _frame(n: int = 60) -> pl.DataFrame:
    rng = random.Random(4)
    return pl.DataFrame(
        {
            "q7": [f"98{rng.randrange(10**7, 10**8)}" for _ in range(n)],
            "contact_info": [f"person{i}@example.org" for i in range(n)],
            "doc": [
                f"{rng.randint(1, 77):02d}-01-{rng.randint(60, 80)}-{rng.randint(1000, 99999)}"
                for _ in range(n)
            ],
            "respondent_name": [rng.choice(["Sita", "Ram", "Gita"]) + f" {i}" for i in range(n)],
            "gender": [rng.choice(["F", "M", "महिला"]) for _ in range(n)],
            "age": [str(rng.randint(5, 90)) for _ in range(n)],
            "where": [rng.choice(["Saptari", "Siraha", "Kathmandu"]) for _ in range(n)],
            "jat": [rng.choice(["Hill Dalit", "Tharu", "Newar"]) for _ in range(n)],
            "household_size": [str(rng.randint(1, 9)) for _ in range(n)],
            "litres": [f"{rng.uniform(0, 50):.1f}" for _ in range(n)],
            "comment": [
                f"The tap in our tole has been dry for {i} days and we walk far" for i in range(n)
            ],
            "_submission_time": ["2024-01-01T10:00:00"] * n,
            "deviceid": [f"collect:{i}" for i in range(n)],
            "_gps_latitude": ["26.6"] * n,
            "colour": [rng.choice(["red", "blue"]) for _ in range(n)],
        }
    )


@pytest.fixture(scope="module")
def roles():
    return suggest_roles(_frame())


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        ("q7", "phone"),
        ("contact_info", "email"),
        ("doc", "ID"),
        ("respondent_name", "name"),
        ("deviceid", "Kobo"),
    ],
)
def test_identifiers_are_found_by_values_or_names(roles, column, reason):
    assert roles[column].role == ColumnRole.DIRECT_IDENTIFIER
    assert reason.lower() in roles[column].reason.lower()


def test_phone_numbers_are_identifiers_whatever_the_column_is_called(roles):
    assert roles["q7"].reason == "values are phone numbers"


@pytest.mark.parametrize(
    ("column", "dimension"),
    [("gender", "sex"), ("age", "age"), ("where", "district"), ("jat", "caste_ethnicity")],
)
def test_dimensions_are_found_by_names_and_values(roles, column, dimension):
    assert roles[column].dimension == dimension
    assert roles[column].role in (ColumnRole.QUASI_IDENTIFIER, ColumnRole.DIMENSION)


def test_numbers_are_measures_not_district_codes(roles):
    assert roles["household_size"].role == ColumnRole.MEASURE
    assert roles["litres"].role == ColumnRole.MEASURE


def test_long_text_is_free_text_and_the_rest_is_other(roles):
    assert roles["comment"].role == ColumnRole.FREE_TEXT
    assert roles["colour"].role == ColumnRole.OTHER
    assert roles["_submission_time"].role == ColumnRole.DIRECT_IDENTIFIER
    assert roles["_gps_latitude"].role == ColumnRole.DIRECT_IDENTIFIER


def test_facts_others_know_and_many_unmatched_categories_are_quasi_identifiers():
    rng = random.Random(9)
    n = 300
    roles = suggest_roles(
        pl.DataFrame(
            {
                "village": [f"Village-{rng.randint(1, 8)}" for _ in range(n)],
                "occupation": [rng.choice(["farmer", "teacher", "driver"]) for _ in range(n)],
                "school": [rng.choice(["Shree Janata", "Saraswati"]) for _ in range(n)],
                "favourite_food": [f"dish {rng.randint(1, 40)}" for _ in range(n)],
                "water_source": [rng.choice(["tap", "well", "river", "tanker"]) for _ in range(n)],
            }
        )
    )
    for column in ("village", "occupation", "school", "favourite_food"):
        assert roles[column].role == ColumnRole.QUASI_IDENTIFIER, (column, roles[column])
    assert "categories" in roles["favourite_food"].reason
    # A survey answer with a handful of choices is not treated as identifying.
    assert roles["water_source"].role == ColumnRole.OTHER


def test_suggestions_serialise_with_reasons(roles):
    d = roles["gender"].to_dict()
    assert d["name"] == "gender" and d["dimension"] == "sex" and d["reason"]


def test_empty_columns_do_not_break_suggestion():
    roles = suggest_roles(pl.DataFrame({"x": pl.Series([None, None], dtype=pl.String)}))
    assert roles["x"].role == ColumnRole.OTHER


KOBO_ODK_METADATA = [
    "_id",
    "_uuid",
    "_submission_time",
    "_submitted_by",
    "_index",
    "_parent_index",
    "_validation_status",
    "_notes",
    "_tags",
    "_attachments",
    "_geolocation",
    "__version__",
    "_xform_id_string",
    "deviceid",
    "phonenumber",
    "simserial",
    "subscriberid",
    "username",
    "start",
    "end",
    "today",
    "audit",
    "instanceID",
    "meta/instanceID",
    "formhub/uuid",
    "gps",
    "_gps_latitude",
    "_gps_longitude",
    "_gps_altitude",
    "_gps_precision",
    "_household_location_latitude",
    "_household_location_precision",
]


@pytest.mark.parametrize("column", KOBO_ODK_METADATA)
def test_kobo_and_odk_collection_metadata_is_an_identifier_dropped_by_default(column):
    df = pl.DataFrame({column: [f"v{i}" for i in range(30)], "sex": ["F", "M"] * 15})
    role = suggest_roles(df)[column]
    assert role.role == ColumnRole.DIRECT_IDENTIFIER and "dropped by default" in role.reason


def test_odk_central_export_columns_are_claimed_only_in_an_odk_central_header():
    n = 20
    odk = pl.DataFrame(
        {
            "SubmissionDate": ["2024-02-01T04:40:11.000Z"] * n,
            "sex": ["female", "male"] * (n // 2),
            "place-Latitude": ["26.6"] * n,
            "place-Accuracy": ["4.5"] * n,
            "meta-instanceID": [f"uuid:{i}" for i in range(n)],
            "KEY": [f"uuid:{i}" for i in range(n)],
            "SubmitterName": ["enumerator1"] * n,
            "Status": [""] * n,
            "ReviewState": ["approved"] * n,
        }
    )
    roles = suggest_roles(odk)
    for name in odk.columns:
        if name != "sex":
            assert roles[name].role == ColumnRole.DIRECT_IDENTIFIER, name
    plain = suggest_roles(pl.DataFrame({"status": ["married", "single"] * 15}))
    assert plain["status"].role != ColumnRole.DIRECT_IDENTIFIER


def test_geopoint_answers_are_identifiers_whatever_the_column_is_called():
    df = pl.DataFrame({"where_we_met": [f"27.{i:03d} 85.3{i} 1300 5" for i in range(40)]})
    role = suggest_roles(df)["where_we_met"]
    assert role.role == ColumnRole.DIRECT_IDENTIFIER and "GPS" in role.reason


def test_a_number_is_a_place_code_only_under_a_place_name_and_record_numbers_are_dropped():
    rng = random.Random(12)
    n = 300
    serials = list(range(1001, 1001 + n))
    rng.shuffle(serials)
    roles = suggest_roles(
        pl.DataFrame(
            {
                "ward_no": [str(rng.randint(1, 12)) for _ in range(n)],
                # measures whose names hold a knowable word ('work', 'area', 'school')
                "work_hours": [str(rng.randint(0, 60)) for _ in range(n)],
                "land_area": [f"{rng.uniform(0.1, 5):.2f}" for _ in range(n)],
                "distance_to_school_km": [str(rng.randint(0, 15)) for _ in range(n)],
                "time_to_village_minutes": [str(rng.randint(1, 120)) for _ in range(n)],
                # an age by another name, published verbatim it undoes the age bands
                "birth_year": [str(rng.randint(1945, 2006)) for _ in range(n)],
                "janma_sal": [str(rng.randint(2002, 2063)) for _ in range(n)],
                # a date of birth in Nepali, like dob
                "janma_miti": [
                    f"20{rng.randint(20, 60)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
                    for _ in range(n)
                ],
                # household numbers link a record to the raw data and to other tables
                "hh_no": [str(v) for v in serials],
                # distinct whole numbers spread over a wide range are a measure
                "income": [str(rng.randrange(5_000, 500_000)) for _ in range(n)],
            }
        )
    )
    assert roles["ward_no"].role == ColumnRole.QUASI_IDENTIFIER
    for column in ("work_hours", "land_area", "distance_to_school_km", "time_to_village_minutes"):
        assert roles[column].role == ColumnRole.MEASURE, (column, roles[column])
    assert roles["birth_year"].role == roles["janma_sal"].role == ColumnRole.QUASI_IDENTIFIER
    assert roles["janma_miti"].role == ColumnRole.DIRECT_IDENTIFIER
    assert roles["hh_no"].role == ColumnRole.DIRECT_IDENTIFIER, roles["hh_no"]
    assert roles["income"].role == ColumnRole.MEASURE
