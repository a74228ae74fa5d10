"""Subscription CLV: what a subscriber is worth, from revenue per account and the chance of staying.

Two views (DESIGN section 4):

- **Population**: ``CLV = ARPA × margin / c`` with ``c`` the monthly churn rate — the undiscounted value of an
  average account whose lifetime is geometric with mean ``1 / c`` months.
- **Per customer**: the expected remaining value of a subscriber from their own MRR and their own predicted
  churn probability::

      CLV = Σ_{k=0..M−1} MRR × margin × S(k) / (1 + d)^k,   S(k) = (1 − h)^k

  Subscriptions are billed in advance: month ``k`` (``k = 0`` is the month starting now) is paid at its start
  if the customer has survived ``k`` months, and discounted by ``k`` months. ``h`` is the customer's monthly
  hazard, converted from the model's probability of churning within ``horizon_days`` by assuming a constant
  hazard over the horizon: ``1 − p = (1 − h)^(horizon_days / 30.4375)``, so
  ``h = 1 − (1 − p)^(30.4375 / horizon_days)``. ``M`` caps the horizon (default 60 months); with ``d = 0``
  and no cap the sum is ``MRR × margin / h`` — the population formula for one customer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from retain.errors import InputError
from retain.models.clv._validation import as_float_array
from retain.models.clv.clv import DAYS_PER_MONTH

__all__ = ["monthly_hazard", "population_clv", "subscription_clv"]


def population_clv(arpa: float, monthly_churn_rate: float, *, margin: float = 1.0) -> float:
    """Average subscription CLV: ``ARPA × margin / monthly churn rate``.

    Parameters
    ----------
    arpa : float
        Average revenue per account per month (MRR / paying accounts), >= 0.
    monthly_churn_rate : float
        Share of accounts lost per month, in (0, 1] (e.g. 0.04 for 4 %).
    margin : float, default 1.0
        Share of revenue kept as gross profit, in [0, 1].

    Returns
    -------
    float
    """
    arpa = float(as_float_array("arpa", arpa))
    rate = float(as_float_array("monthly_churn_rate", monthly_churn_rate))
    if arpa < 0:
        raise InputError(f"arpa must be >= 0; got {arpa}.")
    if not 0 < rate <= 1:
        raise InputError(
            f"monthly_churn_rate must be in (0, 1] (e.g. 0.04 for 4 % a month); got {rate}. "
            "With no churn at all the lifetime value is unbounded: use subscription_clv with a capped horizon."
        )
    _check_margin(margin)
    return arpa * margin / rate


def monthly_hazard(p_churn: Any, horizon_days: float) -> np.ndarray:
    """Monthly churn probability from the probability of churning within ``horizon_days`` (constant hazard).

    ``h = 1 − (1 − p)^(30.4375 / horizon_days)``; a month is 365.25 / 12 days.

    Parameters
    ----------
    p_churn : array-like of float
        P(churn within ``horizon_days``), each in [0, 1].
    horizon_days : float
        Horizon of ``p_churn`` in days (> 0), e.g. ``ChurnModel.horizon_days``.

    Returns
    -------
    numpy.ndarray
        Monthly hazards in [0, 1], same shape as ``p_churn``.
    """
    p = as_float_array("p_churn", p_churn)
    if np.any((p < 0) | (p > 1)):
        raise InputError(f"p_churn must be probabilities in [0, 1]; got values from {p.min()} to {p.max()}.")
    horizon = float(as_float_array("horizon_days", horizon_days))
    if not horizon > 0:
        raise InputError(f"horizon_days must be > 0; got {horizon}.")
    return 1.0 - np.power(1.0 - p, DAYS_PER_MONTH / horizon)


def subscription_clv(
    mrr: Any,
    p_churn: Any,
    *,
    horizon_days: float = 90,
    margin: float = 1.0,
    discount_rate_monthly: float = 0.01,
    horizon_months: int = 60,
) -> np.ndarray | pd.Series:
    """Expected remaining lifetime value of each subscriber (see the module docstring for the formula).

    Parameters
    ----------
    mrr : array-like or pandas.Series of float
        Monthly recurring revenue now (>= 0; 0 for customers without a running subscription, who get 0).
    p_churn : array-like of float
        Each customer's P(churn within ``horizon_days``), e.g. ``ChurnModel.predict_proba(X)[:, 1]``.
    horizon_days : float, default 90
        Horizon of ``p_churn``.
    margin : float, default 1.0
        Share of revenue kept as gross profit, in [0, 1].
    discount_rate_monthly : float, default 0.01
        Monthly discount rate d (>= 0).
    horizon_months : int, default 60
        Months counted (the cap M), >= 1.

    Returns
    -------
    numpy.ndarray or pandas.Series
        One value per customer; a Series named ``clv`` with ``mrr``'s index when ``mrr`` is a Series.
    """
    values = as_float_array("mrr", mrr)
    if np.any(values < 0):
        raise InputError(f"mrr must be >= 0; got a minimum of {values.min()}.")
    hazard = monthly_hazard(p_churn, horizon_days)
    if hazard.shape != values.shape:
        raise InputError(
            f"mrr and p_churn must have one value per customer; got shapes {values.shape} and {hazard.shape}."
        )
    _check_margin(margin)
    d = float(as_float_array("discount_rate_monthly", discount_rate_monthly))
    if d < 0:
        raise InputError(f"discount_rate_monthly must be >= 0 (e.g. 0.01 for 1 % a month); got {d}.")
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int | np.integer) or horizon_months < 1:
        raise InputError(f"horizon_months must be a positive integer; got {horizon_months!r}.")

    # Σ_{k<M} q^k with q = (1 − h) / (1 + d): a geometric sum, M terms when q = 1 (no churn, no discounting).
    q = (1.0 - hazard) / (1.0 + d)
    near_one = np.isclose(q, 1.0, rtol=0.0, atol=1e-12)
    months = np.where(near_one, float(horizon_months), (1.0 - q**horizon_months) / np.where(near_one, 0.5, 1.0 - q))
    clv = values * margin * months
    if isinstance(mrr, pd.Series):
        return pd.Series(clv, index=mrr.index, name="clv")
    return clv


def _check_margin(margin: float) -> None:
    if not 0 <= margin <= 1:
        raise InputError(f"margin must be between 0 and 1 (share of revenue kept as profit); got {margin}.")
