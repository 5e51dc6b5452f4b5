import datetime as dt

import polars as pl
import pytest

from indexer.readers import read_table
from indexer.validate import validate_table
from schema.errors import InvalidInput
from schema.roles import ColumnRole, ColumnSpec
from schema.suggest import suggest_roles

from .bad_corpus import _xlsx


def test_validate_maps_codes_and_casts_measures():
    df = read_table(
        'sex,age,district,litres,note\nमहिला,३४,काठमाडौं,"1,250.5",ok\n Male ,5,Saptari,२३,\nF,70+,15,,x\n'.encode(),
        filename="w.csv",
    )
    cols = {
        "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
        "age": ColumnSpec("age", ColumnRole.QUASI_IDENTIFIER, "age"),
        "district": ColumnSpec("district", ColumnRole.DIMENSION, "district"),
        "litres": ColumnSpec("litres", ColumnRole.MEASURE),
        "note": ColumnSpec("note", ColumnRole.FREE_TEXT),
    }
    table = validate_table(df, cols, filename="w.csv")
    assert table.df["sex"].to_list() == ["female", "male", "female"]
    assert table.df["age"].to_list() == ["34", "5", "70+"]
    assert table.df["district"].to_list() == ["28", "15", "15"]
    assert table.df.schema["litres"] == pl.Float64
    assert table.df["litres"].to_list() == [1250.5, 23.0, None]
    assert table.report["columns"]["district"]["codes"] == {"15": 2, "28": 1}
    assert table.report["rows"] == 3 and table.problems == []


def test_suggested_roles_validate_a_clean_upload():
    df = read_table(b"gender,district,litres\nF,Saptari,1\nM,Siraha,2\n", filename="s.csv")
    table = validate_table(df, suggest_roles(df), filename="s.csv")
    assert table.df["district"].to_list() == ["15", "16"]


def test_empty_column_is_a_warning_not_an_error():
    df = pl.DataFrame({"sex": ["F"], "note": pl.Series([None], dtype=pl.String)})
    cols = {
        "sex": ColumnSpec("sex", ColumnRole.DIMENSION, "sex"),
        "note": ColumnSpec("note", ColumnRole.FREE_TEXT),
    }
    table = validate_table(df, cols, filename="e.csv")
    assert [p.code for p in table.problems] == ["empty_column"]


def test_xlsx_values_are_text_with_cached_numbers_and_iso_dates():
    data = _xlsx(
        [
            ["sex", "when", "n", "ok"],
            ["F", dt.datetime(2024, 1, 15), 3, True],
            ["M", dt.date(2024, 2, 1), 2.5, None],
        ]
    )
    df = read_table(data, filename="x.xlsx")
    assert df.rows() == [("F", "2024-01-15", "3", "true"), ("M", "2024-02-01", "2.5", None)]


def test_named_sheet_is_read():
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["ignored"])
    ws = wb.create_sheet("answers")
    ws.append(["sex"])
    ws.append(["F"])
    buf = io.BytesIO()
    wb.save(buf)
    assert read_table(buf.getvalue(), filename="two.xlsx", sheet="answers").rows() == [("F",)]


def test_xlsx_number_columns_become_text_in_bulk_like_cell_by_cell():
    data = _xlsx(
        [
            ["n", "mixed", "flag"],
            [3, "a", True],
            [2.5, 7, False],
            [None, None, None],
            [1e16, 0.1, True],
        ]
    )
    df = read_table(data, filename="nums.xlsx")
    assert df["n"].to_list() == ["3", "2.5", None, "1e+16"]
    assert df["mixed"].to_list() == ["a", "7", None, "0.1"]
    assert df["flag"].to_list() == ["true", "false", None, "true"]


def test_measures_with_spaces_separators_and_nepali_digits_take_the_careful_path():
    df = pl.DataFrame({"n": [" 12 ", "1,234.5", "१२", "  ", None, "7"]})
    table = validate_table(df, {"n": ColumnSpec("n", ColumnRole.MEASURE)}, filename="m.csv")
    assert table.df["n"].to_list() == [12.0, 1234.5, 12.0, None, None, 7.0]


def test_xlsx_rows_are_converted_in_batches_with_the_same_result(monkeypatch):
    from indexer.readers import spreadsheet

    rows = [[None, None], ["sex", "n"]] + [["F" if i % 2 else "M", i * 0.5] for i in range(23)]
    data = _xlsx(rows)
    whole = read_table(data, filename="b.xlsx")
    monkeypatch.setattr(spreadsheet, "_BATCH_ROWS", 4)
    batched = read_table(data, filename="b.xlsx")
    assert batched.equals(whole) and batched.height == 23
    assert batched["n"].to_list()[:3] == ["0", "0.5", "1"]


def test_measure_report_gives_min_max_mean_of_numbers_on_both_paths():
    cols = {
        "plain": ColumnSpec("plain", ColumnRole.MEASURE),
        "typed": ColumnSpec("typed", ColumnRole.MEASURE),
        "blank": ColumnSpec("blank", ColumnRole.MEASURE),
    }
    df = pl.DataFrame(
        {
            "plain": ["2", None, "4.5", " 6 "],
            "typed": ["1,000", "२", None, "3"],  # needs the careful parse
            "blank": pl.Series([None] * 4, dtype=pl.String),
        }
    )
    report = validate_table(df, cols, filename="m.csv").report["columns"]
    assert {k: report["plain"][k] for k in ("min", "max", "mean")} == {
        "min": 2.0,
        "max": 6.0,
        "mean": 12.5 / 3,
    }
    assert {k: report["typed"][k] for k in ("min", "max", "mean")} == {
        "min": 2.0,
        "max": 1000.0,
        "mean": 335.0,
    }
    assert report["blank"]["min"] is None and report["blank"]["nulls"] == 4


def test_nan_and_infinity_in_a_measure_are_reported_by_row():
    df = pl.DataFrame({"n": ["1", "nan", "2", "-inf"]})
    with pytest.raises(InvalidInput) as err:
        validate_table(df, {"n": ColumnSpec("n", ColumnRole.MEASURE)}, filename="n.csv")
    assert [(p.code, p.row, p.column) for p in err.value.problems] == [
        ("not_a_number", 3, "n"),
        ("not_a_number", 5, "n"),
    ]
