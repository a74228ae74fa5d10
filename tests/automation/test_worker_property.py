"""The delivery invariants over random failure schedules (hypothesis): two in-process workers take turns on one
outbox, real receivers are up, failing, slow or down as the schedule says, and workers "die" at random points —
after the receiver accepted a message and before the outcome was committed (the SIGKILL window), or before a
send. Time is a fake clock the schedule moves on, so leases and back-offs run out when the schedule says.

Whatever the schedule: every due message arrives, none under a second key, and raw duplicates ≤ deaths.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from outbox_builders import check_invariants, mixed_messages
from receivers import FAIL, OK, SLOW

from conftest import WEBHOOK_SECRET
from retain.automation.backoff import RetryPolicy
from retain.automation.channels import Delivery, SmtpSender, WebhookSender
from retain.automation.outbox import OutboxStatus, counts_by_status, enqueue
from retain.automation.worker import OutboxWorker
from retain.settings import SmtpChannel, WebhookChannel
from retain.state.tables import outbox

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LEASE = timedelta(seconds=30)
POLICY = RetryPolicy(max_attempts=1000, base_seconds=1.0, cap_seconds=8.0)
DOWN = "down"
TIMEOUT = 0.2


class _Killed(BaseException):
    """A worker's death (SIGKILL): not an error the worker handles, it just stops."""


class MovableClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class Step:
    worker: int  # which of the two workers runs this pass
    http: str  # ok, fail, slow or down, for this pass
    smtp: str
    die_after: int | None  # the worker dies after this many sends in the pass …
    die_before_send: bool  # … just before the send (no duplicate) instead of after the receiver accepted it
    advance: float  # seconds the clock moves on after the pass


steps = st.builds(
    Step,
    worker=st.integers(0, 1),
    http=st.sampled_from([OK, OK, FAIL, SLOW, DOWN]),
    smtp=st.sampled_from([OK, OK, FAIL, SLOW, DOWN]),
    die_after=st.none() | st.integers(0, 6),
    die_before_send=st.booleans(),
    advance=st.sampled_from([0.0, 0.5, 2.0, 9.0, 31.0]),
)


class Mortal:
    """Wraps a real sender; the worker using it dies at the step's chosen send."""

    def __init__(self, inner: WebhookSender | SmtpSender, counter: list[int]):
        self.inner, self.counter = inner, counter
        self.name, self.kind = inner.name, inner.kind
        self.die_after: int | None = None
        self.before = False

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        dies = self.die_after is not None and self.counter[0] >= self.die_after
        if dies and self.before:
            raise _Killed
        self.inner.send(delivery, now=now)
        self.counter[0] += 1
        if dies:
            raise _Killed  # the receiver has it; the outcome is never committed

    def close(self) -> None:
        self.inner.close()


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same 12 schedules on every run and machine
)
@given(customers=st.integers(2, 8), schedule=st.lists(steps, min_size=1, max_size=8), seed=st.integers(0, 2**16))
def test_random_failure_schedules_lose_nothing_and_repeat_only_what_a_death_cut_off(
    engine, http_receiver, smtp_receiver, customers, schedule, seed
):
    with engine.begin() as conn:
        conn.execute(outbox.delete())
    for receiver in (http_receiver, smtp_receiver):
        receiver.arrivals.clear()
        receiver.slow_seconds = TIMEOUT * 1.5
        receiver.mode = OK
    due = mixed_messages(customers, T0)
    with engine.begin() as conn:
        enqueue(conn, due, now=T0)

    clock = MovableClock(T0)
    counter = [0]
    crm = WebhookChannel(kind="webhook", url=http_receiver.url, secret=WEBHOOK_SECRET, timeout_seconds=TIMEOUT)
    smtp = SmtpChannel(kind="smtp", port=smtp_receiver.port, sender="care@example.com", timeout_seconds=TIMEOUT)
    webhook = Mortal(WebhookSender("crm", crm), counter)
    email = Mortal(SmtpSender("email", smtp), counter)
    rng = random.Random(seed)
    workers = [
        OutboxWorker(
            engine,
            {"crm": webhook, "email": email},
            worker_id=f"w{i}",
            policy=POLICY,
            lease=LEASE,
            batch=3,
            clock=clock,
            rng=rng,
        )
        for i in range(2)
    ]
    deaths = 0
    try:
        for step in schedule:
            _mode(http_receiver, step.http)
            _mode(smtp_receiver, step.smtp)
            counter[0] = 0
            for sender in (webhook, email):
                sender.die_after, sender.before = step.die_after, step.die_before_send
            try:
                workers[step.worker].run_pass()
            except _Killed:
                deaths += 1
                for sender in (webhook, email):
                    sender.inner.close()  # a dead process's sockets close
            clock.at += timedelta(seconds=step.advance)
        # Then everything works again, for as long as it takes: leases and back-offs run out, all is delivered.
        _mode(http_receiver, OK)
        _mode(smtp_receiver, OK)
        for sender in (webhook, email):
            sender.die_after = None
        for round_ in range(50):
            clock.at += LEASE
            workers[round_ % 2].run_pass()
            with engine.connect() as conn:
                if counts_by_status(conn)[OutboxStatus.DELIVERED] == len(due):
                    break
    finally:
        _mode(http_receiver, OK)
        _mode(smtp_receiver, OK)
    with engine.connect() as conn:
        counts = counts_by_status(conn)
        attempts = conn.execute(sa.select(sa.func.sum(outbox.c.attempts))).scalar_one()
    assert counts[OutboxStatus.DELIVERED] == len(due), counts
    assert attempts >= len(due)
    check_invariants(due, [*http_receiver.arrivals, *smtp_receiver.arrivals], kills=deaths)


def _mode(receiver, mode: str) -> None:
    """Bring ``receiver`` up or down and set how it answers."""
    running = getattr(receiver, "_server", None) or getattr(receiver, "_controller", None)
    if mode == DOWN:
        if running:
            receiver.stop()
        return
    if not running:
        receiver.start()
    receiver.mode = mode
