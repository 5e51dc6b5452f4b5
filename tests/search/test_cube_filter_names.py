"""Cube filters on the embedded backend match whatever the column is called: a header may
hold a double quote or a backslash, which a JSON path written in SQL cannot name."""

from __future__ import annotations

import pytest

from indexer.search import get_backend
from tests.conformance.conformance_data import COLUMNS, CubeCell, survey

ODD = ('caste "jat"', "ward\\no", "plain")


@pytest.fixture
def backend(tmp_path):
    b = get_backend("embedded", path=str(tmp_path / "search.sqlite3"))
    b.setup()
    cells = [
        CubeCell({name: value, "sex": sex}, n, False, {"distance_km": 1.0})
        for name in ODD
        for n, (value, sex) in enumerate(
            [("a", "female"), ("a", "male"), ("b", "female")], start=11
        )
    ]
    b.index_version("ds-1", "v1", survey(5), cells, COLUMNS)
    b.activate_version("ds-1", "v1")
    yield b
    b.close()


@pytest.mark.parametrize("name", ODD)
def test_a_filter_matches_whatever_the_dimension_is_called(backend, name):
    cells = backend.cube("ds-1", ("sex",), {name: "a"})
    assert [(c["dims"][name], c["dims"]["sex"], c["count"]) for c in cells] == [
        ("a", "female", 11),
        ("a", "male", 12),
    ]
    assert backend.cube("ds-1", ("sex",), {name: "zzz"}) == []
