"""Metric functions against examples computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retain.errors import InputError
from retain.models.churn import brier, calibration_table, pr_auc, roc_auc, summary_metrics, top_decile_lift

TINY_Y = [0, 0, 1, 1]
TINY_P = [0.1, 0.4, 0.35, 0.8]

# 20 customers, scores i/20 for i = 1..20 (ascending), 9 churners.
TWENTY_P = np.arange(1, 21) / 20
TWENTY_Y = np.array([0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1])


def test_roc_auc_tiny():
    # Churner/non-churner pairs ranked right: (.35 > .1), (.8 > .1), (.8 > .4); wrong: (.35 < .4) -> 3/4.
    assert roc_auc(TINY_Y, TINY_P) == pytest.approx(0.75)


def test_pr_auc_tiny():
    # Ranked: .8 (1) P=1 R=.5; .4 (0); .35 (1) P=2/3 R=1 -> AP = .5 * 1 + .5 * 2/3.
    assert pr_auc(TINY_Y, TINY_P) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_brier_tiny():
    # (.1^2 + .4^2 + .65^2 + .2^2) / 4
    assert brier(TINY_Y, TINY_P) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_top_decile_lift_twenty():
    # Top 10 % = 2 rows (scores 1.0 and .95), both churners: rate 1 over base rate 9/20.
    assert top_decile_lift(TWENTY_Y, TWENTY_P) == pytest.approx(20 / 9)
    # Top 20 % = 4 rows (scores .85-1.0): 3 churners -> (3/4) / (9/20).
    assert top_decile_lift(TWENTY_Y, TWENTY_P, fraction=0.2) == pytest.approx(0.75 / 0.45)


def test_top_decile_lift_ties_count_in_proportion_and_ignore_row_order():
    # 20 rows, 4 churners (base .2). Top 2: one row at .9 (churner), then 3 rows tied at .8 with 1 churner:
    # expected churners in the top 2 = 1 + 1 * (1/3) -> rate (4/3) / 2 -> lift (2/3) / .2 = 10/3.
    y = np.array([1, 1, 0, 0] + [1, 1] + [0] * 14)
    p = np.array([0.9, 0.8, 0.8, 0.8] + [0.5, 0.4] + [0.1] * 14)
    assert top_decile_lift(y, p) == pytest.approx(10 / 3)
    order = np.random.default_rng(0).permutation(20)
    assert top_decile_lift(y[order], p[order]) == pytest.approx(10 / 3)


def test_calibration_table_twenty_rows():
    table = calibration_table(TWENTY_Y, TWENTY_P, bins=10)
    assert table["bin"].tolist() == list(range(10))
    assert table["count"].tolist() == [2] * 10
    assert table["positives"].tolist() == [0, 0, 1, 0, 1, 1, 1, 2, 1, 2]
    # Bin j holds scores (2j+1)/20 and (2j+2)/20: mean (4j+3)/40.
    np.testing.assert_allclose(table["predicted_mean"], [(4 * j + 3) / 40 for j in range(10)])
    np.testing.assert_allclose(table["observed_rate"], [0, 0, 0.5, 0, 0.5, 0.5, 0.5, 1, 0.5, 1])
    np.testing.assert_allclose(table["p_min"], [(2 * j + 1) / 20 for j in range(10)])
    np.testing.assert_allclose(table["p_max"], [(2 * j + 2) / 20 for j in range(10)])
    np.testing.assert_allclose(table["gap"], table["observed_rate"] - table["predicted_mean"])


def test_calibration_table_four_bins_and_row_order():
    order = np.random.default_rng(3).permutation(20)
    table = calibration_table(TWENTY_Y[order], TWENTY_P[order], bins=4)
    assert table["count"].tolist() == [5, 5, 5, 5]
    # Bins of 5: scores .05-.25, .30-.50, .55-.75, .80-1.00.
    np.testing.assert_allclose(table["predicted_mean"], [0.15, 0.40, 0.65, 0.90])
    np.testing.assert_allclose(table["observed_rate"], [0 / 5, 2 / 5, 3 / 5, 4 / 5])


def test_calibration_table_keeps_ties_in_one_bin():
    # Ranks (first of ties): 0, 1, 1, 3 -> bins floor(r * 2 / 4) = 0, 0, 0, 1.
    table = calibration_table([0, 1, 0, 1], [0.2, 0.5, 0.5, 0.9], bins=2)
    assert table["count"].tolist() == [3, 1]
    np.testing.assert_allclose(table["predicted_mean"], [0.4, 0.9])
    np.testing.assert_allclose(table["observed_rate"], [1 / 3, 1.0])


def test_summary_metrics_collects_the_same_numbers():
    summary = summary_metrics(TWENTY_Y, TWENTY_P)
    assert summary["n"] == 20
    assert summary["positives"] == 9
    assert summary["base_rate"] == pytest.approx(0.45)
    assert summary["brier_base_rate"] == pytest.approx(0.45 * 0.55)
    assert summary["top_decile_lift"] == pytest.approx(20 / 9)
    assert summary["roc_auc"] == pytest.approx(roc_auc(TWENTY_Y, TWENTY_P))
    # Independent Brier: mean squared error written out.
    assert summary["brier"] == pytest.approx(float(np.mean((TWENTY_P - TWENTY_Y) ** 2)))


def test_roc_auc_matches_pairwise_count_on_random_data():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=300)
    p = np.round(rng.uniform(size=300), 2)  # rounding makes ties
    pos, neg = p[y == 1], p[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(y, p) == pytest.approx(wins / (pos.size * neg.size))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: roc_auc([0, 0], [0.1, 0.2]), "needs both churned"),
        (lambda: roc_auc([0, 1, 2], [0.1, 0.2, 0.3]), "0/1"),
        (lambda: brier([0, 1], [0.5, 1.5]), r"\[0, 1\]"),
        (lambda: top_decile_lift([0, 0, 0], [0.1, 0.2, 0.3]), "no 1s"),
        (lambda: roc_auc([0, 1], [0.1]), "one score per label"),
        (lambda: calibration_table([0, 1], [0.1, 0.2], bins=0), "positive integer"),
        (lambda: roc_auc(pd.Series([0, 1, None]), [0.1, 0.2, 0.3]), "missing"),
    ],
)
def test_metrics_reject_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()
