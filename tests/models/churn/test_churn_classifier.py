"""ChurnModel on a synthetic world whose churn probabilities are known, plus its contracts.

The world is linear in its features (``logistic_world``), so the default ``capacity="auto"`` chooses the logistic
regression there; the tree machinery (boosters, TreeSHAP) is tested with ``capacity="fixed"``, and every contract
(unseen categories, dtypes, columns, empty batches) on both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.base import clone

from retain.errors import InputError, NotFittedError, SchemaMismatchError
from retain.models.churn import ChurnModel, brier, calibration_table, roc_auc

# The defaults ChurnModel had before capacity="auto": 400 rounds of 31-leaf trees, isotonic calibration.
FIXED_TREES = {"capacity": "fixed", "n_estimators": 400, "learning_rate": 0.05, "calibration": "isotonic"}


@pytest.fixture(scope="module")
def fitted(synthetic_train) -> ChurnModel:
    X, y, _ = synthetic_train
    return ChurnModel().fit(X, y)


@pytest.fixture(scope="module")
def fitted_trees(synthetic_train) -> ChurnModel:
    X, y, _ = synthetic_train
    return ChurnModel(**FIXED_TREES).fit(X, y)


@pytest.fixture(scope="module", params=["auto", "fixed"])
def either(request, fitted, fitted_trees) -> ChurnModel:
    """The default (here: linear) model and the fixed-trees model, for the contracts both must keep."""
    return fitted if request.param == "auto" else fitted_trees


def test_beats_the_trivial_baseline_and_approaches_the_oracle(fitted, synthetic_test):
    X, y, p_true = synthetic_test
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    p = proba[:, 1]
    base_rate = y.mean()
    # The trivial model predicts the base rate for everyone: ROC-AUC 0.5, Brier = base_rate * (1 - base_rate).
    assert roc_auc(y, p) >= 0.5 + 0.25
    assert brier(y, p) <= base_rate * (1 - base_rate) - 0.03
    # The oracle knows the true probabilities; 3,000 training rows should get within 0.05 AUC of it.
    assert roc_auc(y, p) >= roc_auc(y, p_true) - 0.05
    # Calibrated on fresh data: predicted and observed churn agree per quintile (300-600 customers per bin,
    # binomial standard error <= 0.03, so 0.1 is about three standard errors).
    table = calibration_table(y, p, bins=5)
    assert table["gap"].abs().max() <= 0.1


def test_learned_attributes(either, synthetic_train):
    X, _, _ = synthetic_train
    assert either.feature_names_in_.tolist() == list(X.columns)
    assert either.n_features_in_ == 5
    assert either.categorical_features_ == ["plan"]
    assert either.categories_ == {"plan": ["basic", "pro", "team"]}
    assert either.classes_.tolist() == [0, 1]
    assert len(either.estimators_) == len(either.calibrators_) == 3  # one per calibration fold


def test_fixed_trees_are_exactly_the_given_ones(fitted_trees):
    assert len(fitted_trees.boosters_) == 3  # one per calibration fold
    assert all(booster.num_trees() == 400 for booster in fitted_trees.boosters_)
    assert fitted_trees.capacity_ == {
        "kind": "trees",
        "num_leaves": 31,
        "n_estimators": 400,
        "min_child_samples": 20,
        "learning_rate": 0.05,
    }
    assert fitted_trees.capacity_scores_ is None
    with pytest.raises(AttributeError, match="boosters_"):
        _ = fitted_trees.booster_


def test_auto_compares_every_candidate_and_keeps_the_lowest_held_out_log_loss(fitted):
    scores = fitted.capacity_scores_
    assert scores["candidate"].tolist() == [
        "trees_2_leaves",
        "trees_4_leaves",
        "trees_8_leaves",
        "trees_16_leaves",
        "trees_32_leaves",
        "linear",
    ]
    assert scores["chosen"].sum() == 1
    assert scores.loc[scores["chosen"], "log_loss"].item() == scores["log_loss"].min()
    # Early stopping kept fewer rounds than the cap, and fewer for bigger trees (they fit faster).
    trees = scores[scores["kind"] == "trees"]
    assert (trees["n_estimators"] < 1000).all() and trees["n_estimators"].is_monotonic_decreasing
    # The world is linear in its features: the logistic regression wins, and the model has no booster.
    assert fitted.capacity_["kind"] == "linear" and scores["chosen"].tolist()[-1]
    assert fitted.boosters_ == []
    with pytest.raises(AttributeError, match="chose the linear model"):
        _ = fitted.booster_


def test_predict_is_probability_at_one_half(either, synthetic_test):
    X, _, _ = synthetic_test
    np.testing.assert_array_equal(either.predict(X), (either.predict_proba(X)[:, 1] >= 0.5).astype(int))


def test_unseen_category_is_scored_as_missing(either, synthetic_test):
    fitted = either
    X, _, _ = synthetic_test
    head = X.head(6).copy()
    unseen = head.copy()
    unseen["plan"] = ["enterprise", "basic", "enterprise", "pro", "team", "enterprise"]
    missing = head.copy()
    missing["plan"] = pd.array([None, "basic", None, "pro", "team", None], dtype="str")
    p_unseen = fitted.predict_proba(unseen)[:, 1]
    assert np.isfinite(p_unseen).all()
    np.testing.assert_array_equal(p_unseen, fitted.predict_proba(missing)[:, 1])
    # Unseen values do not shift the seen ones: rows 1, 3 and 4 score as in a frame without unseen plans.
    seen_only = head.copy()
    seen_only["plan"] = ["pro", "basic", "team", "pro", "team", "basic"]
    np.testing.assert_array_equal(p_unseen[[1, 3, 4]], fitted.predict_proba(seen_only)[[1, 3, 4], 1])


def test_category_dtype_and_object_dtype_score_the_same(either, synthetic_test):
    fitted = either
    X, _, _ = synthetic_test
    as_category = X.assign(plan=X["plan"].astype("category"))
    as_object = X.assign(plan=X["plan"].astype(object))
    reordered = X[list(reversed(X.columns))]
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(fitted.predict_proba(as_category), expected)
    np.testing.assert_array_equal(fitted.predict_proba(as_object), expected)
    np.testing.assert_array_equal(fitted.predict_proba(reordered), expected)


def test_shap_contributions_add_up_to_the_raw_score(fitted_trees, synthetic_test):
    fitted = fitted_trees
    X = synthetic_test[0].head(300)  # TreeSHAP on 3 x 400 deep trees costs milliseconds per row
    contrib = fitted.contributions(X)
    assert list(contrib.columns) == [*X.columns, "bias"]
    assert contrib.index.equals(X.index)
    # Independent raw score: rebuild LightGBM's input by hand and average the fold boosters' log-odds.
    lgb_input = X.assign(
        plan=pd.Categorical(X["plan"], categories=fitted.categories_["plan"]),
        has_coupon=X["has_coupon"].astype("float64"),
    )
    raw = np.mean([booster.predict(lgb_input, raw_score=True) for booster in fitted.boosters_], axis=0)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-9)
    np.testing.assert_allclose(fitted.raw_score(X), raw, atol=1e-9)
    # The features that drive churn carry more weight than the pure-noise coupon flag.
    mean_abs = contrib.drop(columns="bias").abs().mean()
    assert mean_abs["usage_drop"] > mean_abs["has_coupon"]
    assert mean_abs["tenure_years"] > mean_abs["has_coupon"]


def test_uncalibrated_model_contributions_give_its_probabilities(synthetic_train, synthetic_test):
    X, y, _ = synthetic_train
    model = ChurnModel(capacity="fixed", calibration=None, n_estimators=100).fit(X, y)
    assert model.calibrators_ == []
    Xt = synthetic_test[0].head(500)
    logit = model.contributions(Xt).sum(axis=1).to_numpy()
    np.testing.assert_allclose(model.predict_proba(Xt)[:, 1], 1 / (1 + np.exp(-logit)), rtol=1e-12)
    assert model.booster_.num_trees() == 100


def test_single_booster_mode_sigmoid(synthetic_train, synthetic_test):
    X, y, _ = synthetic_train
    model = ChurnModel(capacity="fixed", calibration="sigmoid", ensemble=False, n_estimators=100).fit(X, y)
    Xt, yt, _ = synthetic_test
    assert len(model.boosters_) == 1
    head = Xt.head(500)
    np.testing.assert_allclose(
        model.contributions(head).sum(axis=1),
        model.booster_.predict(
            head.assign(
                plan=pd.Categorical(head["plan"], categories=model.categories_["plan"]),
                has_coupon=head["has_coupon"].astype(float),
            ),
            raw_score=True,
        ),
        atol=1e-9,
    )
    # Platt scaling on log-odds is monotone: the probabilities rank customers exactly as the raw score does.
    p = model.predict_proba(Xt)[:, 1]
    order = np.argsort(model.raw_score(Xt), kind="stable")
    assert (np.diff(p[order]) >= -1e-15).all()
    assert roc_auc(yt, p) == pytest.approx(roc_auc(yt, model.raw_score(Xt)))


@pytest.mark.parametrize("capacity", ["fixed", "auto"])
def test_same_seed_same_probabilities_other_seed_other_folds(capacity, synthetic_train, synthetic_test):
    X, y, _ = synthetic_train
    Xt, _, _ = synthetic_test
    first = ChurnModel(capacity=capacity, n_estimators=100, random_state=5).fit(X, y).predict_proba(Xt)
    second = ChurnModel(capacity=capacity, n_estimators=100, random_state=5).fit(X, y).predict_proba(Xt)
    other = ChurnModel(capacity=capacity, n_estimators=100, random_state=6).fit(X, y).predict_proba(Xt)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("n", "positives", "expected"),
    [
        (150, 40, "got 150 rows with 40 positives (churned) and 110 negatives"),
        (500, 12, "got 500 rows with 12 positives (churned) and 488 negatives"),
        (300, 300, "got 300 rows with 300 positives (churned) and 0 negatives"),
    ],
)
def test_refuses_too_little_data(n, positives, expected):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = np.r_[np.ones(positives, dtype=int), np.zeros(n - positives, dtype=int)]
    with pytest.raises(InputError) as info:
        ChurnModel().fit(X, y)
    message = str(info.value)
    assert expected in message
    assert "need at least 200 rows and 20 of each class" in message


def test_not_fitted():
    X = pd.DataFrame({"x": [1.0, 2.0]})
    for call in (ChurnModel().predict_proba, ChurnModel().contributions, ChurnModel().predict):
        with pytest.raises(NotFittedError, match="not fitted"):
            call(X)


def test_columns_must_match_fit(either, synthetic_test):
    fitted = either
    X, _, _ = synthetic_test
    with pytest.raises(SchemaMismatchError) as info:
        fitted.predict_proba(X.drop(columns=["tenure_years"]).assign(region="EU"))
    assert "missing ['tenure_years']" in str(info.value)
    assert "unexpected ['region']" in str(info.value)
    assert info.value.missing == ["tenure_years"]
    assert info.value.unknown == ["region"]
    with pytest.raises(InputError, match="'usage_drop' was numeric"):
        fitted.predict_proba(X.assign(usage_drop="high"))


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((300, 2)), np.r_[np.ones(100), np.zeros(200)], "must be a feature table"),
        (pd.DataFrame({"x": np.arange(300.0)}), ["yes"] * 100 + ["no"] * 200, "0/1 or booleans"),
        (pd.DataFrame({"x": np.arange(300.0)}), np.r_[np.ones(100), np.zeros(199)], "has 299 labels"),
        (pd.DataFrame({"x": np.arange(300.0)}), np.r_[np.ones(100), np.zeros(199), np.nan], "missing labels"),
        (
            pd.DataFrame({"seen": pd.date_range("2024-01-01", periods=300)}),
            np.r_[np.ones(100), np.zeros(200)],
            "days since",
        ),
        (pd.DataFrame({"bias": np.arange(300.0)}), np.r_[np.ones(100), np.zeros(200)], "rename that column"),
    ],
)
def test_rejects_malformed_input(X, y, message):
    with pytest.raises(InputError, match=message):
        ChurnModel().fit(X, y)


def test_rejects_unknown_calibration_listing_valid_ones():
    X = pd.DataFrame({"x": np.arange(300.0)})
    with pytest.raises(InputError, match=r"valid values are \['isotonic', 'sigmoid', None\]"):
        ChurnModel(calibration="beta").fit(X, np.r_[np.ones(100), np.zeros(200)])


def test_rejects_unknown_capacity_listing_valid_ones():
    X = pd.DataFrame({"x": np.arange(300.0)})
    with pytest.raises(InputError, match=r"unknown capacity 'huge'; valid values are \['auto', 'fixed', 'linear'\]"):
        ChurnModel(capacity="huge").fit(X, np.r_[np.ones(100), np.zeros(200)])


def test_boolean_labels_and_sklearn_clone(synthetic_train):
    X, y, _ = synthetic_train
    model = ChurnModel(capacity="fixed", n_estimators=50, num_leaves=7)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    from_bool = model.fit(X, y.astype(bool)).predict_proba(X.head(50))
    from_int = twin.fit(X, y).predict_proba(X.head(50))
    np.testing.assert_array_equal(from_bool, from_int)


def test_arrow_input_and_empty_batches(synthetic_train):
    X, y, _ = synthetic_train
    from_arrow = ChurnModel(n_estimators=50).fit(pa.Table.from_pandas(X), y)
    from_pandas = ChurnModel(n_estimators=50).fit(X, y)
    np.testing.assert_array_equal(from_arrow.predict_proba(X.head(100)), from_pandas.predict_proba(X.head(100)))
    empty = X.head(0)
    assert from_pandas.predict_proba(empty).shape == (0, 2)
    assert from_pandas.raw_score(empty).shape == (0,)
    assert list(from_pandas.contributions(empty).columns) == [*X.columns, "bias"]
    assert len(from_pandas.contributions(empty)) == 0
