"""Declared measures parsed as numbers while a CSV is read validate as text does."""

import polars as pl
import pytest

from indexer.pipeline import read_and_validate
from indexer.readers import read_table
from indexer.validate import measure_columns, validate_table
from schema.errors import InvalidInput
from schema.roles import ColumnRole, ColumnSpec

SPECS = {
    "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
    "litres": ColumnSpec("litres", ColumnRole.MEASURE),
    "income": ColumnSpec("income", ColumnRole.MEASURE),
    "note": ColumnSpec("note", ColumnRole.FREE_TEXT),
}
MEASURES = ["litres", "income"]


def _both(data: bytes, **kw):
    """The same file read as text and with the measures as numbers (and sex as Categorical)."""
    return (
        read_table(data, filename="m.csv", **kw),
        read_table(data, filename="m.csv", categorical=["sex"], numeric=MEASURES, **kw),
    )


def _problems(df):
    with pytest.raises(InvalidInput) as exc:
        validate_table(df, SPECS, filename="m.csv")
    return [(p.code, p.row, p.column, p.message) for p in exc.value.problems]


def test_measures_that_are_all_numbers_come_back_float64():
    _, num = _both(b'sex,litres,income,note\nF,1.5,"2000",a\nM,,3e3,b\nF, 7,0012,\n')
    assert num.schema["litres"] == pl.Float64 and num.schema["income"] == pl.Float64
    assert num.schema["note"] == pl.String
    assert num["litres"].to_list() == [1.5, None, 7.0]
    assert num["income"].to_list() == [2000.0, 3000.0, 12.0]


def test_the_validated_table_and_report_are_those_of_the_text_path():
    data = "sex,litres,income,note\nमहिला,3,1200.5,x\nM,,7,\nF,2.5,0,y\n".encode()
    text, num = _both(data)
    a = validate_table(text, SPECS, filename="m.csv")
    b = validate_table(num, SPECS, filename="m.csv")
    assert b.df.equals(a.df)
    assert b.report == a.report
    assert b.df.schema["litres"] == pl.Float64


@pytest.mark.parametrize(
    "cell", ["१२", "1,234", "abc", "3 ", "12%", "0x1A"], ids=lambda c: c.encode().hex()
)
def test_a_measure_with_a_cell_that_is_not_a_plain_number_comes_as_text(cell):
    data = f'sex,litres,income,note\nF,"{cell}",1,a\nM,2,2,b\n'.encode()
    text, num = _both(data)
    assert num.schema["litres"] == pl.String
    assert num["litres"].to_list() == text["litres"].to_list()
    # The careful parse (Nepali digits, thousands separators, spaces) or a located error.
    try:
        a = validate_table(text, SPECS, filename="m.csv")
    except InvalidInput:
        assert _problems(num) == _problems(text)
    else:
        assert validate_table(num, SPECS, filename="m.csv").df.equals(a.df)


def test_non_finite_numbers_are_reported_with_row_and_column():
    data = b"sex,litres,income,note\nF,inf,1,a\nM,2,NaN,b\nF,3,4,c\n"
    text, num = _both(data)
    # Read as text again, so that the report quotes the cells as written.
    assert num.schema["litres"] == pl.String and num.schema["income"] == pl.String
    found = _problems(num)
    assert [(code, row, column) for code, row, column, _ in found] == [
        ("not_a_number", 2, "litres"),
        ("not_a_number", 3, "income"),
    ]
    assert found == _problems(text)


def test_bad_measures_and_unknown_codes_are_all_reported_in_one_report():
    data = b"sex,litres,income,note\nzz,x,1,a\nF,2,y,b\n"
    text, num = _both(data)
    assert _problems(num) == _problems(text)
    assert {(code, row, column) for code, row, column, _ in _problems(num)} == {
        ("unknown_code", 2, "sex"),
        ("not_a_number", 2, "litres"),
        ("not_a_number", 3, "income"),
    }


def test_a_header_alone_with_numeric_measures_has_no_rows():
    _, num = _both(b"sex,litres,income,note\n")
    assert num.height == 0
    assert [p[0] for p in _problems(num)] == ["no_rows"]


def test_a_quoted_newline_in_the_header_and_ragged_rows_keep_working():
    _, num = _both(b'sex,"lit\nres",income,note\nF,1,2,a\n')
    assert num.columns == ["sex", "lit\nres", "income", "note"]
    with pytest.raises(InvalidInput) as exc:
        read_table(b"sex,litres,income\nF,1,2\nM,2\nF,1,2,9\n", filename="m.csv", numeric=MEASURES)
    assert [(p.code, p.row) for p in exc.value.problems] == [("ragged_row", 3), ("ragged_row", 4)]


@pytest.mark.parametrize("bad", [False, True])
def test_large_files_on_disk_take_the_same_typed_path(tmp_path, monkeypatch, bad):
    from indexer.readers import delimited

    monkeypatch.setattr(delimited, "_BY_PATH_MIN_BYTES", 0)
    rows = "".join(f"F,{i}.5,{i},n{i}\n" for i in range(2000))
    tail = "M,१२,3,z\n" if bad else ""
    path = tmp_path / "big.csv"
    path.write_text("sex,litres,income,note\n" + rows + tail, encoding="utf-8")
    df = read_table(path, categorical=["sex"], numeric=MEASURES)
    assert df.schema["litres"] == (pl.String if bad else pl.Float64)
    table = validate_table(df, SPECS, filename="big.csv")
    assert table.df.schema["litres"] == pl.Float64
    assert table.df["litres"][-1] == (12.0 if bad else 1999.5)


