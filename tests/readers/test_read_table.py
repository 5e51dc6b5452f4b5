import polars as pl
import pytest

from indexer.readers import Limits, read_table
from schema.errors import InvalidInput


def test_csv_is_read_as_strings_with_nulls_and_stripped_names():
    df = read_table(b" sex , age ,note\nF,34,\nM,05,hi\n", filename="a.csv")
    assert df.columns == ["sex", "age", "note"]
    assert df.schema == {"sex": pl.String, "age": pl.String, "note": pl.String}
    assert df.rows() == [("F", "34", None), ("M", "05", "hi")]


@pytest.mark.parametrize("on_disk", [False, True])
def test_quoted_empty_cells_are_null_in_every_column_type(tmp_path, monkeypatch, on_disk):
    from indexer.readers import delimited

    data = b'sex,note,size,code\n"",x,"",F\n F,"",1,M\nM,,"",""\n'
    source = data
    if on_disk:
        monkeypatch.setattr(delimited, "_BY_PATH_MIN_BYTES", 1)
        source = tmp_path / "q.csv"
        source.write_bytes(data)
    df = read_table(source, filename="q.csv", categorical=["sex", "code"], numeric=["size"])
    assert isinstance(df.schema["sex"], pl.Categorical) and df.schema["size"] == pl.Float64
    assert df.with_columns(pl.col("sex", "code").cast(pl.String)).rows() == [
        (None, "x", None, "F"),
        (" F", None, 1.0, "M"),
        ("M", None, None, None),
    ]


def test_a_column_named_like_another_columns_statistic_is_read():
    # finish_frame measures every text column at once: the names it gives those
    # measures must not clash with the columns' own names.
    df = read_table(b'note,min:note,max:note\nx,"",y\n,ab,c\n', filename="n.csv")
    assert df.columns == ["note", "min:note", "max:note"]
    assert df.rows() == [("x", None, "y"), (None, "ab", "c")]


def test_empty_strings_from_json_are_null():
    df = read_table(b'[{"a": "", "b": "x"}, {"a": "y", "b": ""}]', filename="e.json")
    assert df.rows() == [(None, "x"), ("y", None)]


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


@pytest.mark.parametrize(
    ("text", "agree"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", True),
        ("a,b,c\n1,2,3\n4,5,6", True),  # no final newline
        ("a,b,c\r\n1,2,3\r\n\r\n4,5,6\r\n\n", True),  # CRLF and blank lines
        ('a,b,c\n1,"x, y",3\n"4","5 ""q"", r",6\n', True),  # quoted delimiters and quotes
        ('a,b,c\n1,"line\none, two",3\n', True),  # quoted newline
        ("a,b,c\n1,2\n", False),  # short row
        ("a,b,c\n1,2,3,4\n", False),
        ('a,b,c\n1,"open,3\n4,5,6\n', False),  # unclosed quote
    ],
)
def test_field_counts_are_checked_without_parsing(text, agree):
    from indexer.readers.delimited import field_counts_agree

    assert field_counts_agree(text.encode(), ",", 3) is agree


