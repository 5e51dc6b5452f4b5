"""A measure cell whose text looks like another parse error is still not_a_number at its cell.

polars quotes the cell in its number error ("could not parse `utf-8` as dtype `f64` ...");
the reader must not take that for a UTF-8 or too-many-fields error.
"""

import pytest

from indexer.readers import read_table
from indexer.validate import validate_table
from schema.errors import InvalidInput
from schema.roles import ColumnRole, ColumnSpec

SPECS = {
    "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
    "litres": ColumnSpec("litres", ColumnRole.MEASURE),
}


def _problems(source, **kw):
    with pytest.raises(InvalidInput) as err:
        validate_table(read_table(source, filename="m.csv", **kw), SPECS, filename="m.csv")
    return [(p.code, p.file, p.row, p.column) for p in err.value.problems]


@pytest.mark.parametrize("cell", ["utf-8", "UTF8 meter", "more fields", "invalid utf-8 sequence"])
@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("on_disk", [False, True])
def test_a_measure_cell_quoting_an_error_is_not_a_number_at_its_row(cell, late, on_disk, tmp_path):
    body = "".join(f"F,{i}\n" for i in range(3000)) if late else ""
    data = f"sex,litres\n{body}M,{cell}\nF,1\n".encode()
    source = data
    if on_disk:
        source = tmp_path / "m.csv"
        source.write_bytes(data)
    expected = [("not_a_number", "m.csv", 3002 if late else 2, "litres")]
    assert _problems(source) == expected
    assert _problems(source, categorical=["sex"], numeric=["litres"]) == expected
