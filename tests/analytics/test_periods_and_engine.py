"""Period grids and the engine factory."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from analytics_helpers import at

from retain.analytics import period_grid, periods_from_bounds, to_periods
from retain.engine import Engine, connect, to_pandas
from retain.errors import InputError


def test_month_grid_is_contiguous_half_open_months():
    grid = period_grid(date(2024, 1, 1), date(2024, 4, 1), "month")
    assert grid == [(at(2024, 1), at(2024, 2)), (at(2024, 2), at(2024, 3)), (at(2024, 3), at(2024, 4))]


def test_grid_floors_the_start_and_covers_the_end():
    assert period_grid(date(2024, 1, 15), date(2024, 3, 2), "month") == [
        (at(2024, 1), at(2024, 2)),
        (at(2024, 2), at(2024, 3)),
        (at(2024, 3), at(2024, 4)),
    ]
    assert period_grid(date(2023, 11, 20), date(2024, 4, 1), "quarter") == [
        (at(2023, 10), at(2024, 1)),
        (at(2024, 1), at(2024, 4)),
    ]
    assert period_grid(date(2022, 6, 1), date(2024, 1, 1), "year") == [
        (at(2022, 1), at(2023, 1)),
        (at(2023, 1), at(2024, 1)),
    ]


def test_instants_are_normalised_to_utc():
    plus_two = timezone(timedelta(hours=2))
    (period,) = to_periods([(datetime(2024, 1, 1, 2, tzinfo=plus_two), datetime(2024, 1, 8))])
    assert period.start == datetime(2024, 1, 1, tzinfo=UTC) and period.start.tzinfo == UTC
    assert period.end == datetime(2024, 1, 8, tzinfo=UTC)


def test_explicit_bounds():
    assert periods_from_bounds([date(2024, 1, 1), date(2024, 1, 10), date(2024, 3, 1)]) == [
        (at(2024, 1, 1), at(2024, 1, 10)),
        (at(2024, 1, 10), at(2024, 3, 1)),
    ]


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: period_grid(date(2024, 1, 1), date(2024, 2, 1), "week"), "Valid frequencies: month, quarter, year"),
        (lambda: period_grid(date(2024, 2, 1), date(2024, 1, 1)), "must be after"),
        (lambda: periods_from_bounds([date(2024, 1, 1)]), "at least two"),
        (lambda: periods_from_bounds([date(2024, 2, 1), date(2024, 1, 1)]), "must be after"),
        (lambda: to_periods([]), "No periods"),
        (lambda: to_periods([("2024-01-01", "2024-02-01")]), "Expected a date or datetime"),
    ],
)
def test_bad_periods_are_rejected_with_a_clear_message(call, fragment):
    with pytest.raises(InputError, match=fragment):
        call()


def test_unknown_engine_lists_the_valid_ones():
    with pytest.raises(InputError, match="Valid engines: duckdb, pyspark"):
        connect("postgres")


def test_duckdb_is_the_default_engine_and_executes_expressions():
    import ibis

    backend = connect()
    assert backend.name == Engine.DUCKDB
    t = ibis.memtable({"x": [1, 2, 3]})
    assert to_pandas(backend, t.x.sum()) == 6
    assert to_pandas(backend, t.filter(t.x > 1))["x"].tolist() == [2, 3]


@pytest.mark.spark
def test_pyspark_engine_uses_utc_and_small_shuffles(spark_backend):
    conf = spark_backend._session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert int(conf.get("spark.sql.shuffle.partitions")) <= 4
    with pytest.raises(InputError, match="cannot be combined"):
        connect("pyspark", session=spark_backend._session, master="local[1]")
