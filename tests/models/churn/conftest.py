"""Fixtures for the churn model tests: a synthetic logistic world and the public bank churn dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _ci import shared_path

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


@pytest.fixture(scope="module")
def synthetic_train() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    return logistic_world(3000, seed=1)


@pytest.fixture(scope="module")
def synthetic_test() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    return logistic_world(3000, seed=2)


@pytest.fixture(scope="module")
def bank_churn() -> tuple[pd.DataFrame, np.ndarray]:
    """The Churn_Modelling bank dataset (10,000 customers) as features and the ``exited`` label."""
    frame = pd.read_csv(shared_path("bank-churn-modelling", "Churn_Modelling.csv"))
    y = frame.pop("exited").to_numpy()
    X = frame.drop(columns=["rowNumber", "customerId", "surname"])
    return X, y


@pytest.fixture(scope="module")
def make_world():
    """The generator :func:`logistic_world` itself, for tests that need more than one draw."""
    return logistic_world
