"""Repository of the outbox: a durable row per message, claimed by workers under a lease, delivered with retries.

The playbook runner writes messages with :func:`enqueue` inside the transaction that enrols the customer, so a
message exists exactly when its enrolment does; the idempotency key makes writing it again a no-op, and a
unique (playbook, customer, trigger key, step) means a new key (a new playbook version) cannot add it twice.

Workers (``retain worker``, in as many processes as wanted) move rows through their life cycle::

    pending ──claim──► delivering ──start_attempt, send──► delivered
                          │    ▲                     └──► retry (back-off) ──► … ──► dead (out of attempts)
                          │    └── lease ran out (the worker died): claimable again
                          └──release (graceful stop)──► pending / retry

**Claiming.** :func:`claim` takes due rows in one short transaction and leases them to the worker: on
PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never wait for, nor get, each other's rows), on
SQLite a ``BEGIN IMMEDIATE`` transaction (the write lock is taken before reading, so two workers cannot read
the same free rows; the connection's 5 s busy timeout queues them). A row's ``next_attempt_at`` is when a
worker may next take it — its due time, the end of its back-off, or the end of its lease while delivering — so
one index (status, next_attempt_at) serves every claim, and rows of a worker that died are taken again once
their lease runs out.

**Fencing.** :func:`start_attempt` renews the lease right before a send and only succeeds for the worker that
holds the row: a worker that was too slow and lost its rows to another never sends them. :func:`mark_delivered`
records the truth whoever holds the lease (the receiver has the message), which stops a second worker that has
not started yet.

The worker-side functions (:func:`claim`, :func:`start_attempt`, :func:`mark_delivered`, :func:`mark_failed`,
:func:`release`) each run and commit **their own** transaction on the connection they are given (which must have
none open): a claim must be committed before anything is sent, and an outcome right after. :func:`enqueue` and
:func:`counts_by_status` run in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from retain.automation.backoff import RetryPolicy, UniformSource
from retain.automation.channels.base import one_line
from retain.errors import InputError
from retain.state.tables import MessageKind, OutboxStatus, outbox

__all__ = [
    "CLAIMABLE",
    "AttemptStart",
    "MessageKind",
    "OutboxMessage",
    "OutboxRow",
    "OutboxStatus",
    "claim",
    "counts_by_status",
    "enqueue",
    "mark_delivered",
    "mark_failed",
    "message_key",
    "release",
    "start_attempt",
]

CLAIMABLE = (OutboxStatus.PENDING, OutboxStatus.RETRY, OutboxStatus.DELIVERING)
"""Statuses a claim takes a row from once its ``next_attempt_at`` has come (delivering: its lease ran out)."""


def message_key(playbook: str, playbook_version: str, step: int, customer_id: str, trigger_key: str) -> str:
    """The idempotency key of one step of one enrolment: a SHA-256 hex digest (64 characters).

    The receivers see it as ``Idempotency-Key`` (webhooks) and in the ``Message-ID`` (email), and drop a repeat.
    """
    text = json.dumps([playbook, playbook_version, int(step), customer_id, trigger_key], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class OutboxMessage:
    """A message to write to the outbox (see :func:`enqueue`).

    ``payload`` is JSON-serialisable: for email ``{to, subject, text, html?, headers?, unsubscribe_url?}``, for a
    webhook or a file the JSON object that is sent.
    """

    idempotency_key: str
    playbook: str
    playbook_version: str
    step: int
    customer_id: str
    trigger_key: str
    channel: str
    kind: MessageKind
    payload: Mapping[str, Any]
    due_at: datetime


@dataclass(frozen=True)
class OutboxRow:
    """One stored outbox message, as a worker sees it."""

    id: int
    idempotency_key: str
    playbook: str
    playbook_version: str
    step: int
    customer_id: str
    trigger_key: str
    channel: str
    kind: MessageKind
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    due_at: datetime
    next_attempt_at: datetime
    lease_until: datetime | None
    claimed_by: str | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def _from_row(cls, row: sa.Row) -> OutboxRow:
        values = row._asdict()
        values["payload"] = json.loads(values["payload"])
        values["kind"] = MessageKind(values["kind"])
        values["status"] = OutboxStatus(values["status"])
        return cls(**values)


class AttemptStart(StrEnum):
    """What :func:`start_attempt` found."""

    STARTED = "started"
    """The worker holds the row, its lease renewed and the attempt counted: send it now."""
    LOST = "lost"
    """Another worker took the row (this one's lease ran out) or it was delivered meanwhile: do not send."""
    GAVE_UP = "gave_up"
    """The row had used its attempts (the last ones ended with their worker dying): now dead, do not send."""


def _insert(dialect: str) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(outbox)


def _check(message: OutboxMessage) -> dict[str, Any]:
    key = message.idempotency_key
    if not key or len(key) > 64 or any(ch.isspace() or ch in "<>@" for ch in key):
        raise InputError(
            f"idempotency key {key[:80]!r} of the message to {message.customer_id!r} is not 1-64 characters without "
            "spaces, '<', '>' or '@'; build it with retain.automation.outbox.message_key()."
        )
    if message.due_at.tzinfo is None:
        raise InputError(f"due_at {message.due_at!r} of message {key} has no time zone; pass a UTC datetime.")
    try:
        payload = json.dumps(dict(message.payload), ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"the payload of message {key} is not JSON ({exc}); use strings, numbers, lists, dicts."
        ) from None
    return {
        "idempotency_key": key,
        "playbook": message.playbook,
        "playbook_version": message.playbook_version,
        "step": int(message.step),
        "customer_id": message.customer_id,
        "trigger_key": message.trigger_key,
        "channel": message.channel,
        "kind": MessageKind(message.kind).value,
        "payload": payload,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "due_at": message.due_at,
        "next_attempt_at": message.due_at,
    }


def enqueue(conn: sa.Connection, messages: Sequence[OutboxMessage], *, now: datetime) -> int:
    """Write ``messages`` to the outbox, skipping every one already there; in the caller's transaction.

    Parameters
    ----------
    conn : Connection
        Inside the caller's transaction (the one that records the enrolments the messages belong to).
    messages : sequence of OutboxMessage
    now : datetime
        The creation time recorded (timezone-aware).

    Returns
    -------
    int
        How many messages were new. A message whose idempotency key, or whose (playbook, customer, trigger
        key, step), is already in the outbox is skipped (``INSERT … ON CONFLICT DO NOTHING``).

    Raises
    ------
    InputError
        A key is malformed, a payload is not JSON, a due time has no time zone, or a kind is unknown.
    """
    rows = [{**_check(message), "created_at": now} for message in messages]
    if not rows:
        return 0
    # No conflict target: a repeat on either unique constraint is skipped (both dialects allow it for DO NOTHING).
    statement = _insert(conn.dialect.name).on_conflict_do_nothing().returning(outbox.c.id)
    return len(conn.execute(statement, rows).all())


@contextmanager
def _own_transaction(conn: sa.Connection) -> Iterator[None]:
    """One transaction of its own on ``conn``, committed on exit; on SQLite it takes the write lock first."""
    if conn.in_transaction():
        raise RuntimeError(
            "outbox worker functions commit their own transaction; call them on a connection with none open "
            "(commit or roll back first)."
        )
    with conn.begin():
        if conn.dialect.name == "sqlite":
            # pysqlite begins lazily (at the first write); take the write lock before the first read instead, so
            # that a read-then-write transaction can neither race another worker nor fail on a stale snapshot.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield


def claim(
    conn: sa.Connection,
    worker_id: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    *,
    due_by: datetime | None = None,
) -> list[OutboxRow]:
    """Lease up to ``limit`` due messages to ``worker_id``, oldest first; commits before returning.

    Parameters
    ----------
    conn : Connection
        With no transaction open.
    worker_id : str
        Who claims (recorded in ``claimed_by``).
    now : datetime
        The current time; the lease runs until ``now + lease``.
    limit : int
        Most rows to claim (> 0).
    lease : timedelta
        How long the rows are this worker's before another one may take them.
    due_by : datetime, optional
        Claim rows due by this time (default ``now``): a single pass (``retain worker --once``) passes the time
        it started, so a row it failed and re-scheduled is not taken again in the same pass.

    Returns
    -------
    list of OutboxRow
        Now ``delivering``, leased to ``worker_id``; a row whose lease had run out (its worker died) included.
    """
    if limit < 1:
        raise InputError(f"claim limit must be >= 1; got {limit}.")
    lease_until = now + lease
    with _own_transaction(conn):
        query = (
            sa.select(outbox.c.id)
            .where(outbox.c.status.in_([s.value for s in CLAIMABLE]), outbox.c.next_attempt_at <= (due_by or now))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(conn.execute(query).scalars())
        if not ids:
            return []
        conn.execute(
            outbox.update()
            .where(outbox.c.id.in_(ids))
            .values(
                status=OutboxStatus.DELIVERING.value,
                claimed_by=worker_id,
                lease_until=lease_until,
                next_attempt_at=lease_until,
            )
        )
        rows = {row.id: OutboxRow._from_row(row) for row in conn.execute(sa.select(outbox).where(outbox.c.id.in_(ids)))}
    return [rows[i] for i in ids]


def _held(message_id: int, worker_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        outbox.c.id == message_id,
        outbox.c.claimed_by == worker_id,
        outbox.c.status == OutboxStatus.DELIVERING.value,
    )


def start_attempt(
    conn: sa.Connection,
    message_id: int,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
) -> AttemptStart:
    """Right before sending: renew the lease of a row ``worker_id`` holds and count the attempt; commits.

    A row whose attempts are used up although it is still ``delivering`` had its last attempts end with the
    worker dying mid-send (a message that crashes its worker, say); it goes to ``dead`` rather than around again.

    Returns
    -------
    AttemptStart
        ``STARTED`` (send it), ``LOST`` (another worker holds it, or it was delivered) or ``GAVE_UP`` (now dead).
    """
    lease_until = now + lease
    with _own_transaction(conn):
        started = conn.execute(
            outbox.update()
            .where(_held(message_id, worker_id), outbox.c.attempts < max_attempts)
            .values(attempts=outbox.c.attempts + 1, lease_until=lease_until, next_attempt_at=lease_until)
        ).rowcount
        if started:
            return AttemptStart.STARTED
        gave_up = conn.execute(
            outbox.update()
            .where(_held(message_id, worker_id))
            .values(
                status=OutboxStatus.DEAD.value,
                lease_until=None,
                last_error=f"gave up after {max_attempts} attempts; the last did not finish (its worker stopped)",
            )
        ).rowcount
    return AttemptStart.GAVE_UP if gave_up else AttemptStart.LOST


def mark_delivered(conn: sa.Connection, message_id: int, *, worker_id: str, now: datetime) -> bool:
    """Record that the receiver accepted the message; commits.

    Recorded whoever holds the lease now: if this worker's lease ran out mid-send, the receiver still has the
    message, and a second worker that has not started sending it yet then never will.

    Returns
    -------
    bool
        ``False`` when it was already recorded as delivered (by another worker that sent it too).
    """
    with _own_transaction(conn):
        return bool(
            conn.execute(
                outbox.update()
                .where(outbox.c.id == message_id, outbox.c.status != OutboxStatus.DELIVERED.value)
                .values(status=OutboxStatus.DELIVERED.value, delivered_at=now, lease_until=None, claimed_by=worker_id)
            ).rowcount
        )


def mark_failed(
    conn: sa.Connection,
    message_id: int,
    *,
    worker_id: str,
    error: str,
    now: datetime,
    policy: RetryPolicy,
    rng: UniformSource,
    permanent: bool = False,
    retry_after: float | None = None,
) -> OutboxStatus | None:
    """Record a failed attempt: ``retry`` after a back-off, or ``dead`` when permanent or out of attempts; commits.

    Parameters
    ----------
    conn : Connection
        With no transaction open.
    message_id, worker_id
        The row, held by this worker (see :func:`start_attempt`).
    error : str
        What went wrong, one line, without credentials (stored in ``last_error``).
    now : datetime
        The back-off starts now.
    policy : RetryPolicy
        Attempts and back-off (``delivery`` settings).
    rng : UniformSource
        Jitter of the back-off (one draw per retry).
    permanent : bool
        The receiver refused this message for good (e.g. HTTP 400, SMTP 550): dead at once.
    retry_after : float, optional
        Seconds the receiver asked to wait (honoured up to the back-off cap).

    Returns
    -------
    OutboxStatus or None
        ``RETRY`` or ``DEAD``; ``None`` when the worker no longer holds the row (nothing was changed).
    """
    with _own_transaction(conn):
        attempts = conn.execute(sa.select(outbox.c.attempts).where(_held(message_id, worker_id))).scalar()
        if attempts is None:
            return None
        dead = permanent or policy.gives_up_after(attempts)
        values: dict[str, Any] = {"lease_until": None, "claimed_by": None, "last_error": one_line(error)}
        if dead:
            values["status"] = OutboxStatus.DEAD.value
        else:
            wait = policy.delay(max(attempts, 1), rng, retry_after=retry_after)
            values.update(status=OutboxStatus.RETRY.value, next_attempt_at=now + timedelta(seconds=wait))
        conn.execute(outbox.update().where(_held(message_id, worker_id)).values(**values))
    return OutboxStatus.DEAD if dead else OutboxStatus.RETRY


def release(conn: sa.Connection, message_ids: Sequence[int], *, worker_id: str, now: datetime) -> int:
    """Give back claimed rows this worker has not started (a graceful stop); due again at once; commits.

    Returns
    -------
    int
        Rows released (``pending`` if never attempted, else ``retry``).
    """
    if not message_ids:
        return 0
    with _own_transaction(conn):
        return conn.execute(
            outbox.update()
            .where(
                outbox.c.id.in_(list(message_ids)),
                outbox.c.claimed_by == worker_id,
                outbox.c.status == OutboxStatus.DELIVERING.value,
            )
            .values(
                status=sa.case((outbox.c.attempts == 0, OutboxStatus.PENDING.value), else_=OutboxStatus.RETRY.value),
                next_attempt_at=now,
                lease_until=None,
                claimed_by=None,
            )
        ).rowcount


def counts_by_status(conn: sa.Connection) -> dict[OutboxStatus, int]:
    """Messages per status, every status present (zero when none); in the caller's transaction."""
    found = dict(conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all())
    return {status: int(found.get(status.value, 0)) for status in OutboxStatus}
