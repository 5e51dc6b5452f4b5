import polars as pl
import pytest

from indexer.readers import Limits, read_table
from schema.errors import InvalidInput


def test_csv_is_read_as_strings_with_nulls_and_stripped_names():
    df = read_table(b" sex , age ,note\nF,34,\nM,05,hi\n", filename="a.csv")
    assert df.columns == ["sex", "age", "note"]
    assert df.schema == {"sex": pl.String, "age": pl.String, "note": pl.String}
    assert df.rows() == [("F", "34", None), ("M", "05", "hi")]


@pytest.mark.parametrize(
    ("data", "sep"), [(b"a;b\n1;2\n", ";"), (b"a\tb\n1\t2\n", "\t"), (b"a|b\n1|2\n", "|")]
)
def test_delimiter_is_sniffed(data, sep):
    assert read_table(data, filename="x.csv").rows() == [("1", "2")]


def test_bom_and_quoted_newlines():
    df = read_table('\ufeffname,comment\nA,"line one\nline two"\n'.encode(), filename="b.csv")
    assert df.columns == ["name", "comment"]
    assert df["comment"][0] == "line one\nline two"


def test_legacy_encoding_is_detected():
    df = read_table("place,note\nKathmandu,café crème brûlée\n".encode("cp1252"), filename="c.csv")
    assert df["note"][0] == "café crème brûlée"


def test_utf16_with_bom_is_read():
    df = read_table("a,b\nमहिला,2\n".encode("utf-16"), filename="u.csv")
    assert df.rows() == [("महिला", "2")]


def test_json_array_of_objects_flattens_nested_groups():
    df = read_table(
        b'[{"a": 1, "grp": {"sex": "F"}}, {"a": 2.5, "extra": true}]', filename="d.json"
    )
    assert df.columns == ["a", "grp/sex", "extra"]
    assert df.rows() == [("1", "F", None), ("2.5", None, "true")]


def test_kobo_group_paths_and_select_multiple_are_flattened():
    data = b"start,_uuid,hh/sex,hh/water,hh/water/well,hh/water/tap\n2024-01-01,u1,F,well tap,1,1\n"
    df = read_table(data, filename="kobo.csv")
    assert df.columns == ["start", "_uuid", "sex", "water", "water_well", "water_tap"]


def test_ragged_rows_name_their_rows():
    with pytest.raises(InvalidInput) as err:
        read_table(b"a,b\n1,2\n3\n4,5,6\n", filename="r.csv")
    assert [(p.file, p.row, p.code) for p in err.value.problems] == [
        ("r.csv", 3, "ragged_row"),
        ("r.csv", 4, "ragged_row"),
    ]


def test_row_limit_is_a_clear_error():
    with pytest.raises(InvalidInput) as err:
        read_table(b"a\n1\n2\n3\n", filename="l.csv", limits=Limits(max_rows=2))
    assert err.value.code == "too_many_rows"


def test_read_from_path(tmp_path):
    p = tmp_path / "file.tsv"
    p.write_bytes(b"x\ty\n1\t2\n")
    assert read_table(p).rows() == [("1", "2")]
