"""Synthetic worlds whose true churn probabilities are known, for the churn model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COEF_TENURE", "COEF_USAGE_DROP", "INTERCEPT", "PLAN_EFFECT", "interaction_world", "logistic_world"]

# Known data-generating process: logit P(churn) = INTERCEPT + 1.5 * usage_drop - 1.0 * tenure_years + PLAN_EFFECT.
INTERCEPT = -1.0
COEF_USAGE_DROP = 1.5
COEF_TENURE = -1.0
PLAN_EFFECT = {"basic": 0.8, "pro": 0.0, "team": -0.8}


def logistic_world(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Feature table, sampled labels and the true churn probabilities of ``n`` synthetic customers."""
    rng = np.random.default_rng(seed)
    usage_drop = rng.normal(size=n)
    tenure_years = rng.exponential(1.5, size=n)
    plan = rng.choice(list(PLAN_EFFECT), size=n, p=[0.5, 0.3, 0.2])
    logit = INTERCEPT + COEF_USAGE_DROP * usage_drop + COEF_TENURE * tenure_years + pd.Series(plan).map(PLAN_EFFECT)
    p_true = 1.0 / (1.0 + np.exp(-logit.to_numpy()))
    y = (rng.uniform(size=n) < p_true).astype("int64")
    X = pd.DataFrame(
        {
            "usage_drop": usage_drop,
            "tenure_years": tenure_years,
            "plan": pd.array(plan, dtype="str"),
            "has_coupon": rng.uniform(size=n) < 0.3,  # noise: unrelated to churn
            "noise": rng.normal(size=n),
        }
    )
    return X, y, p_true


def interaction_world(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A world where churn needs an interaction: logit = -1 + 2 * usage_drop * support_load + 0.8 * price_rise.

    A model additive in the features cannot represent the product term; trees of 3 splits or more can.
    """
    rng = np.random.default_rng(seed)
    usage_drop, support_load, price_rise = rng.normal(size=(3, n))
    logit = -1.0 + 2.0 * usage_drop * support_load + 0.8 * price_rise
    p_true = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.uniform(size=n) < p_true).astype("int64")
    region = rng.choice(["north", "south"], size=n)  # noise: unrelated to churn
    X = pd.DataFrame(
        {"usage_drop": usage_drop, "support_load": support_load, "price_rise": price_rise, "region": region}
    )
    return X, y, p_true
