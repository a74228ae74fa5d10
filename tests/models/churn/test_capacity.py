"""capacity="auto" on worlds whose truth is known: linear where churn is linear, trees where it needs an
interaction; calibration that keeps the ranking; inner folds that keep a customer's rows together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from worlds import interaction_world, logistic_world

from retain.models.churn import ChurnModel, roc_auc
from retain.models.churn._folds import inner_folds, sample_rows
from retain.models.churn.linear import LogisticChurnModel

# Fresh test draws of 20,000 customers: the standard error of a difference of two ROC-AUCs of correlated models
# on them is well under 0.005 (Hanley & McNeil), so 0.005 is "noise" and 0.05 is not.
TEST_ROWS = 20_000


def test_where_churn_is_linear_the_model_is_as_good_as_the_logistic_regression():
    X, y, _ = logistic_world(3000, seed=11)
    X_test, y_test, p_true = logistic_world(TEST_ROWS, seed=12)
    model = ChurnModel().fit(X, y)
    logistic = LogisticChurnModel().fit(X, y)
    auc_model = roc_auc(y_test, model.predict_proba(X_test)[:, 1])
    auc_logistic = roc_auc(y_test, logistic.predict_proba(X_test)[:, 1])
    print(f"\nmodel {auc_model:.4f} ({model.capacity_['kind']}), logistic {auc_logistic:.4f}")
    assert auc_model >= auc_logistic - 0.005
    assert auc_model >= roc_auc(y_test, p_true) - 0.01  # and near the truth


def test_where_churn_needs_an_interaction_the_model_beats_the_logistic_regression():
    X, y, _ = interaction_world(3000, seed=21)
    X_test, y_test, p_true = interaction_world(TEST_ROWS, seed=22)
    model = ChurnModel().fit(X, y)
    logistic = LogisticChurnModel().fit(X, y)
    auc_model = roc_auc(y_test, model.predict_proba(X_test)[:, 1])
    auc_logistic = roc_auc(y_test, logistic.predict_proba(X_test)[:, 1])
    truth = roc_auc(y_test, p_true)
    print(f"\nmodel {auc_model:.4f} ({model.capacity_}), logistic {auc_logistic:.4f}, truth {truth:.4f}")
    assert model.capacity_["kind"] == "trees" and model.capacity_["num_leaves"] >= 4  # a product needs depth 2
    assert auc_model >= auc_logistic + 0.05
    assert auc_model >= truth - 0.05


@pytest.mark.parametrize("capacity", ["auto", "fixed", "linear"])
def test_calibration_keeps_the_ranking_of_the_raw_scores(capacity):
    X, y, _ = interaction_world(3000, seed=31)
    X_test, y_test, _ = interaction_world(5000, seed=32)
    model = ChurnModel(capacity=capacity, n_estimators=200).fit(X, y)
    p, raw = model.predict_proba(X_test)[:, 1], model.raw_score(X_test)
    # Sigmoid calibration is strictly increasing per fold model, and the fold models are pooled in log-odds: the
    # calibrated ensemble ranks like the average raw score up to near-ties.
    assert roc_auc(y_test, p) == pytest.approx(roc_auc(y_test, raw), abs=1e-4)
    assert len(np.unique(p)) == len(np.unique(raw))  # no ties made


def test_isotonic_calibration_ties_scores_that_the_raw_score_tells_apart():
    X, y, _ = interaction_world(3000, seed=31)
    X_test, _, _ = interaction_world(5000, seed=32)
    model = ChurnModel(capacity="fixed", n_estimators=200, calibration="isotonic", ensemble=False).fit(X, y)
    # One isotonic map: flat steps give whole ranges of raw scores one probability (why sigmoid is the default).
    assert len(np.unique(model.predict_proba(X_test)[:, 1])) < len(np.unique(model.raw_score(X_test))) / 10


def test_linear_choice_gives_exact_contributions():
    X, y, _ = logistic_world(2000, seed=41)
    model = ChurnModel(capacity="linear").fit(X, y)
    head = logistic_world(200, seed=42)[0]
    contrib = model.contributions(head)
    np.testing.assert_allclose(contrib.sum(axis=1), model.raw_score(head), atol=1e-10)
    # The average of three fold models' exact contributions: feature by feature, the mean of each model's own.
    for column in ("usage_drop", "plan"):
        expected = np.mean([e.contributions(head)[column] for e in model.estimators_], axis=0)
        np.testing.assert_allclose(contrib[column], expected, atol=1e-12)


def test_a_large_table_is_compared_on_a_subset_of_whole_customers_then_fitted_on_all_rows():
    X, y, _ = interaction_world(4000, seed=51)
    customers = np.repeat(np.arange(1000), 4)  # four rows per customer
    model = ChurnModel(selection_rows=2000).fit(X, y, groups=customers)
    scores = model.capacity_scores_
    chosen = scores[scores["chosen"]].iloc[0]
    # The winner's rounds are the ones early stopping kept on the subset; the fold models use exactly those.
    assert model.capacity_["num_leaves"] == chosen["num_leaves"]
    assert all(b.num_trees() == chosen["n_estimators"] for b in model.boosters_)
    assert len(model.boosters_) == 3


def test_inner_folds_keep_each_customers_rows_together():
    rng = np.random.default_rng(0)
    customers = rng.integers(0, 300, size=2000).astype(str)
    y = (rng.uniform(size=2000) < 0.2).astype(int)
    folds = inner_folds(y, customers, n_folds=3, random_state=0)
    held_out = np.concatenate([test for _, test in folds])
    assert sorted(held_out.tolist()) == list(range(2000))  # every row held out exactly once
    for train, test in folds:
        assert not set(customers[train]) & set(customers[test])
    # Without customers the folds are stratified: churners split 3 ways within one.
    counts = [int(y[test].sum()) for _, test in inner_folds(y, None, n_folds=3, random_state=0)]
    assert max(counts) - min(counts) <= 1


def test_sample_rows_takes_whole_customers():
    customers = pd.Series(np.repeat([f"c{i}" for i in range(100)], 5))
    rows = sample_rows(500, 101, groups=customers, random_state=3)
    assert len(rows) == 100  # 20 whole customers of 5 rows fit in 101
    kept = customers.iloc[rows]
    assert kept.value_counts().eq(5).all()
    assert sample_rows(500, 500).tolist() == list(range(500))
