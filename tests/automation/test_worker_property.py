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
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from outbox_builders import check_invariants, mixed_messages
from receivers import FAIL, OK, SLOW, WEBHOOK_SECRET

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
# A receiver that is slow on purpose answers after 0.3 s and a sender gives up after 0.2 s; otherwise senders
# wait up to 5 s, so that a busy machine never turns an accepted message into a timed-out one (a re-send that no
# death explains: at least once allows it, but the count of duplicates here must stay exact).
IMPATIENT, PATIENT, SLOW_SECONDS = 0.2, 5.0, 0.3


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
    die_at: int | None  # the worker dies at this send of the pass (0 = the first) …
    die_before_send: bool  # … just before the send (no duplicate) instead of after the receiver accepted it
    budget: int  # or stops gracefully after this many sends (the rest of its claim is given back)
    advance: float  # seconds the clock moves on after the pass


steps = st.builds(
    Step,
    worker=st.integers(0, 1),
    http=st.sampled_from([OK, OK, OK, FAIL, SLOW, DOWN]),
    smtp=st.sampled_from([OK, OK, OK, FAIL, SLOW, DOWN]),
    die_at=st.none() | st.integers(0, 3) | st.integers(0, 3),  # a death in two passes out of three
    die_before_send=st.booleans(),
    budget=st.integers(1, 6),
    advance=st.sampled_from([0.0, 0.5, 2.0, 9.0, 31.0]),
)


class Mortal:
    """Wraps real senders (a patient and an impatient one); the worker using it dies at the step's chosen send,
    just before it or just after it (after the receiver accepted the message: the outcome is never committed)."""

    def __init__(self, patient: WebhookSender | SmtpSender, impatient: WebhookSender | SmtpSender, sends: list[int]):
        self.patient, self.impatient = patient, impatient
        self.inner = patient
        self.sends = sends  # a counter shared by the senders of one worker
        self.name, self.kind = patient.name, patient.kind
        self.die_at: int | None = None
        self.before = False

    def impatient_if(self, mode: str) -> None:
        self.inner = self.impatient if mode == SLOW else self.patient

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        number = self.sends[0]
        self.sends[0] += 1
        if number == self.die_at and self.before:
            raise _Killed
        try:
            self.inner.send(delivery, now=now)
        finally:
            if number == self.die_at:
                raise _Killed  # a death swallows whatever the send ended with

    def close(self) -> None:
        self.patient.close()
        self.impatient.close()


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same 12 schedules on every run and machine
)
@given(customers=st.integers(3, 8), schedule=st.lists(steps, min_size=2, max_size=8), seed=st.integers(0, 2**16))
def test_random_failure_schedules_lose_nothing_and_repeat_only_what_a_death_cut_off(
    engine, http_receiver, smtp_receiver, customers, schedule, seed
):
    with engine.begin() as conn:
        conn.execute(outbox.delete())
    for receiver in (http_receiver, smtp_receiver):
        receiver.arrivals.clear()
        receiver.slow_seconds = SLOW_SECONDS
        receiver.mode = OK
    due = mixed_messages(customers, T0)
    with engine.begin() as conn:
        enqueue(conn, due, now=T0)

    clock = MovableClock(T0)
    counter, budget = [0], [10**9]

    def crm(timeout: float) -> WebhookSender:
        return WebhookSender("crm", WebhookChannel(kind="webhook", url=http_receiver.url, secret=WEBHOOK_SECRET,
                                                   timeout_seconds=timeout))  # fmt: skip

    def smtp(timeout: float) -> SmtpSender:
        return SmtpSender("email", SmtpChannel(kind="smtp", port=smtp_receiver.port, sender="care@example.com",
                                               timeout_seconds=timeout))  # fmt: skip

    webhook = Mortal(crm(PATIENT), crm(IMPATIENT), counter)
    email = Mortal(smtp(PATIENT), smtp(IMPATIENT), counter)
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
            stop=lambda: counter[0] >= budget[0],
        )
        for i in range(2)
    ]
    deaths = 0
    try:
        for step in schedule:
            _mode(http_receiver, step.http)
            _mode(smtp_receiver, step.smtp)
            counter[0], budget[0] = 0, step.budget
            webhook.impatient_if(step.http)
            email.impatient_if(step.smtp)
            for sender in (webhook, email):
                sender.die_at, sender.before = step.die_at, step.die_before_send
            try:
                workers[step.worker].run_pass()
            except _Killed:
                deaths += 1
                for sender in (webhook, email):
                    sender.close()  # a dead process's sockets close
            clock.at += timedelta(seconds=step.advance)
        # Then everything works again, for as long as it takes: leases and back-offs run out, all is delivered.
        _mode(http_receiver, OK)
        _mode(smtp_receiver, OK)
        budget[0] = 10**9
        for sender in (webhook, email):
            sender.die_at = None
            sender.impatient_if(OK)
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
    seen = check_invariants(due, [*http_receiver.arrivals, *smtp_receiver.arrivals], kills=deaths)
    event(f"deaths: {_bucket(deaths)}, re-sends: {_bucket(seen['duplicates'])}")  # what the examples exercised


def _bucket(n: int) -> str:
    return str(n) if n < 2 else "2+"


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
