"""Ibis backend factory: the engine that executes analytics expressions.

Analytics functions build unexecuted Ibis expressions; the caller picks an engine here and executes them.
DuckDB (in-memory) is the default; PySpark runs the very same expressions, in local mode for tests and on a
cluster in production.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from retain.errors import InputError

__all__ = ["Engine", "connect", "sibling", "spark_session", "to_arrow", "to_pandas"]


class Engine(StrEnum):
    """Engines that ``connect`` knows how to open."""

    DUCKDB = "duckdb"
    PYSPARK = "pyspark"


def _connect_duckdb(**options: Any) -> ibis.BaseBackend:
    # No database path means an in-memory database, which is what analytics on lake files need.
    return ibis.duckdb.connect(**options)


def spark_session(
    *,
    master: str = "local[2]",
    app_name: str = "retain",
    shuffle_partitions: int = 4,
    config: dict[str, str] | None = None,
):
    """Create (or get the running) SparkSession configured the way retain expects.

    Parameters
    ----------
    master
        Spark master URL; ``local[2]`` runs in-process on two cores.
    app_name
        Application name shown in Spark logs.
    shuffle_partitions
        ``spark.sql.shuffle.partitions``; small by default because local data is small (Spark's 200 would make
        every aggregation start 200 tasks).
    config
        Extra Spark settings, applied last.

    Returns
    -------
    pyspark.sql.SparkSession
        A session with UTC session time zone (timestamps mean the same instant as in DuckDB), UI and console
        progress bars disabled and logs reduced to errors.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InputError(
            "The pyspark engine needs the pyspark package, which is not installed. "
            "Install it with `pip install 'retain[spark]'` or use engine='duckdb'."
        ) from exc
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
    )
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _connect_pyspark(*, session=None, **options: Any) -> ibis.BaseBackend:
    if session is None:
        session = spark_session(**options)
    elif options:
        raise InputError(
            f"Options {sorted(options)} cannot be combined with an existing Spark session. "
            "Pass either session=... or session settings (master, shuffle_partitions, config)."
        )
    return ibis.pyspark.connect(session)


_FACTORIES: dict[Engine, Callable[..., ibis.BaseBackend]] = {
    Engine.DUCKDB: _connect_duckdb,
    Engine.PYSPARK: _connect_pyspark,
}


def connect(engine: Engine | str = Engine.DUCKDB, **options: Any) -> ibis.BaseBackend:
    """Open an Ibis backend for the given engine.

    Parameters
    ----------
    engine
        ``"duckdb"`` (default, in-memory unless ``database=`` is given) or ``"pyspark"``.
    **options
        Passed to the engine: for DuckDB the arguments of ``ibis.duckdb.connect``; for PySpark either
        ``session=`` (an existing SparkSession) or the arguments of :func:`spark_session`.

    Returns
    -------
    ibis.BaseBackend
        The connected backend; execute analytics expressions with it (or with :func:`to_pandas`).

    Raises
    ------
    InputError
        If the engine name is unknown.
    """
    try:
        key = Engine(str(engine).lower())
    except ValueError:
        valid = ", ".join(e.value for e in Engine)
        raise InputError(f"Unknown engine {engine!r}. Valid engines: {valid}.") from None
    return _FACTORIES[key](**options)


def sibling(backend: ibis.BaseBackend) -> ibis.BaseBackend:
    """A backend on the same data that another thread may use while ``backend`` runs a query.

    A DuckDB connection refuses a second call while one runs ("connection is busy"); a cursor is a new connection
    to the same database, so each thread gets its own. Spark accepts jobs from several threads on one session,
    so a PySpark backend is shared as it is.
    """
    if backend.name == "duckdb":
        return ibis.duckdb.from_connection(backend.con.cursor())
    return backend


def to_arrow(backend: ibis.BaseBackend, expr: ibis.Expr) -> pa.Table | pa.Scalar:
    """Execute ``expr`` on ``backend`` and return a pyarrow Table (a pyarrow Scalar for scalar expressions)."""
    return backend.to_pyarrow(expr)


def to_pandas(backend: ibis.BaseBackend, expr: ibis.Expr) -> pd.DataFrame | Any:
    """Execute ``expr`` on ``backend`` and return a pandas DataFrame (a Python value for scalar expressions).

    Goes through Arrow so that every engine yields the same dtypes (timestamps as microsecond UTC, counts as
    int64), which makes results of different engines directly comparable.
    """
    result = to_arrow(backend, expr)
    if isinstance(result, pa.Scalar):
        return result.as_py()
    return result.to_pandas()
