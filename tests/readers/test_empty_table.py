"""A file with a header and no rows describes no one: it is refused, never published empty."""

from __future__ import annotations

import pytest

from indexer.readers import read_table
from indexer.validate import validate_table
from schema.errors import InvalidInput
from schema.roles import ColumnRole, ColumnSpec


def test_a_header_without_rows_is_refused_with_a_located_problem(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_bytes(b"sex,age,district\n")
    df = read_table(path, filename="survey.csv")
    specs = {
        "sex": ColumnSpec("sex", ColumnRole.DIMENSION, "sex"),
        "age": ColumnSpec("age", ColumnRole.QUASI_IDENTIFIER),
        "district": ColumnSpec("district", ColumnRole.DIMENSION, "district"),
    }
    with pytest.raises(InvalidInput) as caught:
        validate_table(df, specs, filename="survey.csv")
    problems = [p for p in caught.value.problems if p.code == "no_rows"]
    assert problems and problems[0].file == "survey.csv" and problems[0].row == 2
