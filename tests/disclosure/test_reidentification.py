"""Re-identification: published records are k-anonymous and l-diverse, checked with pycanon."""

import pandas as pd
import polars as pl
import pytest
from pycanon import anonymity

from indexer.disclosure import DisclosureConfig, anonymise
from tests.disclosure.synthetic import large_roles, large_survey, survey


def _qi_frame(out):
    qis = out.report.quasi_identifiers
    frame = out.records.select(pl.col(q).fill_null("*") for q in qis)
    return pd.DataFrame(frame.to_dict(as_series=False)), qis


@pytest.mark.parametrize(("topics", "k"), [((), 5), (("gbv",), 10)])
def test_no_unique_combination_and_linkage_at_most_one_in_k(topics, k):
    df = large_survey(3000, seed=3)
    out = anonymise(df, large_roles(), sensitive_topics=list(topics))
    frame, qis = _qi_frame(out)
    assert out.report.k_target == k
    sizes = out.records.select(pl.len().over([pl.col(q).fill_null("*") for q in qis])).to_series()
    assert (sizes == 1).sum() == 0
    assert 1 / sizes.min() <= 1 / k
    assert anonymity.k_anonymity(frame, qis) >= k
    assert out.report.k >= k


def test_sensitive_attribute_is_l_diverse():
    df = large_survey(3000, seed=4)
    out = anonymise(df, large_roles())
    frame, qis = _qi_frame(out)
    frame["gbv_experienced"] = out.records["gbv_experienced"].to_list()
    assert anonymity.l_diversity(frame, qis, ["gbv_experienced"]) >= 2
    assert out.report.l >= 2


def test_no_row_is_dropped_and_suppression_is_counted():
    df = large_survey(2000, seed=5)
    out = anonymise(df, large_roles(), config=DisclosureConfig(k=10))
    assert out.records.height == df.height
    assert out.report.records_dropped == 0
    nulls = sum(out.records[q].null_count() for q in out.report.quasi_identifiers)
    assert nulls == sum(out.report.suppressed_cells.values())


def test_small_survey_with_rare_combinations_still_reaches_k():
    df, roles, _ = survey(150, seed=9)
    out = anonymise(df, roles, sensitive_topics=["sogi"])
    frame, qis = _qi_frame(out)
    assert anonymity.k_anonymity(frame, qis) >= 10


def test_risk_falls_and_is_reported_before_and_after():
    df = large_survey(3000, seed=6)
    out = anonymise(df, large_roles())
    before, after = out.report.risk_before, out.report.risk_after
    assert before["sample_uniques"] > 0
    assert after["sample_uniques"] == 0
    assert after["expected_reidentifications"] < before["expected_reidentifications"]
    assert after["max_individual_risk"] <= 1 / 5
