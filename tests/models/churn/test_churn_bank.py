"""Acceptance on a public dataset: the bank churn data (10,000 customers, 2,037 churners)."""

from __future__ import annotations

import numpy as np
import pytest

from retain.models.churn import ChurnModel, CVResult, calibration_table, cross_validate

pytestmark = pytest.mark.slow  # 5 folds x 3 calibration boosters x 400 trees: about 10-20 s on 2 busy cores


@pytest.fixture(scope="module")
def bank_cv(bank_churn) -> CVResult:
    X, y = bank_churn
    return cross_validate(ChurnModel, X, y, folds=5, random_state=0)


def test_dataset_is_the_published_one(bank_churn):
    X, y = bank_churn
    assert X.shape == (10_000, 12)
    assert int(y.sum()) == 2037


def test_cross_validated_roc_auc(bank_cv):
    print("\nper-fold ROC-AUC:", bank_cv.folds["roc_auc"].round(4).tolist())
    print(
        f"pooled ROC-AUC {bank_cv.pooled['roc_auc']:.4f}, mean {bank_cv.mean('roc_auc'):.4f}, {bank_cv.seconds:.1f} s"
    )
    assert bank_cv.pooled["roc_auc"] >= 0.85
    assert bank_cv.mean("roc_auc") >= 0.85
    assert bank_cv.folds["roc_auc"].min() >= 0.83
    # Every customer scored exactly once, by a model that did not see it; folds stratified (407 or 408 churners).
    assert np.isfinite(bank_cv.oof_proba).all()
    assert sorted(np.bincount(bank_cv.fold_of).tolist()) == [2000] * 5
    assert set(bank_cv.folds["positives"]) <= {407.0, 408.0}


def test_calibrated_on_held_out_customers(bank_cv):
    table = bank_cv.calibration_table(bins=10)
    print("\n" + table.round(4).to_string())
    # About 1,000 customers per decile: the observed rate's binomial standard error is at most
    # sqrt(.5 * .5 / 1000) = 0.016, so a 0.05 gap is about three standard errors even in the worst decile.
    assert table["count"].sum() == 10_000
    assert table["gap"].abs().max() <= 0.05
    assert bank_cv.pooled["brier"] < bank_cv.pooled["brier_base_rate"]
    assert bank_cv.pooled["brier_base_rate"] == pytest.approx(0.2037 * 0.7963)
    # The check discriminates: the same ranking with distorted probabilities (square roots) fails it.
    distorted = calibration_table(bank_cv.y, np.sqrt(bank_cv.oof_proba), bins=10)
    assert distorted["gap"].abs().max() > 0.05
