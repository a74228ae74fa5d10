"""The outbox repository on SQLite and PostgreSQL: idempotent enqueue, claims under a lease, fenced attempts,
back-off numbers from a seeded generator, dead-lettering, release, and concurrent claims that never overlap."""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from outbox_builders import email_message, webhook_message

from retain.automation.backoff import RetryPolicy
from retain.automation.outbox import (
    AttemptStart,
    MessageKind,
    OutboxMessage,
    OutboxStatus,
    claim,
    counts_by_status,
    enqueue,
    mark_delivered,
    mark_failed,
    message_key,
    release,
    start_attempt,
)
from retain.errors import InputError
from retain.state.tables import outbox

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=120)
POLICY = RetryPolicy(max_attempts=3, base_seconds=30, cap_seconds=3600)


class Fixed:
    """A "random" source that returns the given values in turn (hand-computable jitter)."""

    def __init__(self, *values: float):
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def _row(engine: sa.Engine, message_id: int) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.select(outbox).where(outbox.c.id == message_id)).one()


def _enqueue(engine: sa.Engine, messages: list[OutboxMessage]) -> int:
    with engine.begin() as conn:
        return enqueue(conn, messages, now=T0)


# --- keys and enqueue -----------------------------------------------------------------------------------------


def test_message_key_is_a_sha256_of_version_step_customer_and_trigger():
    import hashlib

    key = message_key("welcome", "v1", 0, "C1", "signup")
    assert key == hashlib.sha256(b'["welcome", "v1", 0, "C1", "signup"]').hexdigest()
    assert len(key) == 64
    others = [("welcome", "v2", 0, "C1", "signup"), ("welcome", "v1", 1, "C1", "signup"),
              ("welcome", "v1", 0, "C2", "signup"), ("welcome", "v1", 0, "C1", "x")]  # fmt: skip
    assert len({key, *(message_key(*parts) for parts in others)}) == 5


def test_enqueue_is_idempotent_by_key_and_by_enrolment_step(engine):
    messages = [email_message(f"C{i}", T0 + timedelta(minutes=i)) for i in range(3)]
    assert _enqueue(engine, messages) == 3
    assert _enqueue(engine, messages) == 0  # the runner ran again: nothing new
    assert _enqueue(engine, [*messages, webhook_message("C0", T0)]) == 1  # only the new one
    # A new playbook version gives a new key for the same step of the same enrolment: still not sent twice.
    again = email_message("C0", T0)
    renamed = OutboxMessage(
        message_key("welcome", "v2", 0, "C0", "signup"), "welcome", "v2", 0, "C0", "signup", "email",
        MessageKind.EMAIL, again.payload, T0,
    )  # fmt: skip
    assert _enqueue(engine, [renamed]) == 0
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()
        assert counts_by_status(conn) == {
            OutboxStatus.PENDING: 4,
            OutboxStatus.DELIVERING: 0,
            OutboxStatus.DELIVERED: 0,
            OutboxStatus.RETRY: 0,
            OutboxStatus.DEAD: 0,
        }
    assert [(r.customer_id, r.kind, r.status, r.attempts) for r in rows] == [
        ("C0", "email", "pending", 0),
        ("C1", "email", "pending", 0),
        ("C2", "email", "pending", 0),
        ("C0", "webhook", "pending", 0),
    ]
    assert [r.next_attempt_at for r in rows[:3]] == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert rows[0].due_at == T0 and rows[0].created_at == T0 and rows[0].lease_until is None
    assert rows[0].payload.startswith('{"headers": {"X-Customer": "C0"')  # JSON, keys sorted


