"""Golden values of sdcMicro's individual risk.

Source of the formula: sdcMicro ``src/Measure_Risk.h`` (``compute_risk``), the
Benedetti-Franconi approximation used by ``measure_risk``: with
p = f/F - 0.0001,
  f = 1: p/(1-p) * ln(1/p);  f = 2: p/(1-p) - (p/(1-p))^2 * ln(1/p);
  f > 2: p / (f - (1-p));  unweighted data: 1/f.
The golden values were worked out by hand from that formula (no R here):
  f=1, F=10: p=0.0999, p/(1-p)=0.110987668, ln(1/p)=2.303586543 -> 0.255669593
  f=2, F=8:  p=0.2499, p/(1-p)=0.333155579, ln(1/p)=1.386694431 -> 0.179242702
  f=3, F=3:  p=0.9999 -> 0.9999/2.9999 = 0.333311110
  f=4, F=40: p=0.0999 -> 0.0999/3.0999 = 0.032226846
"""

import numpy as np
import polars as pl
import pytest

from indexer.disclosure import individual_risk, measure_risk


def test_unweighted_risk_is_one_over_the_key_frequency():
    df = pl.DataFrame(
        {"sex": ["f", "f", "m", "m", "m", "x"], "age": ["1", "1", "2", "2", "2", "3"]}
    )
    assert individual_risk(df, ["sex", "age"]).to_list() == pytest.approx(
        [0.5, 0.5, 1 / 3, 1 / 3, 1 / 3, 1.0]
    )
    summary = measure_risk(df, ["sex", "age"])
    assert summary.expected_reidentifications == pytest.approx(3.0)
    assert summary.global_risk == pytest.approx(0.5)
    assert summary.sample_uniques == 1


def test_weighted_risk_matches_benedetti_franconi_golden_values():
    df = pl.DataFrame(
        {
            "key": ["a"] + ["b"] * 2 + ["c"] * 3 + ["d"] * 4,
            "w": [10.0] + [4.0, 4.0] + [1.0, 1.0, 1.0] + [10.0] * 4,
        }
    )
    risk = individual_risk(df, ["key"], weight="w").to_list()
    golden = [0.2556695931] + [0.1792427024] * 2 + [0.3333111104] * 3 + [0.0322268460] * 4
    assert risk == pytest.approx(golden, abs=1e-9)
    assert measure_risk(df, ["key"], weight="w").expected_reidentifications == pytest.approx(
        sum(golden), abs=1e-8
    )


def test_missing_key_value_matches_any_value_as_in_sdcmicro():
    df = pl.DataFrame({"sex": ["f", "f", None, "m"], "district": ["1", "1", "1", "1"]})
    # the record with sex missing agrees with all three others on district
    assert individual_risk(df, ["sex", "district"]).to_list() == pytest.approx(
        [0.5, 0.5, 1 / 4, 1.0]
    )


def test_frequencies_agree_with_a_brute_force_count_when_values_are_missing():
    rng = np.random.default_rng(5)
    n = 120
    values = {
        k: [None if rng.random() < 0.2 else str(rng.integers(0, 3)) for _ in range(n)]
        for k in ("a", "b", "c")
    }
    weights = rng.uniform(1, 30, n)
    df = pl.DataFrame(values, schema=dict.fromkeys(values, pl.String)).with_columns(
        pl.Series("w", weights)
    )
    keys = ["a", "b", "c"]
    rows = list(zip(*(values[k] for k in keys), strict=True))
    expected_f, expected_w = [], []
    for mine in rows:
        agree = [
            j
            for j, other in enumerate(rows)
            if all(m is None or m == o for m, o in zip(mine, other, strict=True))
            and all(o is not None for m, o in zip(mine, other, strict=True) if m is not None)
        ]
        expected_f.append(len(agree))
        expected_w.append(float(weights[agree].sum()))
    from indexer.disclosure.risk import frequencies

    freq = frequencies(df, keys, "w")
    assert freq["fk"].to_list() == expected_f
    assert freq["Fk"].to_list() == pytest.approx(expected_w)
