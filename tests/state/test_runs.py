"""Ingest run life cycle on SQLite and PostgreSQL, with a fixed clock and literal expected values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from retain.clock import FixedClock
from retain.errors import InputError
from retain.state import (
    IngestRun,
    RunStatus,
    find_committed,
    finish_run,
    get_run,
    ingest_runs,
    list_runs,
    mark_interrupted,
    start_run,
)

T0 = datetime(2024, 3, 1, 9, 0, 0, tzinfo=UTC)
T1 = datetime(2024, 3, 1, 9, 0, 42, 123456, tzinfo=UTC)
T2 = datetime(2024, 3, 2, 8, 30, 0, tzinfo=UTC)


def _start(connection, table="orders", source="orders.csv", fingerprint="sha256:aa", at=T0):
    return start_run(connection, table=table, source=source, fingerprint=fingerprint, clock=FixedClock(at))


def test_start_then_finish_committed(db):
    run_id = _start(db)
    started = get_run(db, run_id)
    assert started == IngestRun(
        id=run_id,
        table_name="orders",
        source="orders.csv",
        fingerprint="sha256:aa",
        status=RunStatus.RUNNING,
        rows_read=0,
        rows_accepted=0,
        rows_rejected=0,
        batch_path=None,
        rejects_path=None,
        error=None,
        started_at=T0,
        finished_at=None,
    )

    finished = finish_run(
        db,
        run_id,
        status="committed",
        rows_read=1000,
        rows_accepted=997,
        rows_rejected=3,
        batch_path="data/orders/batch-1.parquet",
        rejects_path="data/_rejects/orders/batch-1.csv",
        clock=FixedClock(T1),
    )
    expected = IngestRun(
        id=run_id,
        table_name="orders",
        source="orders.csv",
        fingerprint="sha256:aa",
        status=RunStatus.COMMITTED,
        rows_read=1000,
        rows_accepted=997,
        rows_rejected=3,
        batch_path="data/orders/batch-1.parquet",
        rejects_path="data/_rejects/orders/batch-1.csv",
        error=None,
        started_at=T0,
        finished_at=T1,
    )
    assert finished == expected
    assert get_run(db, run_id) == expected
    assert list_runs(db) == [expected]


def test_finish_failed_keeps_the_error(db):
    run_id = _start(db)
    run = finish_run(
        db,
        run_id,
        status=RunStatus.FAILED,
        rows_read=10,
        rows_accepted=0,
        rows_rejected=0,
        batch_path=None,
        rejects_path=None,
        error="missing column ordered_at",
        clock=FixedClock(T1),
    )
    assert (run.status, run.error, run.rows_read, run.finished_at) == (
        RunStatus.FAILED,
        "missing column ordered_at",
        10,
        T1,
    )


def test_timestamps_come_back_timezone_aware_utc(db):
    # 11:00 at UTC+02:00 is 09:00 UTC: stored and returned as UTC on both backends.
    paris_summer = timezone(timedelta(hours=2))
    run_id = _start(db, at=datetime(2024, 7, 1, 11, 0, tzinfo=paris_summer))
    run = get_run(db, run_id)
    assert run.started_at == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
    assert run.started_at.tzinfo is UTC
    assert run.started_at.hour == 9


def test_naive_timestamps_are_refused(state_engine):
    engine = state_engine
    # A naive datetime has no known zone: storing it as if it were UTC could shift it silently.
    row = dict(id="r", table_name="orders", source="s", fingerprint="f", status="running")
    with pytest.raises(sa.exc.StatementError, match="has no time zone"), engine.begin() as connection:
        connection.execute(ingest_runs.insert().values(**row, started_at=datetime(2024, 1, 1, 12, 0)))


def test_mark_interrupted_commits_runs_whose_batch_exists_and_fails_the_others(db):
    landed = _start(db, table="orders", fingerprint="f1", at=T0)
    lost = _start(db, table="customers", source="customers.csv", fingerprint="f2", at=T1)
    done = _start(db, table="events", source="events.jsonl", fingerprint="f3", at=T0)
    finish_run(
        db,
        done,
        status="skipped",
        rows_read=5,
        rows_accepted=0,
        rows_rejected=0,
        batch_path=None,
        rejects_path=None,
        clock=FixedClock(T1),
    )

    seen = []

    def batch_exists(run: IngestRun) -> bool:
        seen.append(run.id)
        return run.id == landed

    closed = mark_interrupted(db, batch_exists, clock=FixedClock(T2))

    assert seen == [landed, lost]  # only running rows are asked about, oldest first
    assert [(r.id, r.status, r.error, r.finished_at) for r in closed] == [
        (landed, RunStatus.COMMITTED, None, T2),
        (lost, RunStatus.FAILED, "interrupted", T2),
    ]
    assert get_run(db, landed).status is RunStatus.COMMITTED
    assert get_run(db, lost).status is RunStatus.FAILED
    assert get_run(db, done).finished_at == T1  # already finished: untouched
    assert mark_interrupted(db, batch_exists, clock=FixedClock(T2)) == []


def test_list_runs_newest_first_filtered_and_limited(db):
    a = _start(db, table="orders", at=T0)
    b = _start(db, table="customers", at=T1)
    c = _start(db, table="orders", at=T2)
    assert [r.id for r in list_runs(db)] == [c, b, a]
    assert [r.id for r in list_runs(db, table="orders")] == [c, a]
    assert [r.id for r in list_runs(db, limit=2)] == [c, b]
    assert list_runs(db, table="tickets") == []


def test_find_committed_by_fingerprint(db):
    first = _start(db, fingerprint="same", at=T0)
    assert find_committed(db, table="orders", fingerprint="same") is None  # still running
    finish_run(
        db,
        first,
        status="committed",
        rows_read=2,
        rows_accepted=2,
        rows_rejected=0,
        batch_path="b1",
        rejects_path=None,
        clock=FixedClock(T1),
    )
    assert find_committed(db, table="orders", fingerprint="same").id == first
    assert find_committed(db, table="customers", fingerprint="same") is None
    assert find_committed(db, table="orders", fingerprint="other") is None


def test_a_run_finishes_only_once(db):
    run_id = _start(db)
    kwargs = dict(rows_read=1, rows_accepted=1, rows_rejected=0, batch_path="b", rejects_path=None)
    finish_run(db, run_id, status="committed", clock=FixedClock(T1), **kwargs)
    with pytest.raises(InputError, match=r"already finished \(status 'committed'\)"):
        finish_run(db, run_id, status="failed", clock=FixedClock(T2), **kwargs)
    assert get_run(db, run_id).finished_at == T1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda e: finish_run(
                e,
                "nope",
                status="committed",
                rows_read=0,
                rows_accepted=0,
                rows_rejected=0,
                batch_path=None,
                rejects_path=None,
            ),
            "No ingest run with id 'nope'",
        ),
        (
            lambda e: finish_run(
                e,
                "x",
                status="running",
                rows_read=0,
                rows_accepted=0,
                rows_rejected=0,
                batch_path=None,
                rejects_path=None,
            ),
            "expected one of committed, failed, skipped",
        ),
        (
            lambda e: finish_run(
                e,
                "x",
                status="committed",
                rows_read=-1,
                rows_accepted=0,
                rows_rejected=0,
                batch_path=None,
                rejects_path=None,
            ),
            r"Row counts must be >= 0; got \{'rows_read': -1\}",
        ),
        (lambda e: _start(e, table="order"), "Unknown table 'order'. Valid tables: customers, orders"),
        (lambda e: _start(e, fingerprint=""), "fingerprint is empty"),
        (lambda e: list_runs(e, limit=0), "limit must be > 0"),
    ],
)
def test_bad_arguments_raise_input_error(db, call, message):
    with pytest.raises(InputError, match=message):
        call(db)
    assert db.execute(sa.select(sa.func.count()).select_from(ingest_runs)).scalar_one() == 0


@pytest.mark.postgres
def test_postgres_session_time_zone_does_not_shift_timestamps(postgres_url):
    # A server or session in another zone returns timestamptz in that zone; we must still hand back UTC.
    from retain.state import make_engine, upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url, connect_args={"options": "-c timezone=Asia/Kolkata"})
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SHOW timezone")).scalar_one() == "Asia/Kolkata"
        with engine.begin() as connection:
            run_id = _start(connection, fingerprint="tz", at=T0)
        with engine.connect() as connection:
            run = get_run(connection, run_id)
        assert (run.started_at, run.started_at.tzinfo) == (T0, UTC)
        assert run.started_at.hour == 9  # not 14:30, the Kolkata wall clock
    finally:
        with engine.begin() as connection:
            connection.execute(ingest_runs.delete().where(ingest_runs.c.fingerprint == "tz"))
        engine.dispose()
