"""Acceptance on a public dataset: the bank churn data (10,000 customers, 2,037 churners), the model beside its
baselines on the same five folds."""

from __future__ import annotations

import numpy as np
import pytest

from _ci import shared_path
from retain.models.churn import calibration_table
from retain.services.evaluation import CrossValidation, cross_validate_table

# 5 folds x (5 tree sizes + the logistic regression) x 3 inner folds, then the baselines: about 30-60 s on 2 busy
# cores.
pytestmark = pytest.mark.slow

TUNED_LIGHTGBM_AUC = 0.866
"""Pooled 5-fold ROC-AUC of a LightGBM tuned by hand on these folds (the figure the defaults once lost to)."""


@pytest.fixture(scope="module")
def bank_cv() -> CrossValidation:
    return cross_validate_table(
        shared_path("bank-churn-modelling", "Churn_Modelling.csv"),
        target="exited",
        drop=["rowNumber", "customerId", "surname"],
        folds=5,
        seed=0,
    )


def test_dataset_is_the_published_one(bank_churn):
    X, y = bank_churn
    assert X.shape == (10_000, 12)
    assert int(y.sum()) == 2037


def test_cross_validated_roc_auc(bank_cv):
    cv = bank_cv.model
    print("\nper-fold ROC-AUC:", cv.folds["roc_auc"].round(4).tolist())
    print(f"pooled ROC-AUC {cv.pooled['roc_auc']:.4f}, mean {cv.mean('roc_auc'):.4f}, {cv.seconds:.1f} s")
    assert bank_cv.rows == 10_000 and bank_cv.features == 12
    assert cv.pooled["roc_auc"] >= TUNED_LIGHTGBM_AUC
    assert cv.mean("roc_auc") >= 0.86
    assert cv.folds["roc_auc"].min() >= 0.85
    # Every customer scored exactly once, by a model that did not see it; folds stratified (407 or 408 churners).
    assert np.isfinite(cv.oof_proba).all()
    assert sorted(np.bincount(cv.fold_of).tolist()) == [2000] * 5
    assert set(cv.folds["positives"]) <= {407.0, 408.0}


def test_the_model_beats_both_baselines_on_the_same_folds(bank_cv):
    cv = bank_cv.model
    for name, baseline in bank_cv.baselines.items():
        print(f"\n{name}: {baseline.score.description}: pooled ROC-AUC {baseline.score.metrics['roc_auc']:.4f}")
        assert (baseline.result.fold_of == cv.fold_of).all()  # the same customers in the same folds
    recency = bank_cv.baselines["recency"].score
    # No recency column in a bank snapshot: the best single feature chosen on each training fold, which is age.
    assert recency.description == "best single feature: age, highest first (the table has no recency column)"
    assert bank_cv.comparison.beats_all
    assert bank_cv.comparison.margin("logistic_regression") > 0.05  # the trees find what a linear model cannot
    assert bank_cv.comparison.margin("recency") > 0.1
    assert bank_cv.comparison.sentences()[0].startswith("The model beats its baselines on the same 10,000 rows")


def test_calibrated_on_held_out_customers(bank_cv):
    cv = bank_cv.model
    table = cv.calibration_table(bins=10)
    print("\n" + table.round(4).to_string())
    # About 1,000 customers per decile: the observed rate's binomial standard error is at most
    # sqrt(.5 * .5 / 1000) = 0.016, so a 0.05 gap is about three standard errors even in the worst decile.
    assert table["count"].sum() == 10_000
    assert table["gap"].abs().max() <= 0.05
    assert cv.pooled["brier"] < cv.pooled["brier_base_rate"]
    assert cv.pooled["brier_base_rate"] == pytest.approx(0.2037 * 0.7963)
    # The check discriminates: the same ranking with distorted probabilities (square roots) fails it.
    distorted = calibration_table(cv.y, np.sqrt(cv.oof_proba), bins=10)
    assert distorted["gap"].abs().max() > 0.05