def test_enqueue_refuses_bad_keys_payloads_and_naive_times(engine):
    good = email_message("C1", T0)
    bad_key = dataclasses.replace(good, idempotency_key="has space")
    with pytest.raises(InputError, match=r"idempotency key 'has space'.*message_key"), engine.begin() as conn:
        enqueue(conn, [bad_key], now=T0)
    not_json = OutboxMessage(
        good.idempotency_key, "p", "v", 0, "C1", "t", "email", MessageKind.EMAIL, {"x": {1, 2}}, T0
    )
    with pytest.raises(InputError, match="is not JSON"), engine.begin() as conn:
        enqueue(conn, [not_json], now=T0)
    naive = OutboxMessage(
        good.idempotency_key, "p", "v", 0, "C1", "t", "email", MessageKind.EMAIL, {}, T0.replace(tzinfo=None)
    )
    with pytest.raises(InputError, match="has no time zone"), engine.begin() as conn:
        enqueue(conn, [naive], now=T0)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 0


# --- claims and leases ----------------------------------------------------------------------------------------


def test_claim_takes_due_rows_oldest_first_up_to_the_limit(engine):
    # Due at T0+0..4 minutes; at T0+3 min the first four are due.
    _enqueue(engine, [email_message(f"C{i}", T0 + timedelta(minutes=i)) for i in range(5)])
    now = T0 + timedelta(minutes=3)
    with engine.connect() as conn:
        first = claim(conn, "w1", now, 3, LEASE)
        second = claim(conn, "w2", now, 3, LEASE)
        third = claim(conn, "w2", now, 3, LEASE)
    assert [r.customer_id for r in first] == ["C0", "C1", "C2"]
    assert [r.customer_id for r in second] == ["C3"]  # C4 is not due yet
    assert third == []
    assert {(r.status, r.claimed_by, r.lease_until, r.next_attempt_at) for r in first} == {
        (OutboxStatus.DELIVERING, "w1", now + LEASE, now + LEASE)
    }
    assert first[0].payload["to"] == "c0@example.com" and first[0].kind is MessageKind.EMAIL


def test_an_expired_lease_makes_a_row_claimable_again_and_fences_the_old_worker(engine):
    _enqueue(engine, [email_message("C1", T0)])
    with engine.connect() as conn:
        (row,) = claim(conn, "dead-worker", T0, 10, LEASE)
        assert claim(conn, "w2", T0 + LEASE - timedelta(seconds=1), 10, LEASE) == []  # still leased
        (again,) = claim(conn, "w2", T0 + LEASE, 10, LEASE)  # the lease ran out: its worker died
        assert again.id == row.id and again.claimed_by == "w2"
        # The first worker comes back (it was only slow): it no longer holds the row and must not send it.
        start = start_attempt(conn, row.id, worker_id="dead-worker", now=T0 + LEASE, lease=LEASE, max_attempts=3)
        assert start is AttemptStart.LOST
        assert mark_failed(conn, row.id, worker_id="dead-worker", error="x", now=T0, policy=POLICY, rng=Fixed()) is None
        assert start_attempt(conn, row.id, worker_id="w2", now=T0 + LEASE, lease=LEASE, max_attempts=3) is (
            AttemptStart.STARTED
        )
    stored = _row(engine, row.id)
    assert (stored.status, stored.claimed_by, stored.attempts) == ("delivering", "w2", 1)
    assert stored.lease_until == T0 + 2 * LEASE


def test_a_delivery_recorded_late_stops_a_second_worker_that_has_not_started(engine):
    _enqueue(engine, [email_message("C1", T0)])
    later = T0 + LEASE + timedelta(seconds=5)
    with engine.connect() as conn:
        (row,) = claim(conn, "w1", T0, 10, LEASE)
        assert start_attempt(conn, row.id, worker_id="w1", now=T0, lease=LEASE, max_attempts=3) is AttemptStart.STARTED
        assert claim(conn, "w2", later, 10, LEASE)[0].id == row.id  # w1's send outlived its lease
        assert mark_delivered(conn, row.id, worker_id="w1", now=later) is True  # the receiver has it: record it
        assert start_attempt(conn, row.id, worker_id="w2", now=later, lease=LEASE, max_attempts=3) is AttemptStart.LOST
        assert mark_delivered(conn, row.id, worker_id="w2", now=later) is False
    stored = _row(engine, row.id)
    assert (stored.status, stored.delivered_at, stored.lease_until, stored.attempts) == ("delivered", later, None, 1)


