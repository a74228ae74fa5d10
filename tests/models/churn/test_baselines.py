"""The baselines: which column the recency baseline ranks by, that it ranks exactly by it, that the baselines are
evaluated on the model's own rows and folds, and what the comparison says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from retain.errors import InputError
from retain.models.churn.baselines import (
    BaselineScore,
    RecencyBaseline,
    backtest_baselines,
    compare,
    cross_validate_baselines,
    is_recency_column,
)
from retain.models.churn.evaluate import temporal_backtest


def _table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Churn rises with days since the last login, faster with complaints; orders say little; plan is text."""
    rng = np.random.default_rng(seed)
    login = rng.exponential(20.0, size=n)
    order = rng.exponential(40.0, size=n)
    complaints = rng.poisson(1.0, size=n)
    logit = -2.0 + 0.04 * login + 1.5 * complaints
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    login[::10] = np.nan  # never logged in
    X = pd.DataFrame(
        {
            "days_since_last_login": login,
            "days_since_last_order": order,
            "complaints": complaints,
            "plan": rng.choice(["basic", "pro"], size=n),
        }
    )
    return X, y


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("days_since_last_order", True),
        ("daysSinceLastLogin", True),
        ("Recency", True),
        ("recency_days", True),
        ("days_since_signup", False),
        ("tenure", False),
        ("last_order_amount", False),
    ],
)
def test_recency_columns_are_recognised_by_name(name, expected):
    assert is_recency_column(name) is expected


def test_recency_ranks_by_the_best_recency_column_not_by_other_features():
    X, y = _table(4000, seed=1)
    baseline = RecencyBaseline().fit(X, y)
    # complaints rank better, but the recency baseline only looks at recency columns
    assert baseline.kind_ == "recency" and baseline.feature_ == "days_since_last_login"
    assert baseline.direction_ == 1
    assert baseline.fill_value_ == np.nanmax(X["days_since_last_login"]) + 1.0  # never logged in = longest ago
    assert baseline.description == "days_since_last_login, highest first"
    X_new, y_new = _table(2000, seed=2)
    column = X_new["days_since_last_login"].fillna(baseline.fill_value_)
    p = baseline.predict_proba(X_new)[:, 1]
    assert roc_auc_score(y_new, p) == pytest.approx(roc_auc_score(y_new, column), abs=1e-12)  # exactly its order
    assert (np.diff(p[np.argsort(column.to_numpy(), kind="stable")]) >= -1e-15).all()
    assert baseline.training_auc_ == pytest.approx(
        roc_auc_score(y, X["days_since_last_login"].fillna(baseline.fill_value_))
    )


def test_without_a_recency_column_the_best_single_numeric_feature_ranks():
    X, y = _table(4000, seed=3)
    X = X.drop(columns=["days_since_last_login", "days_since_last_order"]).assign(
        loyalty=-X["complaints"] + np.random.default_rng(4).normal(size=len(X)) * 0.1  # the best, reversed
    )
    X["complaints"] = X["complaints"] + np.random.default_rng(5).normal(size=len(X)) * 3.0  # blurred
    baseline = RecencyBaseline().fit(X, y)
    assert baseline.kind_ == "best_single_feature" and baseline.feature_ == "loyalty"
    assert baseline.direction_ == -1
    assert baseline.fill_value_ == pytest.approx(X["loyalty"].median())
    assert baseline.description == "best single feature: loyalty, lowest first (the table has no recency column)"
    assert roc_auc_score(y, baseline.predict_proba(X)[:, 1]) == pytest.approx(roc_auc_score(y, -X["loyalty"]))


def test_a_table_of_text_only_has_no_single_feature_baseline():
    X = pd.DataFrame({"plan": ["a", "b"] * 50})
    with pytest.raises(InputError, match="no numeric column"):
        RecencyBaseline().fit(X, np.r_[np.ones(50), np.zeros(50)].astype(int))


def test_cross_validated_on_the_models_folds():
    X, y = _table(1500, seed=6)
    scores = cross_validate_baselines(X, y, folds=4, random_state=3)
    recency = scores["recency"]
    # Same folds as cross_validate: StratifiedKFold(4, shuffle, seed 3) of the labels. On each held-out fold the
    # baseline ranks exactly like the column chosen on that fold's training rows (here always the login recency).
    splitter = StratifiedKFold(n_splits=4, shuffle=True, random_state=3)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        assert (recency.result.fold_of[test] == fold).all()
        filled = X["days_since_last_login"].fillna(np.nanmax(X["days_since_last_login"].iloc[train]) + 1.0)
        row = recency.result.folds.iloc[fold]
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y[test], filled.iloc[test]), abs=1e-12)
    assert recency.score.description == "days_since_last_login, highest first"
    logistic = scores["logistic_regression"]
    assert (logistic.result.fold_of == recency.result.fold_of).all()
    assert logistic.score.description.startswith("standardised numerics and one-hot text, L2 penalty C=")
    assert logistic.score.metrics == logistic.result.pooled


def test_backtested_on_the_models_rows():
    parts = []
    for month, seed in zip(pd.date_range("2024-01-01", periods=6, freq="MS"), range(10, 16), strict=True):
        X, y = _table(400, seed=seed)
        parts.append(X.assign(churned=y, as_of=month, customer_id=[f"c{i}" for i in range(400)]))
    frame = pd.concat(parts, ignore_index=True)
    split = {
        "time_column": "as_of",
        "train_until": "2024-03-01",
        "test_from": "2024-06-01",
        "target": "churned",
        "group_column": "customer_id",
    }
    baselines = backtest_baselines(frame, horizon_days=90, **split)
    model = temporal_backtest(frame, horizon_days=90, model_factory=RecencyBaseline, **split)
    test = frame[frame["as_of"] >= "2024-06-01"]
    assert model.n_test == len(test) == 400
    for score in baselines.values():
        assert score.metrics["n"] == 400 and score.metrics["positives"] == test["churned"].sum()
    assert baselines["recency"].metrics["roc_auc"] == pytest.approx(model.metrics["roc_auc"])


def test_comparison_says_which_baseline_the_model_does_not_beat():
    model = {"roc_auc": 0.70, "n": 43653.0}
    recency = BaselineScore("recency", "days_since_last_event, highest first", {"roc_auc": 0.58})
    logistic = BaselineScore("logistic_regression", "C=0.01", {"roc_auc": 0.71})
    verdict = compare(model, {"recency": recency, "logistic_regression": logistic})
    assert verdict.not_beaten == ["logistic_regression"] and not verdict.beats_all
    assert verdict.margin("recency") == pytest.approx(0.12)
    assert verdict.sentences() == [
        "The model does not beat the logistic regression baseline: ROC-AUC 0.7000 vs 0.7100 on the same 43,653 "
        "rows; prefer the simpler ranking, or look for features and data the model is missing.",
        "It beats recency 0.5800 (+0.1200).",
    ]
    beaten = compare(model, {"recency": recency})
    assert beaten.beats_all
    assert beaten.sentences() == [
        "The model beats its baselines on the same 43,653 rows: ROC-AUC 0.7000 vs recency 0.5800 (+0.1200)."
    ]
    tie = compare(model, {"recency": BaselineScore("recency", "x", {"roc_auc": 0.70})})
    assert tie.not_beaten == ["recency"]  # a tie is not a win
    missing = compare(model, {"recency": BaselineScore("recency", "", {}, note="no numeric column")})
    assert missing.beats_all
    assert missing.sentences() == ["The recency baseline could not be evaluated: no numeric column"]