def test_short_and_long_rows_that_cancel_out_are_both_reported():
    # The counts agree in sum; the parser refuses the long row and the rows are then located.
    with pytest.raises(InvalidInput) as err:
        read_table(b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n", filename="even.csv")
    assert [(p.code, p.row) for p in err.value.problems] == [("ragged_row", 3), ("ragged_row", 4)]


@pytest.mark.parametrize(("spans", "positions"), [(50_000, 4_000_000), (0, 4_000_000), (0, 0)])
def test_field_count_check_spans_chunks(monkeypatch, spans, positions):
    from indexer.readers import delimited

    monkeypatch.setattr(delimited, "_CHECK_CHUNK", 7)
    monkeypatch.setattr(delimited, "_COUNT_CHUNK", 7)
    # Span counting, then the parity path after locating quotes, then parity straight away.
    monkeypatch.setattr(delimited, "_COUNT_SPANS", spans)
    monkeypatch.setattr(delimited, "_QUOTE_POSITIONS", positions)
    good = b'a,b,c\n1,"x,\ny",3\n\n4,5,6\n"7","8","9"\n'
    assert delimited.field_counts_agree(good, ",", 3)
    assert not delimited.field_counts_agree(good + b"1,2\n", ",", 3)


def test_short_row_in_a_quoted_file_is_found_by_row():
    body = "".join(f'F,"Saptari, {i}",{i}\n' for i in range(3000))
    data = f"sex,district,litres\n{body}M,Saptari\n{body}".encode()
    with pytest.raises(InvalidInput) as err:
        read_table(data, filename="q.csv")
    assert [(p.code, p.row) for p in err.value.problems] == [("ragged_row", 3002)]


def test_bad_byte_after_the_sniffed_head_is_located():
    rows = "".join("महिला,Saptari,1\n" for _ in range(5000))  # well past 64 KiB
    data = ("sex,district,litres\n" + rows).encode() + b"F,Sapt\xe1ri,2\n"
    with pytest.raises(InvalidInput) as err:
        read_table(data, filename="late.csv")
    assert err.value.code == "bad_encoding" and err.value.problems[0].row == 5002


def test_legacy_encoding_only_after_the_head_is_decoded():
    rows = "".join("Kathmandu,plain\n" for _ in range(8000))
    data = ("place,note\n" + rows + "Pokhara,café\n").encode("cp1252")
    df = read_table(data, filename="late1252.csv")
    assert df.height == 8001 and df["note"][-1] == "café"


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 64])
def test_blank_lines_across_chunk_edges_are_not_records(monkeypatch, chunk):
    from indexer.readers import delimited

    monkeypatch.setattr(delimited, "_CHECK_CHUNK", chunk)
    monkeypatch.setattr(delimited, "_COUNT_CHUNK", chunk)
    good = b"a,b\r\n\r\n1,2\n\n\n3,4\r\n\n5,6\n\n"
    assert delimited.field_counts_agree(good, ",", 2)
    assert not delimited.field_counts_agree(good + b"7\n", ",", 2)
    with pytest.raises(InvalidInput) as err:
        read_table(b"a,b\n\n1,2,3\n4\n", filename="blank.csv")
    assert [p.row for p in err.value.problems] == [3, 4]


def test_blank_line_inside_a_quoted_cell_does_not_hide_a_one_field_row():
    from indexer.readers.delimited import field_counts_agree

    data = b'a,b,c\n1,"x\n\ny",3\nlonely\n4,5,6\n'
    assert not field_counts_agree(data, ",", 3)
    with pytest.raises(InvalidInput) as err:
        read_table(data, filename="lonely.csv")
    assert [(p.code, p.row) for p in err.value.problems] == [("ragged_row", 3)]


@pytest.mark.parametrize("chunk", [1, 4, 7, 256 * 1024])
def test_quote_positions_and_parity_agree_across_count_chunks(monkeypatch, chunk):
    from indexer.readers import delimited

    monkeypatch.setattr(delimited, "_COUNT_CHUNK", chunk)
    body = "".join(f'"{i}","Saptari, {i}","x\ny"\n' for i in range(50))
    for positions in (4_000_000, 10, 0):  # quotes located, given up part way, never located
        monkeypatch.setattr(delimited, "_QUOTE_POSITIONS", positions)
        assert delimited.field_counts_agree(f"a,b,c\n{body}".encode(), ",", 3)
        assert not delimited.field_counts_agree(f'a,b,c\n{body}"1","2"\n'.encode(), ",", 3)


def test_a_file_whose_counts_disagree_but_whose_rows_are_fine_is_still_read():
    # A whitespace-only line is no record for the csv module but upsets the byte counts:
    # the parse started alongside the count is set aside and the file read after the check.
    data = b'a,b\n1,"x,y"\n   \n3,4\n'
    from indexer.readers.delimited import field_counts_agree

    assert not field_counts_agree(data, ",", 2)
    assert read_table(data, filename="ws.csv").rows() == [("1", "x,y"), ("   ", None), ("3", "4")]