def test_worker_functions_refuse_a_connection_inside_a_transaction(engine):
    with engine.connect() as conn:
        conn.execute(sa.select(1))  # autobegins a transaction
        with pytest.raises(RuntimeError, match="commit their own transaction"):
            claim(conn, "w1", T0, 1, LEASE)


# --- failures, back-off, dead letters ------------------------------------------------------------------------


def test_backoff_schedule_is_exponential_with_equal_jitter_and_capped():
    policy = RetryPolicy(max_attempts=12, base_seconds=30, cap_seconds=3600)
    assert [policy.exponential(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    # Jitter r in [0, 1): wait = d/2 + r·d/2, so between half the exponential wait and all of it.
    assert policy.delay(1, Fixed(0.0)) == 15.0
    assert policy.delay(2, Fixed(0.5)) == 45.0  # 30 + 0.5·30
    assert policy.delay(4, Fixed(0.25)) == 150.0  # 120 + 0.25·120
    assert policy.delay(9, Fixed(0.5)) == 2700.0  # capped: 1800 + 0.5·1800
    # Retry-After wins when longer, up to the cap; a shorter one changes nothing.
    assert policy.delay(1, Fixed(0.0), retry_after=100) == 100.0
    assert policy.delay(1, Fixed(0.0), retry_after=5) == 15.0
    assert policy.delay(1, Fixed(0.0), retry_after=10**6) == 3600.0
    assert policy.exponential(5000) == 3600  # no float overflow far down the schedule


def test_backoff_with_a_seeded_generator_matches_the_formula_draw_by_draw():
    policy = RetryPolicy(max_attempts=8, base_seconds=30, cap_seconds=3600)
    draws = random.Random(2026)
    expected = [d / 2 + draws.random() * d / 2 for d in (30, 60, 120, 240, 480, 960, 1920)]
    rng = random.Random(2026)
    assert [policy.delay(n, rng) for n in range(1, 8)] == expected
    # Python's Mersenne Twister is the same everywhere: Random(2026) draws 0.119120, 0.502516, 0.511823 first,
    # so the first waits are 15 + 0.119120·15, 30 + 0.502516·30, 60 + 0.511823·60.
    assert [round(x, 6) for x in expected[:3]] == [16.786798, 45.075473, 90.709363]


def test_failed_attempts_retry_after_the_backoff_then_go_dead(engine):
    _enqueue(engine, [email_message("C1", T0)])
    rng = Fixed(0.0, 1.0 - 2**-53)
    now = T0
    with engine.connect() as conn:
        statuses, waits = [], []
        for _ in range(POLICY.max_attempts):
            (row,) = claim(conn, "w1", now, 10, LEASE)
            assert start_attempt(conn, row.id, worker_id="w1", now=now, lease=LEASE, max_attempts=3) is (
                AttemptStart.STARTED
            )
            statuses.append(
                mark_failed(conn, row.id, worker_id="w1", error="HTTP 503\nfrom x", now=now, policy=POLICY, rng=rng)
            )
            stored = _row(engine, row.id)
            waits.append((stored.next_attempt_at - now).total_seconds())
            assert claim(conn, "w1", stored.next_attempt_at - timedelta(microseconds=1), 10, LEASE) == []
            now = stored.next_attempt_at
        assert claim(conn, "w1", now + timedelta(days=30), 10, LEASE) == []  # dead: never claimed again
    assert statuses == [OutboxStatus.RETRY, OutboxStatus.RETRY, OutboxStatus.DEAD]
    assert waits[:2] == pytest.approx([15.0, 60.0])  # attempt 1: 30/2 + 0; attempt 2: 60/2 + ~1·60/2
    assert waits[2] == LEASE.total_seconds()  # left at the lease end; a dead row is never claimed anyway
    stored = _row(engine, row.id)
    assert (stored.status, stored.attempts, stored.last_error, stored.claimed_by) == (
        "dead",
        3,
        "HTTP 503 from x",
        None,
    )


def test_a_permanent_failure_is_dead_at_once_and_retry_after_is_honoured(engine):
    _enqueue(engine, [email_message("C1", T0), email_message("C2", T0)])
    with engine.connect() as conn:
        first, second = claim(conn, "w1", T0, 10, LEASE)
        for row in (first, second):
            start_attempt(conn, row.id, worker_id="w1", now=T0, lease=LEASE, max_attempts=3)
        assert mark_failed(conn, first.id, worker_id="w1", error="HTTP 400", now=T0, policy=POLICY, rng=Fixed(),
                           permanent=True) is OutboxStatus.DEAD  # fmt: skip
        assert mark_failed(conn, second.id, worker_id="w1", error="HTTP 429", now=T0, policy=POLICY, rng=Fixed(0.0),
                           retry_after=600) is OutboxStatus.RETRY  # fmt: skip
    assert (_row(engine, first.id).status, _row(engine, first.id).attempts) == ("dead", 1)
    assert _row(engine, second.id).next_attempt_at == T0 + timedelta(seconds=600)  # not 15 s: the receiver asked


def test_attempts_used_up_by_dying_workers_end_dead_not_in_a_loop(engine):
    _enqueue(engine, [email_message("C1", T0)])
    now = T0
    with engine.connect() as conn:
        for worker in ("w1", "w2", "w3"):  # each starts an attempt and dies before recording anything
            (row,) = claim(conn, worker, now, 10, LEASE)
            assert start_attempt(conn, row.id, worker_id=worker, now=now, lease=LEASE, max_attempts=3) is (
                AttemptStart.STARTED
            )
            now += LEASE
        (row,) = claim(conn, "w4", now, 10, LEASE)
        assert start_attempt(conn, row.id, worker_id="w4", now=now, lease=LEASE, max_attempts=3) is AttemptStart.GAVE_UP
    stored = _row(engine, row.id)
    assert (stored.status, stored.attempts) == ("dead", 3)
    assert "the last did not finish" in stored.last_error


def test_release_gives_back_unstarted_rows(engine):
    _enqueue(engine, [email_message(f"C{i}", T0) for i in range(3)])
    later = T0 + timedelta(seconds=10)
    with engine.connect() as conn:
        rows = claim(conn, "w1", T0, 10, LEASE)
        start_attempt(conn, rows[0].id, worker_id="w1", now=T0, lease=LEASE, max_attempts=3)
        mark_failed(conn, rows[0].id, worker_id="w1", error="503", now=T0, policy=POLICY, rng=Fixed(0.0))
        (retried,) = claim(conn, "w1", T0 + timedelta(seconds=15), 10, LEASE)  # attempts 1, delivering again
        assert release(conn, [rows[1].id, rows[2].id, retried.id], worker_id="w1", now=later) == 3
        assert release(conn, [rows[1].id], worker_id="w1", now=later) == 0  # no longer held
        assert [(r.status, r.attempts, r.next_attempt_at) for r in (_row(engine, r.id) for r in rows)] == [
            ("retry", 1, later),
            ("pending", 0, later),
            ("pending", 0, later),
        ]
        assert [r.customer_id for r in claim(conn, "w2", later, 10, LEASE)] == ["C0", "C1", "C2"]


# --- concurrency -----------------------------------------------------------------------------------------------


def test_concurrent_claims_never_hand_one_row_to_two_workers(engine):
    total = 120
    _enqueue(engine, [email_message(f"C{i:03d}", T0) for i in range(total)])
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def work(worker: str) -> None:
        mine: list[int] = []
        try:
            with engine.connect() as conn:
                barrier.wait()
                while rows := claim(conn, worker, T0, 4, LEASE):
                    mine += [r.id for r in rows]
        except BaseException as error:  # surfaced below
            errors.append(error)
        claimed[worker] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == total  # each row exactly once
    with engine.connect() as conn:
        owners = dict(conn.execute(sa.select(outbox.c.id, outbox.c.claimed_by)).all())
    assert all(owners[i] == worker for worker, ids in claimed.items() for i in ids)
