"""The contract the pipeline integrates against."""

import json

import polars as pl
import pytest

from indexer.disclosure import (
    AnonymisedTable,
    DisclosureConfig,
    ProtectedCube,
    anonymise,
    build_cube,
)
from schema.errors import InvalidInput
from schema.roles import ColumnRole
from tests.disclosure.synthetic import survey


def test_anonymise_returns_records_columns_and_a_json_report():
    df, roles, _ = survey(200)
    out = anonymise(df, roles)
    assert isinstance(out, AnonymisedTable)
    assert set(out.records.columns) == set(out.columns)
    assert out.records.height == df.height
    json.dumps(out.report.to_dict())
    assert out.report.k >= 5


def test_identifier_columns_are_dropped_whatever_their_declared_role():
    df, roles, _ = survey(200)
    out = anonymise(df, roles)
    for name in (
        "respondent_name",
        "phone",
        "email",
        "citizenship_no",
        "_gps",
        "contact_info",
        "start",
        "_uuid",
    ):
        assert name not in out.records.columns
    reasons = {d.column: d.reason for d in out.report.dropped}
    assert reasons["phone"] == "declared_identifier"
    assert reasons["contact_info"] == "detected_identifier"
    assert reasons["citizenship_no"] == "detected_identifier"


def test_sensitive_topic_raises_k_to_ten():
    df, roles, _ = survey(300)
    assert anonymise(df, roles, sensitive_topics=["gbv"]).report.k_target == 10
    assert anonymise(df, roles).report.k_target == 5
    assert anonymise(df, roles, config=DisclosureConfig(k=7)).report.k_target == 7


def test_unknown_column_in_roles_is_an_input_error():
    df, roles, _ = survey(20)
    roles = dict(roles, nope=roles["age"].__class__("nope", ColumnRole.OTHER))
    with pytest.raises(InvalidInput):
        anonymise(df, roles)


def test_cube_has_every_combination_of_up_to_three_dimensions():
    df, roles, _ = survey(300)
    out = anonymise(df, roles, config=DisclosureConfig(k=5))
    cube = build_cube(out.records, out.columns, key_seed="seed")
    assert isinstance(cube, ProtectedCube)
    combos = {tuple(sorted(c.dims)) for c in cube.cells}
    from itertools import combinations

    expected = {tuple(sorted(c)) for r in range(4) for c in combinations(cube.dimensions, r)}
    assert combos == expected
    total = cube.cell()
    assert total is not None and not total.suppressed
    rows = cube.to_rows()
    json.dumps(rows)
    assert all((r["count"] is None) == r["suppressed"] for r in rows)


def test_cube_threshold_below_five_is_refused():
    records = pl.DataFrame({"sex": ["female"] * 20})
    from schema.roles import ColumnSpec

    with pytest.raises(InvalidInput):
        build_cube(
            records,
            {"sex": ColumnSpec("sex", ColumnRole.DIMENSION, "sex")},
            threshold=4,
            key_seed="s",
        )
