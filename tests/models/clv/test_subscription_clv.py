"""Subscription CLV: population formula, hazard conversion and per-customer survival sums, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retain.errors import InputError
from retain.models.clv.subscription import monthly_hazard, population_clv, subscription_clv

THREE_MONTHS = 3 * 365.25 / 12  # 91.3125 days


def test_population_clv_is_arpa_times_margin_over_churn():
    assert population_clv(50.0, 0.04, margin=0.8) == pytest.approx(1000.0)
    assert population_clv(30.0, 0.1) == pytest.approx(300.0)


def test_monthly_hazard_from_a_horizon_probability():
    # 1 - 0.9^3 = 0.271 over three months <=> 10 % a month; over exactly one month p is the hazard.
    np.testing.assert_allclose(monthly_hazard([0.271, 0.0, 1.0], THREE_MONTHS), [0.1, 0.0, 1.0])
    np.testing.assert_allclose(monthly_hazard([0.3], 365.25 / 12), [0.3])
    # Half a month: 1 - (1 - 0.19)^2 = 0.3439
    np.testing.assert_allclose(monthly_hazard([0.19], 365.25 / 24), [0.3439])


def test_per_customer_sum_by_hand():
    mrr = pd.Series([100.0, 100.0, 0.0, 80.0], index=["a", "b", "c", "d"])
    p = [0.271, 0.271, 0.5, 1.0]
    no_discount = subscription_clv(
        mrr, p, horizon_days=THREE_MONTHS, margin=0.5, discount_rate_monthly=0.0, horizon_months=3
    )
    # a: 50 * (1 + 0.9 + 0.81) = 135.5 ; c: no subscription -> 0 ; d: certain churn -> only the month now: 80 * 0.5
    assert no_discount.index.tolist() == ["a", "b", "c", "d"] and no_discount.name == "clv"
    np.testing.assert_allclose(no_discount.to_numpy(), [135.5, 135.5, 0.0, 40.0])

    discounted = subscription_clv(
        mrr.iloc[:1], [0.271], horizon_days=THREE_MONTHS, margin=0.5, discount_rate_monthly=0.01, horizon_months=3
    )
    expected = 50.0 * (1.0 + 0.9 / 1.01 + 0.81 / 1.01**2)  # = 134.2564...
    assert discounted.iloc[0] == pytest.approx(expected)
    assert expected == pytest.approx(134.25645, abs=1e-5)


def test_no_churn_no_discount_counts_every_month_of_the_cap():
    clv = subscription_clv([20.0], [0.0], discount_rate_monthly=0.0, horizon_months=24)
    np.testing.assert_allclose(clv, [480.0])


def test_uncapped_undiscounted_value_is_the_population_formula_for_one_customer():
    clv = subscription_clv(
        [60.0], [0.271], horizon_days=THREE_MONTHS, margin=0.75, discount_rate_monthly=0.0, horizon_months=5000
    )
    assert clv[0] == pytest.approx(population_clv(60.0, 0.1, margin=0.75))  # 450


def test_higher_risk_never_raises_the_value():
    p = np.linspace(0, 1, 21)
    clv = subscription_clv(np.full(21, 50.0), p)
    assert np.all(np.diff(clv) <= 1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(mrr=[-1.0], p_churn=[0.1]), "mrr must be >= 0"),
        (dict(mrr=[1.0], p_churn=[1.5]), r"p_churn must be probabilities in \[0, 1\]"),
        (dict(mrr=[1.0, 2.0], p_churn=[0.1]), "one value per customer"),
        (dict(mrr=[1.0], p_churn=[0.1], margin=1.5), "margin must be between 0 and 1"),
        (dict(mrr=[1.0], p_churn=[0.1], horizon_months=0), "horizon_months must be a positive integer"),
        (dict(mrr=[1.0], p_churn=[0.1], discount_rate_monthly=-0.1), "discount_rate_monthly must be >= 0"),
        (dict(mrr=[1.0], p_churn=[0.1], horizon_days=0), "horizon_days must be > 0"),
        (dict(mrr=[np.nan], p_churn=[0.1]), "mrr has 1 missing"),
    ],
)
def test_bad_inputs_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        subscription_clv(**kwargs)


def test_population_clv_refuses_zero_churn():
    with pytest.raises(InputError, match=r"monthly_churn_rate must be in \(0, 1\]"):
        population_clv(50.0, 0.0)
