"""LogisticChurnModel against an independent reference: scikit-learn's LogisticRegression on a design matrix
built by hand with pandas, and its contributions written out from the coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from worlds import logistic_world

from retain.errors import InputError, NotFittedError
from retain.models.churn.linear import C_GRID, LogisticChurnModel

NUMERIC = ["usage_drop", "tenure_years", "has_coupon", "noise"]
PLANS = ["basic", "pro", "team"]


@pytest.fixture(scope="module")
def world():
    X, y, _ = logistic_world(1500, seed=7)
    return X, y, logistic_world(300, seed=8)[0]


def _by_hand(X_fit: pd.DataFrame, X: pd.DataFrame) -> np.ndarray:
    """Standardised numerics (population standard deviation, as StandardScaler) and plan one-hot, in that order."""
    numeric = X_fit[NUMERIC].astype(float)
    z = (X[NUMERIC].astype(float) - numeric.mean()) / numeric.std(ddof=0)
    dummies = pd.get_dummies(pd.Categorical(X["plan"], categories=PLANS)).astype(float)
    return np.hstack([z.to_numpy(), dummies.to_numpy()])


def test_same_fit_as_a_logistic_regression_on_a_hand_built_design(world):
    X, y, X_new = world
    model = LogisticChurnModel(C=0.5).fit(X, y)
    reference = LogisticRegression(C=0.5, max_iter=1000).fit(_by_hand(X, X), y)
    np.testing.assert_allclose(model.estimator_.coef_, reference.coef_, atol=1e-5)
    np.testing.assert_allclose(
        model.predict_proba(X_new)[:, 1], reference.predict_proba(_by_hand(X, X_new))[:, 1], atol=1e-6
    )
    assert model.C_ == 0.5 and model.search_scores_ is None


def test_contributions_are_the_coefficients_times_the_distance_from_the_average_customer(world):
    X, y, X_new = world
    model = LogisticChurnModel(C=0.5).fit(X, y)
    coef, intercept = model.estimator_.coef_[0], model.estimator_.intercept_[0]
    Z = _by_hand(X, X_new)
    share = pd.Series(X["plan"]).value_counts(normalize=True).reindex(PLANS).to_numpy()
    contrib = model.contributions(X_new)
    assert list(contrib.columns) == [*X.columns, "bias"]
    for j, name in enumerate(NUMERIC):  # standardised: the average customer is at 0
        np.testing.assert_allclose(contrib[name], coef[j] * Z[:, j], atol=1e-9)
    np.testing.assert_allclose(contrib["plan"], (Z[:, 4:] - share) @ coef[4:], atol=1e-9)
    np.testing.assert_allclose(contrib["bias"], intercept + share @ coef[4:], atol=1e-9)
    np.testing.assert_allclose(contrib.sum(axis=1), model.decision_function(X_new), atol=1e-9)


def test_missing_values_get_a_flag_that_counts_for_their_feature(world):
    X, y, X_new = world
    gappy = X.assign(usage_drop=X["usage_drop"].mask(np.arange(len(X)) % 5 == 0))
    model = LogisticChurnModel(C=1.0).fit(gappy, y)
    assert model.design_.transform(model._layout.transform(gappy)).shape[1] == 4 + 1 + 3  # one missing flag
    new = X_new.assign(usage_drop=X_new["usage_drop"].mask(np.arange(len(X_new)) % 3 == 0))
    contrib = model.contributions(new)
    np.testing.assert_allclose(contrib.sum(axis=1), model.decision_function(new), atol=1e-9)
    # Two customers alike but for a missing usage_drop differ in that feature's contribution only.
    pair = new.iloc[[0, 0]].copy()
    pair.iloc[1, pair.columns.get_loc("usage_drop")] = 0.3
    two = model.contributions(pair)
    assert (two.drop(columns="usage_drop").diff().iloc[1].abs() < 1e-12).all()


def test_penalty_search_keeps_the_lowest_held_out_log_loss(world):
    X, y, _ = world
    model = LogisticChurnModel().fit(X, y)
    assert set(model.search_scores_) == set(C_GRID)
    assert min(model.search_scores_, key=model.search_scores_.get) == model.C_
    # The strongest penalty shrinks everything towards the base rate: clearly worse on this learnable world.
    assert model.search_scores_[0.001] > model.search_scores_[model.C_] + 0.02


def test_unseen_plan_scores_like_no_plan(world):
    X, y, X_new = world
    model = LogisticChurnModel(C=1.0).fit(X, y)
    head = X_new.head(4).copy()
    head["plan"] = ["enterprise", "basic", "enterprise", "pro"]
    contrib = model.contributions(head)
    coef = model.estimator_.coef_[0]
    share = pd.Series(X["plan"]).value_counts(normalize=True).reindex(PLANS).to_numpy()
    np.testing.assert_allclose(contrib["plan"].iloc[[0, 2]], -share @ coef[4:], atol=1e-9)  # all-zero one-hot


@pytest.mark.parametrize(
    ("params", "y", "message"),
    [
        ({"C": 0}, None, "C must be a positive number or 'auto'"),
        ({"C": "big"}, None, "C must be a positive number or 'auto'"),
        ({}, np.zeros(1500, dtype=int), "one class"),
    ],
)
def test_refusals(world, params, y, message):
    X, labels, _ = world
    with pytest.raises(InputError, match=message):
        LogisticChurnModel(**params).fit(X, labels if y is None else y)
    with pytest.raises(NotFittedError, match="not fitted"):
        LogisticChurnModel().predict_proba(X)
