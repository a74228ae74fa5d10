"""Fixtures for the churn model tests: a synthetic logistic world and the public bank churn dataset."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retain.engine import connect

# Known data-generating process: logit P(churn) = INTERCEPT + 1.5 * usage_drop - 1.0 * tenure_years + PLAN_EFFECT.
INTERCEPT = -1.0
COEF_USAGE_DROP = 1.5
COEF_TENURE = -1.0
PLAN_EFFECT = {"basic": 0.8, "pro": 0.0, "team": -0.8}

BANK_CSV = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "bank-churn-modelling" / "Churn_Modelling.csv"
)


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
    if not BANK_CSV.exists():
        pytest.skip(f"bank churn dataset not found at {BANK_CSV} (needs the shared data folder next to the repo)")
    frame = pd.read_csv(BANK_CSV)
    y = frame.pop("exited").to_numpy()
    X = frame.drop(columns=["rowNumber", "customerId", "surname"])
    return X, y


@pytest.fixture(scope="module")
def make_world():
    """The generator :func:`logistic_world` itself, for tests that need more than one draw."""
    return logistic_world


# --- engines for the point-in-time feature and label tests (the pattern of tests/analytics/conftest.py) ---
def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


@pytest.fixture(scope="session")
def duckdb_backend() -> ibis.BaseBackend:
    return connect("duckdb")


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[ibis.BaseBackend]:
    """One local SparkSession for the whole test session (starting Spark costs seconds)."""
    if not _java_available():
        message = "PySpark tests need Java (a JDK 17+ on PATH or JAVA_HOME); none was found."
        if _in_ci():
            pytest.fail(message + " CI must run the Spark tests: install Java.")
        pytest.skip(message + " Install Java to run them; CI runs them.")
    backend = connect("pyspark", shuffle_partitions=1)
    yield backend
    backend.disconnect()


@pytest.fixture(params=["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)])
def backend(request: pytest.FixtureRequest) -> ibis.BaseBackend:
    """The engine under test: DuckDB, then PySpark (marked ``spark``)."""
    return request.getfixturevalue(f"{request.param.replace('pyspark', 'spark')}_backend")


@pytest.fixture
def load(backend: ibis.BaseBackend, tmp_path_factory: pytest.TempPathFactory) -> Callable[[pa.Table], ibis.Table]:
    """Turn a pyarrow table of facts into an Ibis table the backend under test reads.

    DuckDB gets a memtable; Spark reads a Parquet file, as it reads the lake (memtables reach Spark through
    pandas, which turns missing strings into the text "NaN").
    """

    def _load(table: pa.Table) -> ibis.Table:
        if backend.name == "pyspark":
            path = tmp_path_factory.mktemp("facts") / "table.parquet"
            pq.write_table(table, path)
            return backend.read_parquet(path)
        return ibis.memtable(table)

    return _load
