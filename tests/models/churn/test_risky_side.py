"""Risky sides: which values of a feature make a true statement that raises risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.models.churn import ChurnModel
from retain.models.churn.risky_side import (
    NEVER,
    above,
    above_typical,
    at_least,
    at_most,
    below,
    below_typical,
    is_false,
    is_true,
    missing,
    on,
    typical_values,
)

NO_TYPICAL: dict[str, float] = {}


def _risky(side, values, typical=NO_TYPICAL, **other) -> list[bool]:
    X = pd.DataFrame({"x": values, **other})
    return side.of(X, "x", typical).tolist()


def test_thresholds_and_missing_values_are_safe():
    assert _risky(at_least(1), [0, 1, 3, None]) == [False, True, True, False]
    assert _risky(at_most(6), [6, 7, 0, np.nan]) == [True, False, True, False]
    assert _risky(below(1), [0.38, 1.0, 1.25, None]) == [True, False, False, False]
    assert _risky(above(0), [-40.0, 0.0, 10.0]) == [False, False, True]
    assert _risky(NEVER, [0, 1]) == [False, False]


def test_typical_values_compare_with_the_population():
    typical = {"x": 14.0}
    assert _risky(below_typical(), [3, 14, 20, None], typical) == [True, False, False, False]
    assert _risky(above_typical(), [3, 14, 20, None], typical) == [False, False, True, False]
    # "never logged in" is a risk when declared so; without a typical value only that can be said.
    assert _risky(above_typical(missing=True), [3, None], typical) == [False, True]
    assert _risky(above_typical(missing=True), [3, None]) == [False, True]
    assert _risky(below_typical(), [3, None]) == [False, False]


def test_flags_and_combinations():
    assert _risky(is_true(), [True, False, None]) == [True, False, False]
    assert _risky(is_false(), [True, False]) == [False, True]
    # A trend that fell, or no previous activity and none now.
    declined = below(1) | (missing() & on("n", at_most(0)))
    assert _risky(declined, [0.5, 1.5, None, None], n=[9, 9, 0, 4]) == [True, False, True, False]
    # An absent column is False, or what ``absent`` says (a check that cannot be made).
    assert _risky(on("tenure_days", at_least(60)), [1.0]) == [False]
    assert _risky(on("tenure_days", at_least(60), absent=True), [1.0]) == [True]
    assert "or" in declined.rule and "n ≤ 0" in declined.rule


def test_typical_values_are_medians_of_numeric_columns():
    X = pd.DataFrame(
        {
            "logins": [1, 2, 30, None],
            "flag": [True, False, True, True],
            "plan": ["a", "b", "c", "d"],
            "empty": [np.nan] * 4,
        }
    )
    assert typical_values(X) == {"logins": 2.0}


def test_a_fitted_churn_model_keeps_the_typical_customer_of_its_training_rows(synthetic_train):
    X, y, _ = synthetic_train
    model = ChurnModel(n_estimators=20, calibration=None).fit(X, y)
    assert model.feature_medians_ == typical_values(X)
    assert set(model.feature_medians_) == {"usage_drop", "tenure_years", "noise"}  # not the plan, not the flag
