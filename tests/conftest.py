"""Fixtures shared by every test area: state databases (SQLite file, PostgreSQL server) and engines."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from _ci import missing
from retain.engine import connect
from retain.state.db import normalize_url

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin_engine(url: sa.URL) -> sa.Engine:
    # AUTOCOMMIT: CREATE/DROP DATABASE cannot run inside a transaction. NullPool: nothing lingers to block DROP.
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database for this test session, dropped afterwards.

    The server comes from ``RETAIN_TEST_DATABASE_URL`` (default: postgres on 127.0.0.1:5432). Without a
    reachable server the test is skipped, except under CI (``CI`` set), where it fails: CI must test PostgreSQL.
    """
    admin_url = normalize_url(os.environ.get("RETAIN_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    shown = admin_url.render_as_string(hide_password=True)
    admin = _admin_engine(admin_url)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = (
            f"PostgreSQL not reachable at {shown}: set RETAIN_TEST_DATABASE_URL or start a server; "
            "`.ci/run` installs one"
        )
        missing(f"{message} ({exc.orig})")
    name = f"retain_test_{secrets.token_hex(6)}"
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # WITH (FORCE) (PostgreSQL 13+) ends sessions a failed test may have left open.
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = _admin_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty state database: a SQLite file in ``tmp_path``, then the PostgreSQL test database.

    Tests that take it run once per backend; the PostgreSQL database is emptied before each test.
    """
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'state.db').as_posix()}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


# --- Engines: tests that take ``backend`` run on DuckDB and, marked ``spark``, on PySpark in local mode, asserting
# the same literal expectations, so the engines are held to identical results. Without Java the PySpark runs are
# skipped, except under CI (env ``CI`` set), where they fail: CI must test Spark.


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
        missing(message + " Install Java to run them; CI runs them (`.ci/run` installs it).")
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
