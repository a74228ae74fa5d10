"""Fixtures of the analytics tests: one DuckDB and one (session-wide) PySpark backend.

Tests that take ``backend`` run on DuckDB and, marked ``spark``, on PySpark in local mode; both runs assert the
same literal expectations, so the engines are held to identical results. Without Java the PySpark runs are
skipped, except under CI (env ``CI`` set), where they fail: CI must test Spark.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retain.engine import connect


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

    DuckDB gets a memtable. Spark reads a Parquet file, as it reads the lake: ibis 12 registers memtables on
    PySpark through pandas, and with pandas 3 a missing string arrives in Spark as the text "NaN" instead of
    null, which would corrupt every nullable string column (``churn_type``, ``cancel_reason``).
    """

    def _load(table: pa.Table) -> ibis.Table:
        if backend.name == "pyspark":
            path = tmp_path_factory.mktemp("facts") / "table.parquet"
            pq.write_table(table, path)
            return backend.read_parquet(path)
        return ibis.memtable(table)

    return _load


# Deprecation chatter of ibis 12 and pyspark 4 under pandas 3, not about retain's code.
_THIRD_PARTY_WARNINGS = (
    "ignore:The 'future.infer_string' option is deprecated",
    "ignore:The copy keyword is deprecated",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            for spec in _THIRD_PARTY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
