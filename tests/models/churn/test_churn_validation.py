"""cross_validate and temporal_backtest: the splits, and metrics equal to a hand-wired reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from retain.errors import InputError
from retain.models.churn import ChurnModel, cross_validate, summary_metrics, temporal_backtest


def test_cross_validate_matches_a_hand_wired_loop(synthetic_train):
    X, y, _ = synthetic_train
    numeric = X[["usage_drop", "tenure_years", "noise"]]
    result = cross_validate(LogisticRegression, numeric, y, folds=4, random_state=3)

    oof = np.empty(len(y))
    per_fold = []
    for train, test in StratifiedKFold(n_splits=4, shuffle=True, random_state=3).split(numeric, y):
        model = LogisticRegression().fit(numeric.iloc[train], y[train])
        oof[test] = model.predict_proba(numeric.iloc[test])[:, 1]
        per_fold.append(summary_metrics(y[test], oof[test])["roc_auc"])

    np.testing.assert_allclose(result.oof_proba, oof)
    np.testing.assert_allclose(result.folds["roc_auc"], per_fold)
    assert result.pooled == pytest.approx(summary_metrics(y, oof))
    assert result.folds["n"].sum() == len(y)
    assert result.mean("roc_auc") == pytest.approx(np.mean(per_fold))


def test_cross_validate_rejects_too_few_of_a_class():
    X = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(InputError, match="at least 5 rows of each class; got 3"):
        cross_validate(LogisticRegression, X, np.r_[np.ones(3), np.zeros(7)], folds=5)


@pytest.fixture(scope="module")
def snapshots(make_world) -> pd.DataFrame:
    """Three monthly-ish snapshots of 800 customers each, with a UTC as-of column."""
    parts = []
    for seed, as_of in [(11, "2024-01-01"), (12, "2024-02-01"), (13, "2024-06-01")]:
        X, y, _ = make_world(800, seed=seed)
        parts.append(
            X.assign(
                customer_id=[f"c{i}" for i in range(800)],
                as_of=pd.Timestamp(as_of, tz="UTC"),
                churned=y,
            )
        )
    return pd.concat(parts, ignore_index=True)


def small_model() -> ChurnModel:
    return ChurnModel(n_estimators=100)


def test_temporal_backtest_trains_on_the_past_and_scores_the_future(snapshots):
    result = temporal_backtest(
        snapshots,
        time_column="as_of",
        train_until="2024-02-01",
        test_from="2024-05-01",  # exactly 90 days (the horizon) later
        target="churned",
        model_factory=small_model,
        drop_columns=["customer_id"],
    )
    assert (result.n_train, result.n_test) == (1600, 800)
    assert result.model.feature_names_in_.tolist() == ["usage_drop", "tenure_years", "plan", "has_coupon", "noise"]
    assert result.test_proba.index.tolist() == list(range(1600, 2400))

    features = snapshots.drop(columns=["customer_id", "as_of", "churned"])
    reference = small_model().fit(features.iloc[:1600], snapshots["churned"].iloc[:1600])
    expected = reference.predict_proba(features.iloc[1600:])[:, 1]
    np.testing.assert_array_equal(result.test_proba.to_numpy(), expected)
    assert result.metrics == pytest.approx(summary_metrics(snapshots["churned"].iloc[1600:], expected))
    assert result.metrics["roc_auc"] > 0.75


def test_temporal_backtest_refuses_overlapping_label_windows(snapshots):
    with pytest.raises(InputError, match="at least 90 days"):
        temporal_backtest(
            snapshots,
            time_column="as_of",
            train_until="2024-02-01",
            test_from="2024-04-01",
            target="churned",
            model_factory=small_model,
            drop_columns=["customer_id"],
        )


def test_temporal_backtest_needs_rows_on_both_sides(snapshots):
    with pytest.raises(InputError, match="800 training and 0 test rows"):
        temporal_backtest(
            snapshots,
            time_column="as_of",
            train_until="2024-01-01",
            test_from="2024-07-01",
            target="churned",
            model_factory=small_model,
            drop_columns=["customer_id"],
        )
    with pytest.raises(InputError, match=r"no column\(s\) \['label'\]"):
        temporal_backtest(
            snapshots, time_column="as_of", train_until="2024-01-01", test_from="2024-06-01", target="label"
        )
