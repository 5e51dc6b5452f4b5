"""Dimension columns read as Categorical (roles known before reading) validate as text does."""

import polars as pl
import pytest

from indexer.readers import Limits, read_table
from indexer.validate import validate_table
from schema.errors import InvalidInput
from schema.roles import ColumnRole, ColumnSpec

SPECS = {
    "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
    "district": ColumnSpec("district", ColumnRole.DIMENSION, "district"),
    "litres": ColumnSpec("litres", ColumnRole.MEASURE),
    "note": ColumnSpec("note", ColumnRole.FREE_TEXT),
}
DIMS = ["sex", "district"]


def _both(data: bytes, **kw):
    """The same file read as text and with the dimensions as Categorical."""
    return (
        read_table(data, filename="w.csv", **kw),
        read_table(data, filename="w.csv", categorical=DIMS, **kw),
    )


def test_dimensions_come_back_categorical_each_with_its_own_categories():
    _, cat = _both(b"sex,district,litres,note\nF,Saptari,1,a\nM,15,2,\n")
    assert isinstance(cat.schema["sex"], pl.Categorical)
    assert isinstance(cat.schema["district"], pl.Categorical)
    assert cat.schema["litres"] == pl.String and cat.schema["note"] == pl.String
    assert cat.schema["sex"].categories.name() != cat.schema["district"].categories.name()
    assert cat["sex"].cast(pl.String).to_list() == ["F", "M"]


def test_validated_table_and_report_are_those_of_the_text_path():
    data = (
        "sex,district,litres,note\nमहिला,काठमाडौं,3,x\n Male ,Saptari,,\nF,15,2.5,y\n,,1,\n".encode()
    )
    text, cat = _both(data)
    a = validate_table(text, SPECS, filename="w.csv")
    b = validate_table(cat, SPECS, filename="w.csv")
    assert b.df.equals(a.df)
    assert b.df.schema["sex"] == pl.String and b.df["sex"].to_list() == [
        "female",
        "male",
        "female",
        None,
    ]
    assert b.report == a.report
    # The header cell is one of the categories but no row holds it: never "unmatched".
    assert b.report["columns"]["sex"]["unmatched"] == []


def test_unknown_codes_are_located_identically():
    data = b"sex,district,litres,note\nF,Atlantis,1,a\nzz,15,2,b\nF,Atlantis,x,c\n"
    text, cat = _both(data)
    errors = []
    for df in (text, cat):
        with pytest.raises(InvalidInput) as exc:
            validate_table(df, SPECS, filename="w.csv")
        errors.append([(p.code, p.row, p.column, p.message) for p in exc.value.problems])
    assert errors[0] == errors[1]
    assert ("unknown_code", 2, "district") in [e[:3] for e in errors[1]]
    assert ("unknown_code", 3, "sex") in [e[:3] for e in errors[1]]
    assert ("not_a_number", 4, "litres") in [e[:3] for e in errors[1]]


def test_a_header_value_that_is_also_a_row_value_is_counted_once_per_row():
    # "F" is both the header cell (parsed as row 0) and a value.
    data = b"F,district\nF,15\nF,15\n"
    specs = {
        "F": ColumnSpec("F", ColumnRole.DIMENSION, "sex"),
        "district": SPECS["district"],
    }
    table = validate_table(
        read_table(data, filename="w.csv", categorical=["F"]), specs, filename="w.csv"
    )
    assert table.report["columns"]["F"]["codes"] == {"female": 2}


def test_too_long_cell_in_a_categorical_column_names_its_row():
    data = b"sex,district\nF,15\n" + b"M," + b"x" * 50 + b"\n"
    with pytest.raises(InvalidInput) as exc:
        read_table(data, filename="w.csv", categorical=DIMS, limits=Limits(max_cell_chars=20))
    assert [(p.code, p.row, p.column) for p in exc.value.problems] == [
        ("cell_too_long", 3, "district")
    ]


def test_ragged_rows_are_still_located_with_categorical_columns():
    data = b"sex,district,litres\nF,15,1\nM,15\nF,15,1,9\n"
    with pytest.raises(InvalidInput) as exc:
        read_table(data, filename="w.csv", categorical=DIMS)
    assert [(p.code, p.row) for p in exc.value.problems] == [("ragged_row", 3), ("ragged_row", 4)]


def test_categorical_names_match_kobo_flattened_headers_and_other_formats_stay_text():
    data = b"group_a/sex,group_a/district,_uuid\nF,15,u1\nM,Saptari,u2\n"
    df = read_table(data, filename="k.csv", categorical=["sex", "district"])
    assert isinstance(df.schema["sex"], pl.Categorical)
    assert df.schema["_uuid"] == pl.String
    json_df = read_table(b'[{"sex": "F"}]', filename="a.json", categorical=["sex"])
    assert json_df.schema["sex"] == pl.String


def test_unknown_names_in_categorical_are_ignored():
    text, _ = _both(b"sex,district\nF,15\n")
    df = read_table(b"sex,district\nF,15\n", filename="w.csv", categorical=["nope"])
    assert df.equals(text)


def test_legacy_encoding_found_after_the_head_keeps_the_categorical_columns():
    rows = "".join("Kathmandu,plain\n" for _ in range(8000))
    data = ("district,note\n" + rows + "Pokhara,café\n").encode("cp1252")
    df = read_table(data, filename="late1252.csv", categorical=["district", "note"])
    assert isinstance(df.schema["note"], pl.Categorical)
    assert df.height == 8001 and df["note"][-1] == "café"
    assert sorted(df["district"].unique().cast(pl.String).to_list()) == ["Kathmandu", "Pokhara"]


def test_coded_columns_are_the_declared_dimensions_and_coded_quasi_identifiers():
    from indexer.validate import coded_columns

    declared = {
        "sex": {"role": "quasi_identifier", "dimension": "sex"},
        "district": {"role": "dimension", "dimension": "district"},
        "village": {"role": "quasi_identifier"},
        "litres": {"role": "measure"},
        "odd": {"role": "dimension", "dimension": "no_such_vocabulary"},
        "typo": {"role": "not_a_role", "dimension": "sex"},
    }
    assert coded_columns(declared) == ["sex", "district"]
    assert coded_columns(SPECS) == ["sex", "district"]
    data = b"sex,district,litres,note\nF,Saptari,1,a\n"
    df = read_table(data, filename="w.csv", categorical=coded_columns(SPECS))
    assert [n for n in df.columns if isinstance(df.schema[n], pl.Categorical)] == DIMS
