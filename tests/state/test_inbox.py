"""The inbox repository on SQLite and PostgreSQL: idempotent inserts, pending rows in received order, claims,
flushed marks, and settling the claims of a flush that died."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from retain.clock import FixedClock
from retain.state.inbox import (
    NewFact,
    claim_pending,
    claimed_facts,
    insert_facts,
    mark_flushed,
    pending_counts,
    pending_facts,
    pending_summary,
    release_claims,
    settle_claims,
)
from retain.state.runs import finish_run, start_run
from retain.state.tables import RunStatus, fact_inbox

AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 1, 9, 5, tzinfo=UTC)


def _fact(table: str, key: str) -> NewFact:
    return NewFact(table, key, f'{{"id":"{key}"}}')


def _run(db: sa.Connection, table: str, fingerprint: str) -> str:
    return start_run(db, table=table, source="inbox:api", fingerprint=fingerprint, clock=FixedClock(AT))


def _finish(db: sa.Connection, run_id: str, status: RunStatus) -> None:
    finish_run(
        db,
        run_id,
        status=status,
        rows_read=0,
        rows_accepted=0,
        rows_rejected=0,
        batch_path=None,
        rejects_path=None,
        clock=FixedClock(AT),
    )


def test_a_pair_already_held_or_repeated_in_the_call_is_not_inserted(db):
    first = insert_facts(
        db, [_fact("orders", "a"), _fact("orders", "b"), _fact("orders", "a")], source="api", received_at=AT
    )
    assert first == {("orders", "a"), ("orders", "b")}
    # Same key in another table is another fact; "b" is held already.
    second = insert_facts(
        db, [_fact("orders", "b"), _fact("events", "b"), _fact("orders", "c")], source="stripe", received_at=LATER
    )
    assert second == {("events", "b"), ("orders", "c")}
    rows = db.execute(
        sa.select(fact_inbox.c.table_name, fact_inbox.c.idempotency_key, fact_inbox.c.source).order_by(fact_inbox.c.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        ("orders", "a", "api"),
        ("orders", "b", "api"),
        ("events", "b", "stripe"),
        ("orders", "c", "stripe"),
    ]
    assert pending_counts(db) == {"orders": 3, "events": 1}


def test_more_rows_than_one_statement_holds_are_all_inserted_in_order(db):
    facts = [_fact("events", f"e{i:04d}") for i in range(1203)]  # three INSERT statements of at most 500
    assert len(insert_facts(db, facts, source="api", received_at=AT)) == 1203
    assert [f.idempotency_key for f in pending_facts(db, "events", limit=2000)] == [f.key for f in facts]


def test_pending_claimed_and_flushed_rows(db):
    insert_facts(db, [_fact("orders", k) for k in "abcd"], source="api", received_at=AT)
    oldest = pending_facts(db, "orders", limit=2)
    assert [f.idempotency_key for f in oldest] == ["a", "b"] and oldest[0].received_at == AT
    summary = pending_summary(db, "orders")
    assert (summary.rows, summary.last_id - summary.first_id, summary.sources) == (4, 3, ("api",))

    run = _run(db, "orders", "f1")
    assert claim_pending(db, "orders", run_id=run, last_id=oldest[1].id) == 2  # a and b
    assert claim_pending(db, "orders", run_id="another", last_id=oldest[1].id) == 0  # already claimed
    assert [f.idempotency_key for f in claimed_facts(db, run)] == ["a", "b"]
    assert [f.idempotency_key for f in claimed_facts(db, run, after_id=oldest[0].id)] == ["b"]
    assert [f.idempotency_key for f in pending_facts(db, "orders")] == ["c", "d"]
    assert pending_counts(db) == {"orders": 4}  # claimed rows still wait for their flush

    assert mark_flushed(db, run, at=LATER) == 2
    assert mark_flushed(db, run, at=LATER) == 0
    assert pending_counts(db) == {"orders": 2}
    flushed = db.execute(sa.select(fact_inbox.c.flushed_at).where(fact_inbox.c.ingest_run_id == run)).scalars().all()
    assert flushed == [LATER, LATER]


def test_release_gives_a_claim_back(db):
    insert_facts(db, [_fact("tickets", k) for k in "xy"], source="api", received_at=AT)
    run = _run(db, "tickets", "f2")
    claim_pending(db, "tickets", run_id=run, last_id=10**9)
    assert release_claims(db, run) == 2
    assert [f.idempotency_key for f in pending_facts(db, "tickets")] == ["x", "y"]


def test_settle_marks_claims_of_committed_runs_flushed_and_releases_the_others(db):
    insert_facts(db, [_fact("orders", k) for k in "abcde"], source="api", received_at=AT)
    ids = [f.id for f in pending_facts(db, "orders")]
    committed, failed, vanished = _run(db, "orders", "c"), _run(db, "orders", "f"), "0000-not-a-run"
    claim_pending(db, "orders", run_id=committed, last_id=ids[1])  # a, b: their batch reached the lake
    claim_pending(db, "orders", run_id=failed, last_id=ids[3])  # c, d: the flush died before its batch
    db.execute(fact_inbox.update().where(fact_inbox.c.id == ids[4]).values(ingest_run_id=vanished))  # e
    _finish(db, committed, RunStatus.COMMITTED)
    _finish(db, failed, RunStatus.FAILED)

    assert settle_claims(db, at=LATER) == (2, 3)
    assert [f.idempotency_key for f in pending_facts(db, "orders")] == ["c", "d", "e"]
    assert pending_counts(db) == {"orders": 3}
    assert settle_claims(db, at=LATER) == (0, 0)
