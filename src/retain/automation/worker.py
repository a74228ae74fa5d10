"""The delivery worker: claim due outbox messages, hand each to its channel, record each outcome at once.

**What is guaranteed, plainly.** Delivery is *at least once*. A message is recorded as delivered in its own
short transaction right after its channel accepted it; a worker killed (SIGKILL, a power cut) after the
receiver accepted a message and before that commit has lost only that acknowledgement, and the message is sent
again once its lease runs out. So a receiver may see a message twice — always with the same idempotency key
(``Idempotency-Key`` header, ``Message-ID`` of an email, ``idempotency_key`` of a file line), never under a new
one — and at most one extra copy per worker death. Receivers drop a key they have seen, as real webhook
consumers and mail systems do, and with that the customer gets each message **exactly once**.

What the tests check at real receivers (an SMTP server and an HTTP server on loopback that are down, slow or
failing for a while, with two worker processes and SIGKILLs at varied moments, on SQLite and PostgreSQL):

* every due message arrives: distinct keys received == messages due;
* no customer gets a message for one (playbook, trigger) under two different keys (the outbox's unique key);
* raw arrivals − distinct keys ≤ number of kills: a duplicate is only ever a re-send of the same key.

**How.** A pass claims up to ``batch`` due rows under a lease (see :mod:`retain.automation.outbox`), and for each
row: renews the lease and counts the attempt (committed), sends, and commits the outcome — delivered, retry
after a back-off with jitter, or dead (a permanent refusal, or out of attempts). Between rows it checks ``stop``
(set by SIGTERM/SIGINT in ``retain worker``): it finishes the message in flight, gives the claimed rows it has
not started back, and returns. A channel's timeout is shorter than the lease (settings check it), so a slow send
is not taken over by a second worker while it is still going on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from retain.automation.backoff import RetryPolicy, UniformSource
from retain.automation.channels.base import Delivery, DeliveryError, Sender, one_line
from retain.automation.outbox import (
    AttemptStart,
    OutboxMessage,
    OutboxRow,
    OutboxStatus,
    claim,
    mark_delivered,
    mark_failed,
    release,
    start_attempt,
)
from retain.clock import Clock

__all__ = ["DeliveryReport", "Failure", "OutboxWorker", "delivery_of"]

_FAILURES_KEPT = 20


@dataclass(frozen=True)
class Failure:
    """One failed attempt of a pass: which message, what became of it, and why."""

    message_id: int
    channel: str
    customer_id: str
    status: OutboxStatus
    error: str


@dataclass
class DeliveryReport:
    """What one or more passes did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    """Claimed rows another worker took over (this one's lease had run out) or delivered meanwhile."""
    released: int = 0
    """Claimed rows given back unstarted because the worker was asked to stop."""
    passes: int = 0
    failures: list[Failure] = field(default_factory=list)
    """The first failed attempts (at most 20), for people to read."""

    def add(self, other: DeliveryReport) -> DeliveryReport:
        """Add ``other``'s counts to this report (in place) and return it."""
        for name in ("claimed", "delivered", "retried", "dead", "lost", "released", "passes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures[: max(0, _FAILURES_KEPT - len(self.failures))])
        return self

    @property
    def attempted(self) -> int:
        """Messages whose delivery was attempted."""
        return self.delivered + self.retried + self.dead


class OutboxWorker:
    """Delivers the outbox of one state database through the configured channels.

    Parameters
    ----------
    engine : Engine
        The state database.
    senders : mapping of str to Sender
        One per configured channel, by name.
    worker_id : str
        Who claims (unique among the workers running at once: host, process id and a random part).
    policy : RetryPolicy
        Attempts and back-off.
    lease : timedelta
        How long a claimed row stays this worker's without news.
    batch : int
        Rows claimed at a time.
    clock : Clock
        Time of claims, leases, back-offs and the signatures' timestamps.
    rng : UniformSource
        Jitter of the back-off.
    stop : callable, optional
        Asked between messages; once it returns True the worker finishes the message in flight and returns.
    """

    def __init__(
        self,
        engine: sa.Engine,
        senders: Mapping[str, Sender],
        *,
        worker_id: str,
        policy: RetryPolicy,
        lease: timedelta,
        batch: int,
        clock: Clock,
        rng: UniformSource,
        stop: Callable[[], bool] | None = None,
    ):
        self.engine = engine
        self.senders = dict(senders)
        self.worker_id = worker_id
        self.policy = policy
        self.lease = lease
        self.batch = batch
        self.clock = clock
        self.rng = rng
        self.stop = stop or (lambda: False)

    def run_pass(self, *, due_by: datetime | None = None) -> DeliveryReport:
        """Deliver every message due by ``due_by`` (default: now), a batch at a time, then return.

        A message that fails is re-scheduled after ``due_by`` and so not tried again in the same pass.
        """
        due_by = due_by or self.clock.now()
        report = DeliveryReport(passes=1)
        try:
            with self.engine.connect() as conn:
                while not self.stop():
                    rows = claim(conn, self.worker_id, self.clock.now(), self.batch, self.lease, due_by=due_by)
                    report.claimed += len(rows)
                    if not rows:
                        break
                    for index, row in enumerate(rows):
                        if self.stop():
                            ids = [r.id for r in rows[index:]]
                            report.released += release(conn, ids, worker_id=self.worker_id, now=self.clock.now())
                            break
                        self._deliver(conn, row, report)
        finally:
            for sender in self.senders.values():
                sender.close()
        return report

    def _deliver(self, conn: sa.Connection, row: OutboxRow, report: DeliveryReport) -> None:
        started = start_attempt(
            conn,
            row.id,
            worker_id=self.worker_id,
            now=self.clock.now(),
            lease=self.lease,
            max_attempts=self.policy.max_attempts,
        )
        if started is AttemptStart.LOST:
            report.lost += 1
            return
        if started is AttemptStart.GAVE_UP:
            report.dead += 1
            return
        try:
            self._sender(row).send(delivery_of(row), now=self.clock.now())
        except DeliveryError as error:
            text, permanent, retry_after = str(error), error.permanent, error.retry_after
        except Exception as error:  # a bug in a sender must not stop delivery of everything else
            text, permanent, retry_after = f"unexpected {type(error).__name__}: {one_line(error)}", False, None
        else:
            if mark_delivered(conn, row.id, worker_id=self.worker_id, now=self.clock.now()):
                report.delivered += 1
            else:
                report.lost += 1
            return
        status = mark_failed(
            conn,
            row.id,
            worker_id=self.worker_id,
            error=text,
            now=self.clock.now(),
            policy=self.policy,
            rng=self.rng,
            permanent=permanent,
            retry_after=retry_after,
        )
        if status is None:
            report.lost += 1
            return
        if status is OutboxStatus.DEAD:
            report.dead += 1
        else:
            report.retried += 1
        if len(report.failures) < _FAILURES_KEPT:
            report.failures.append(Failure(row.id, row.channel, row.customer_id, status, one_line(text)))

    def _sender(self, row: OutboxRow) -> Sender:
        # Both are configuration, fixed by editing retain.toml: the message waits (transient), it does not die.
        sender = self.senders.get(row.channel)
        if sender is None:
            configured = ", ".join(sorted(self.senders)) or "none"
            raise DeliveryError(
                f"channel {row.channel!r} is not configured (configured: {configured}); add a [channels.{row.channel}]"
                " table to retain.toml"
            )
        if sender.kind != row.kind:
            raise DeliveryError(
                f"channel {row.channel!r} delivers {sender.kind} messages, but message {row.id} is {row.kind}; point "
                f"[channels.{row.channel}] at a channel of the right kind"
            )
        return sender


def delivery_of(row: OutboxRow | OutboxMessage) -> Delivery:
    """What a channel is handed for an outbox row (or a message about to become one)."""
    return Delivery(
        idempotency_key=row.idempotency_key,
        customer_id=row.customer_id,
        channel=row.channel,
        kind=row.kind,
        payload=row.payload,
        playbook=row.playbook,
        step=row.step,
        trigger_key=row.trigger_key,
    )
