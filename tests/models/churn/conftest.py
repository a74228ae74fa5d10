"""Fixtures for the churn model tests: the logistic world of ``worlds.py`` and the public bank churn dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from worlds import logistic_world

from _ci import shared_path


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