TRICKY_GOOD = {
    "plain": b"a,b,c\n1,2,3\n4,5,6\n",
    "no_final_newline": b"a,b,c\n1,2,3\n4,5,6",
    "empty_last_fields": b"a,b,c\n1,2,\n,,\n4,5,",
    "crlf": b"a,b,c\r\n1,2,3\r\n4,5,\r\n",
    "bom": b"\xef\xbb\xbfa,b,c\n1,2,3\n",
    "quoted_delimiters_newlines_quotes": b'a,b,c\n1,"x, y\nz",3\n"4","5 ""q"", r",""\n',
    "blank_lines": b"a,b,c\n1,2,3\n\n4,5,6\n\n",
    "whitespace_line": b'a,b\n1,"x,y"\n   \n3,4\n',
    "tsv": b"a\tb\tc\n1\t2\t3\n",
}
TRICKY_BAD = {
    "short_row": b"a,b,c\n1,2,3\n4,5\n6,7,8\n",
    "short_last_row": b"a,b,c\n1,2,3\n4,5",
    "short_and_long_cancel": b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n",
    "short_row_beside_quoted_delimiters": b'a,b,c\n1,"x,y,z",3\n4,5\n',
    "short_row_beside_escaped_quotes": b'a,b,c\n"1""",",""",3\n4,5\n',
    "short_row_beside_blank_lines": b"a,b,c\n1,2\n\n\n\n",
    "one_field_row_beside_quoted_blank_line": b'a,b,c\n1,"x\n\ny",3\nlonely\n4,5,6\n',
    "short_crlf_row": b"a,b,c\r\n1,2,3\r\n4,5\r\n",
}


def _read_both(tmp_path, monkeypatch, name, data):
    from indexer.readers import delimited

    path = tmp_path / (name + (".tsv" if name == "tsv" else ".csv"))
    path.write_bytes(data)
    monkeypatch.setattr(delimited, "_BY_PATH_MIN_BYTES", 0)
    out = []
    for source in (path, data):
        try:
            out.append(read_table(source, filename=path.name).rows())
        except InvalidInput as exc:
            out.append([(p.code, p.row) for p in exc.problems])
    return out


@pytest.mark.parametrize("name", sorted(TRICKY_GOOD))
def test_a_good_file_reads_the_same_from_disk_and_from_bytes(tmp_path, monkeypatch, name):
    from_disk, from_bytes = _read_both(tmp_path, monkeypatch, name, TRICKY_GOOD[name])
    assert from_disk == from_bytes
    assert all(isinstance(r, tuple) for r in from_disk), from_disk


@pytest.mark.parametrize("name", sorted(TRICKY_BAD))
def test_a_short_row_is_found_by_row_from_disk_and_from_bytes(tmp_path, monkeypatch, name):
    from_disk, from_bytes = _read_both(tmp_path, monkeypatch, name, TRICKY_BAD[name])
    assert from_disk == from_bytes
    assert from_disk and all(code == "ragged_row" for code, _ in from_disk), from_disk


def test_the_delimiter_count_sees_only_delimiters_outside_quotes():
    from indexer.readers.delimited import _count_delimiters

    assert _count_delimiters(b"a,b,c\n1,2,3\n", ",") == 4
    assert _count_delimiters(b'a,b,c\n1,"x,\ny",3\n', ",") == 4
    assert _count_delimiters(b'a,b\n"1"",",2\n', ",") == 2
    assert _count_delimiters(b"a\tb\n1\t2", "\t") == 2


@pytest.mark.parametrize(
    "name", ["plain", "no_final_newline", "crlf", "bom", "quoted_delimiters_newlines_quotes", "tsv"]
)
def test_common_good_files_on_disk_take_the_mapped_path(tmp_path, monkeypatch, name):
    from indexer.readers import DEFAULT_LIMITS, delimited

    monkeypatch.setattr(delimited, "_BY_PATH_MIN_BYTES", 0)
    path = tmp_path / f"{name}.csv"
    path.write_bytes(TRICKY_GOOD[name])
    found = delimited.read_delimited_file(
        path, path.name, DEFAULT_LIMITS, delimiter="\t" if name == "tsv" else None
    )
    assert found is not None and found[0].height >= 1
