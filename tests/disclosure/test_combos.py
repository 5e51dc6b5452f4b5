"""The distinct combinations k-anonymity works on, and the factorising behind them."""

import importlib

import numpy as np
import polars as pl
import pytest

from indexer.disclosure import DisclosureConfig, anonymise
from indexer.disclosure.anonymise import factorise_many
from indexer.disclosure.kanon import Combos, QIColumn, combos_of, enforce, published
from tests.disclosure.synthetic import large_roles, large_survey

# the package exports the function under the module's name
anonymise_module = importlib.import_module("indexer.disclosure.anonymise")


def _codes(rng, n, radix):
    return [rng.integers(0, r, n).astype(np.uint32) for r in radix]


def _as_set(combos: Combos) -> dict[tuple, int]:
    rows = zip(*(c.tolist() for c in combos.codes), strict=True)
    return dict(zip(rows, combos.weight.tolist(), strict=True))


@pytest.mark.parametrize(
    "radix",
    [
        [3, 4, 5],  # key space counted densely
        [5000, 4000, 3000],  # 6e10 keys: np.unique
        [2**21, 2**21, 2**21],  # the key would overflow: column by column
    ],
)
def test_combinations_hold_every_record_once_and_map_back(radix):
    rng = np.random.default_rng(1)
    codes = _codes(rng, 5000, radix)
    combos = Combos.of(codes, radix)
    assert int(combos.weight.sum()) == 5000
    table = list(zip(*(c.tolist() for c in codes), strict=True))
    expected: dict[tuple, int] = {}
    for row in table:
        expected[row] = expected.get(row, 0) + 1
    assert _as_set(combos) == expected
    # every record maps back to its own combination
    rows, at = combos.rows_of(np.ones(len(combos.weight), dtype=bool))
    assert rows.tolist() == list(range(5000))
    for i, column in enumerate(codes):
        assert (combos.codes[i][at] == column).all()
    # and a marked subset to exactly its records, ascending
    marked = np.zeros(len(combos.weight), dtype=bool)
    marked[::7] = True
    rows, at = combos.rows_of(marked)
    assert (np.diff(rows) > 0).all()
    assert marked[at].all()
    assert len(rows) == int(combos.weight[marked].sum())


def test_factorise_codes_every_value_and_missing_is_its_own_code():
    df = pl.DataFrame(
        {
            "a": ["x", None, "y", "x", "z", None],
            "b": [3, 1, 3, None, 2, 1],
            "c": [None] * 6,
        },
        schema={"a": pl.String, "b": pl.Int64, "c": pl.String},
    )
    uniques, codes, combos = factorise_many(df, ["a", "b", "c"])
    for name in ("a", "b", "c"):
        values = df.get_column(name).cast(pl.String).to_list()
        decoded = [
            uniques[name][code] if code < len(uniques[name]) else None for code in codes[name]
        ]
        assert decoded == values
        assert sorted(uniques[name]) == sorted({v for v in values if v is not None})
    assert int(combos.weight.sum()) == 6
    assert combos.missing == [len(uniques["a"]), len(uniques["b"]), 0]


@pytest.mark.parametrize(
    ("rows", "seed", "topics"), [(3000, 5, ["gbv"]), (1000, 2, ["gbv"]), (10000, 5, [])]
)
def test_published_records_do_not_depend_on_how_values_were_numbered(
    monkeypatch, rows, seed, topics
):
    # first-appearance numbering (Categorical) and sorted numbering (Enum); the
    # last two need records moved whole into the fully withheld class
    df = large_survey(rows, seed=seed)
    first = anonymise(df, large_roles(), sensitive_topics=topics)
    monkeypatch.setattr(anonymise_module, "_categorise", lambda *args: None)
    second = anonymise(df, large_roles(), sensitive_topics=topics)
    assert first.records.equals(second.records)
    assert first.report.suppressed_cells == second.report.suppressed_cells
    assert first.report.generalisations == second.report.generalisations


def test_combinations_from_per_record_codes_give_the_same_result_as_factorising():
    df = large_survey(2000, seed=12)
    qis = ["age", "sex", "caste_ethnicity", "district", "disability"]
    roles = large_roles()
    config = DisclosureConfig()

    def columns():
        uniques, codes, combos = factorise_many(df, [*qis, "gbv_experienced"])
        out = []
        for i, name in enumerate(qis):
            counts = combos.counts(i, len(uniques[name]) + 1)[: len(uniques[name])]
            ladder = anonymise_module._sorted_ladder(
                name, roles[name].dimension, uniques[name], counts, config
            )
            out.append(QIColumn(name, ladder, codes[name]))
        sensitive = codes["gbv_experienced"].astype(np.int64)
        sensitive[sensitive == len(uniques["gbv_experienced"])] = -1
        return out, [sensitive], combos

    given, _, combos = columns()
    with_combos = enforce(given, combos, k=10, l=2, max_suppression_share=0.05)
    own, sensitive, _ = columns()
    by_itself = enforce(own, combos_of(own, sensitive), k=10, l=2, max_suppression_share=0.05)
    assert with_combos == by_itself
    assert with_combos.k >= 10 and with_combos.l >= 2
    for a, b in zip(given, own, strict=True):
        assert a.level == b.level
        assert a.withheld.tolist() == b.withheld.tolist()
    assert published(given).equals(published(own))
