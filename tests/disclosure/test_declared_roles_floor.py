"""A declared role cannot publish what the standard protects: phone numbers typed as a
measure, a ward or record codes declared "other", a sensitive quasi-identifier, and
personal data in a column name (all data synthetic)."""

from __future__ import annotations

import random

import polars as pl
import pytest

from indexer.disclosure import anonymise
from schema.errors import InvalidInput
from schema.roles import ColumnRole, ColumnSpec


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _frame(n: int = 400, seed: int = 3) -> pl.DataFrame:
    rng = random.Random(seed)
    return pl.DataFrame(
        {
            "sex": [rng.choice(["female", "male"]) for _ in range(n)],
            "age": [str(rng.randint(18, 90)) for _ in range(n)],
            "ward_no": [str(rng.randint(1, 30)) for _ in range(n)],
            "ref": [_uuid(rng) for _ in range(n)],
            "mobile_ref": [float(9_800_000_000 + rng.randint(0, 99_999_999)) for _ in range(n)],
            "litres": [float(rng.randint(5, 80)) for _ in range(n)],
        }
    )


def _roles(**overrides: ColumnSpec) -> dict[str, ColumnSpec]:
    roles = {
        "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
        "age": ColumnSpec("age", ColumnRole.QUASI_IDENTIFIER, "age"),
        "ward_no": ColumnSpec("ward_no", ColumnRole.OTHER),
        "ref": ColumnSpec("ref", ColumnRole.OTHER),
        "mobile_ref": ColumnSpec("mobile_ref", ColumnRole.MEASURE),
        "litres": ColumnSpec("litres", ColumnRole.MEASURE),
    }
    roles.update(overrides)
    return roles


def test_phone_numbers_typed_as_a_measure_are_dropped():
    out = anonymise(_frame(), _roles())
    assert "mobile_ref" not in out.records.columns and "litres" in out.records.columns
    drop = next(d for d in out.report.dropped if d.column == "mobile_ref")
    assert (drop.reason, drop.kind, drop.evidence) == ("detected_identifier", "phone", "values")


def test_other_columns_keep_the_protection_of_their_suggested_role():
    out = anonymise(_frame(), _roles())
    # a ward is a fact neighbours know: k-anonymous with the declared quasi-identifiers
    assert "ward_no" in out.report.quasi_identifiers
    assert out.report.promoted["ward_no"] == "quasi_identifier"
    keys = [c for c in ("sex", "age", "ward_no") if c in out.records.columns]
    classes = out.records.group_by(keys).len().filter(pl.all_horizontal(pl.col(keys).is_not_null()))
    assert classes.get_column("len").min() >= 5
    # codes unique to each record link it to the raw data: dropped
    assert "ref" not in out.records.columns
    assert out.report.promoted["ref"] == "direct_identifier"


def test_a_sensitive_quasi_identifier_is_still_generalised():
    roles = _roles(age=ColumnSpec("age", ColumnRole.QUASI_IDENTIFIER, "age", sensitive=True))
    out = anonymise(_frame(), roles)
    assert "age" in out.report.quasi_identifiers and "age" not in out.report.sensitive_columns
    published = set(out.records.get_column("age").drop_nulls().to_list())
    raw = set(_frame().get_column("age").to_list())
    assert not published & raw  # bands, not exact ages


@pytest.mark.parametrize(
    "header",
    ["Sita Tamang 9841112222 yes", "contact sita@example.org", "id 27-01-72-05432"],
)
def test_a_column_name_holding_personal_data_is_an_error_naming_it(header):
    df = _frame(50).rename({"litres": header})
    roles = _roles()
    roles.pop("litres")
    roles[header] = ColumnSpec(header, ColumnRole.MEASURE)
    with pytest.raises(InvalidInput) as err:
        anonymise(df, roles)
    (problem,) = err.value.problems
    assert problem.code == "identifier_in_column_name" and problem.column == header


def test_ordinary_column_names_pass():
    df = _frame(50).rename({"litres": "q12_2024_litres_per_day"})
    roles = _roles()
    roles.pop("litres")
    roles["q12_2024_litres_per_day"] = ColumnSpec("q12_2024_litres_per_day", ColumnRole.MEASURE)
    assert "q12_2024_litres_per_day" in anonymise(df, roles).records.columns
