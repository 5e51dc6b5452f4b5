"""A stray quote that swallows the rows after the header is an error, not an empty table.

polars (2.1) with ``has_header=True`` and ``n_rows`` returns no rows and no
error for such a file; without ``n_rows`` it refuses it.
"""

import pytest

from indexer.readers import read_table
from schema.errors import InvalidInput

HEADER = b"sex,litres,note\n"
CASES = {
    "quote_in_first_of_two_rows": HEADER + b'M,2",y\nF,1,x\n',
    "quote_in_only_row": HEADER + b'M,2",y\n',
    "quote_at_end_of_only_row": HEADER + b'F,0,x"\n',
    "lone_quote_line": HEADER + b'"\nF,0,x\n',
    "quote_in_header": b'sex,lit"res,note\nF,1,x\nM,2,y\n',
}


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("source", ["bytes", "path"])
def test_a_stray_quote_that_hides_every_row_is_an_error(data, source, tmp_path):
    if source == "path":
        path = tmp_path / "h.csv"
        path.write_bytes(data)
        data = path
    with pytest.raises(InvalidInput) as err:
        read_table(data, filename="h.csv")
    assert all(p.file == "h.csv" for p in err.value.problems)


def test_a_file_with_a_header_only_still_reads_as_no_rows():
    for data in (HEADER, HEADER.rstrip()):
        assert read_table(data, filename="h.csv").height == 0