def test_read_and_validate_reads_with_the_declared_roles(tmp_path):
    declared = {n: s.to_dict() for n, s in SPECS.items()}
    assert measure_columns(declared) == MEASURES
    path = tmp_path / "m.csv"
    path.write_bytes(b"sex,litres,income,note\nF,1,2,a\nM,3,4,b\n")
    table = read_and_validate(path, "m.csv", declared)
    expected = validate_table(read_table(path), SPECS, filename="m.csv")
    assert table.df.equals(expected.df) and table.report == expected.report


@pytest.mark.parametrize(
    "cell", ["9" * 50, "0." + "0" * 50 + "1", "0" * 49 + "7", " " * 49 + "7", " " * 49 + "inf"]
)
@pytest.mark.parametrize("on_disk", [False, True])
def test_a_too_long_cell_that_is_a_number_is_still_too_long(cell, on_disk, tmp_path, monkeypatch):
    from indexer.readers import Limits, delimited

    monkeypatch.setattr(delimited, "_BY_PATH_MIN_BYTES", 0)
    data = f"sex,litres,income,note\nF,1,2,a\nM,{cell},3,b\n".encode()
    source = data
    if on_disk:
        source = tmp_path / "m.csv"
        source.write_bytes(data)
    with pytest.raises(InvalidInput) as exc:
        read_table(source, filename="m.csv", numeric=MEASURES, limits=Limits(max_cell_chars=40))
    assert [(p.code, p.row, p.column) for p in exc.value.problems] == [
        ("cell_too_long", 3, "litres")
    ]


def test_finite_numbers_whose_sum_overflows_stay_numbers_and_validate():
    # Each value is finite but their sum is not: the one-sum check is no verdict there.
    data = b"sex,litres,income,note\nF,1.5e308,1,a\nM,1.5e308,-1e308,b\nF,-2,-1e308,c\n"
    text, num = _both(data)
    assert num.schema["litres"] == pl.Float64 and num.schema["income"] == pl.Float64
    a = validate_table(text, SPECS, filename="m.csv")
    b = validate_table(num, SPECS, filename="m.csv")
    assert b.df.equals(a.df)
    assert b.report["columns"]["litres"]["max"] == 1.5e308
    assert b.report["columns"]["litres"]["min"] == -2
    assert b.report["columns"]["income"]["min"] == -1e308


def test_measure_report_mean_is_that_of_the_filled_cells():
    _, num = _both(b"sex,litres,income,note\nF,1,10,a\nM,,20,b\nF,4,,c\n")
    report = validate_table(num, SPECS, filename="m.csv").report["columns"]
    assert report["litres"]["mean"] == 2.5 and report["income"]["mean"] == 15


def test_a_number_too_large_for_a_float_is_reported_as_written():
    _, num = _both(b"sex,litres,income,note\nF,1e999,1,a\n")
    assert num.schema["litres"] == pl.String
    assert "'1e999' is not a number" in _problems(num)[0][3]


def test_long_numbers_possible_samples_the_bytes_and_misses_no_long_run(tmp_path):
    from indexer.readers import Limits
    from indexer.readers.delimited import long_numbers_possible

    limits = Limits(max_cell_chars=100)
    path = tmp_path / "run.csv"
    for run in range(95, 106):
        for lead in range(0, 60, 7):
            data = b"x" * lead + b"," + b"1" * run + b"," + b"y" * 500
            path.write_bytes(data)
            if run > 100:
                assert long_numbers_possible(data, limits), (run, lead)
                assert long_numbers_possible(path, limits), (run, lead)
    path.write_bytes(b"a,12.5,-3e4,x\n" * 1000)
    assert not long_numbers_possible(path, limits)
    # Short runs only (at most half the limit): exact answer, no false alarm.
    assert not long_numbers_possible(b"a,12.5,-3e4,x\n" * 1000, limits)
    assert not long_numbers_possible(b"1" * 50, limits)


@pytest.mark.parametrize("last_litres", ["3", "1,234"])
def test_a_legacy_encoding_found_after_the_head_keeps_the_numbers(last_litres):
    rows = "".join(f"Kathmandu,plain,{i}\n" for i in range(8000))
    data = ("district,note,litres\n" + rows + f'Pokhara,café,"{last_litres}"\n').encode("cp1252")
    df = read_table(data, filename="late1252.csv", categorical=["district"], numeric=["litres"])
    assert df.height == 8001 and df["note"][-1] == "café"
    if last_litres == "3":
        assert df.schema["litres"] == pl.Float64 and df["litres"][-1] == 3.0
    else:  # not a plain number: text, for the validator's careful parse
        assert df.schema["litres"] == pl.String and df["litres"][-1] == "1,234"
