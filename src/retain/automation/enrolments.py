"""Repository of playbook enrolments and their steps (``playbook_enrolments``, ``playbook_steps``).

An enrolment is one customer entering one playbook for one trigger key; the unique (playbook, customer, trigger
key) makes :func:`enrol` idempotent — a second run, or a second runner, inserts nothing new. Each step of an
enrolment gets exactly one row in ``playbook_steps`` when it is decided (unique (enrolment, step)), whatever the
outcome: ``enqueued``, ``done``, ``held_out``, ``suppressed``, ``skipped`` or ``failed``.

Every function runs in the caller's transaction: the runner writes a playbook's enrolments, step rows and outbox
rows together, so a crash leaves either all of them or none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from retain.state.tables import Arm, EnrolmentStatus, StepStatus, playbook_enrolments, playbook_steps

__all__ = [
    "Enrolment",
    "NewEnrolment",
    "StepRecord",
    "advance",
    "due_enrolments",
    "enrol",
    "enrolment_counts",
    "enrolment_history",
    "recent_sends",
    "record_steps",
    "steps_of",
]

_CHUNK = 500
"""Ids per ``IN (…)`` list (SQLite allows 32k parameters; PostgreSQL far more, but plans stay small)."""


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


@dataclass(frozen=True)
class NewEnrolment:
    """An enrolment to write: who entered which playbook, for which trigger key, in which arm."""

    playbook: str
    playbook_version: str
    customer_id: str
    trigger_key: str
    arm: Arm
    salt: str
    holdout_share: float
    fired_at: datetime
    detail: Mapping[str, Any]
    next_step_due_at: datetime
    """When its first step is due (the enrolment time plus the first step's delay)."""


@dataclass(frozen=True)
class Enrolment:
    """A stored enrolment."""

    id: int
    playbook: str
    playbook_version: str
    customer_id: str
    trigger_key: str
    arm: Arm
    fired_at: datetime
    enrolled_at: datetime
    detail: dict[str, Any]
    status: EnrolmentStatus
    next_step: int | None
    next_step_due_at: datetime | None

    @classmethod
    def _from_row(cls, row: sa.Row) -> Enrolment:
        return cls(
            id=row.id,
            playbook=row.playbook,
            playbook_version=row.playbook_version,
            customer_id=row.customer_id,
            trigger_key=row.trigger_key,
            arm=Arm(row.arm),
            fired_at=row.fired_at,
            enrolled_at=row.enrolled_at,
            detail=json.loads(row.detail),
            status=EnrolmentStatus(row.status),
            next_step=row.next_step,
            next_step_due_at=row.next_step_due_at,
        )


@dataclass(frozen=True)
class StepRecord:
    """The outcome of one step of one enrolment."""

    enrolment_id: int
    step: int
    action: str
    status: StepStatus
    at: datetime
    reason: str | None = None
    idempotency_key: str | None = None
    send_at: datetime | None = None


def enrolment_history(
    conn: sa.Connection, playbook: str, customer_ids: Iterable[str]
) -> dict[str, list[tuple[str, datetime]]]:
    """Every earlier enrolment of these customers in ``playbook``: customer → [(trigger key, enrolled_at)]."""
    ids = sorted(set(customer_ids))
    found: dict[str, list[tuple[str, datetime]]] = {}
    t = playbook_enrolments
    for chunk in _chunks(ids):
        rows = conn.execute(
            sa.select(t.c.customer_id, t.c.trigger_key, t.c.enrolled_at).where(
                t.c.playbook == playbook, t.c.customer_id.in_(chunk)
            )
        )
        for customer_id, trigger_key, enrolled_at in rows:
            found.setdefault(customer_id, []).append((trigger_key, enrolled_at))
    return found


def enrol(
    conn: sa.Connection, enrolments: Sequence[NewEnrolment], *, enrolled_at: datetime, now: datetime
) -> dict[tuple[str, str], int]:
    """Insert ``enrolments`` (status ``active``, next step 0), skipping any already there.

    Parameters
    ----------
    conn
        In the caller's transaction.
    enrolments
        The new enrolments of one run.
    enrolled_at
        The run's ``as_of`` (step delays count from it).
    now
        The wall-clock time recorded as ``created_at``.

    Returns
    -------
    dict
        ``(customer_id, trigger_key) → id`` of the rows actually inserted; an enrolment whose (playbook,
        customer, trigger key) exists already is left alone and absent here.
    """
    rows = [
        {
            "playbook": e.playbook,
            "playbook_version": e.playbook_version,
            "customer_id": e.customer_id,
            "trigger_key": e.trigger_key,
            "arm": Arm(e.arm).value,
            "salt": e.salt,
            "holdout_share": float(e.holdout_share),
            "fired_at": e.fired_at,
            "enrolled_at": enrolled_at,
            "detail": json.dumps(dict(e.detail), ensure_ascii=False, sort_keys=True, allow_nan=False, default=str),
            "status": EnrolmentStatus.ACTIVE.value,
            "next_step": 0,
            "next_step_due_at": e.next_step_due_at,
            "created_at": now,
        }
        for e in enrolments
    ]
    if not rows:
        return {}
    t = playbook_enrolments
    statement = (
        _insert(conn, t)
        .on_conflict_do_nothing(index_elements=["playbook", "customer_id", "trigger_key"])
        .returning(t.c.id, t.c.customer_id, t.c.trigger_key)
    )
    return {(row.customer_id, row.trigger_key): row.id for row in conn.execute(statement, rows)}


def due_enrolments(conn: sa.Connection, playbook: str, as_of: datetime) -> list[Enrolment]:
    """The active enrolments of ``playbook`` whose next step is due at ``as_of``, oldest first."""
    t = playbook_enrolments
    rows = conn.execute(
        sa.select(t)
        .where(
            t.c.playbook == playbook,
            t.c.status == EnrolmentStatus.ACTIVE.value,
            t.c.next_step_due_at <= as_of,
        )
        .order_by(t.c.next_step_due_at, t.c.id)
    )
    return [Enrolment._from_row(row) for row in rows]


def record_steps(conn: sa.Connection, steps: Sequence[StepRecord]) -> int:
    """Write the step outcomes; a step already recorded for its enrolment is left as it is. Returns rows written."""
    rows = [
        {
            "enrolment_id": s.enrolment_id,
            "step": s.step,
            "action": str(s.action),
            "status": StepStatus(s.status).value,
            "reason": s.reason,
            "idempotency_key": s.idempotency_key,
            "send_at": s.send_at,
            "at": s.at,
        }
        for s in steps
    ]
    if not rows:
        return 0
    t = playbook_steps
    statement = _insert(conn, t).on_conflict_do_nothing(index_elements=["enrolment_id", "step"]).returning(t.c.id)
    return len(conn.execute(statement, rows).all())


def advance(
    conn: sa.Connection,
    updates: Sequence[tuple[int, EnrolmentStatus, int | None, datetime | None]],
) -> None:
    """Move enrolments on: ``(id, status, next_step, next_step_due_at)`` each (``None`` steps when finished)."""
    if not updates:
        return
    t = playbook_enrolments
    statement = (
        t.update()
        .where(t.c.id == sa.bindparam("_id"))
        .values(
            status=sa.bindparam("_status"),
            next_step=sa.bindparam("_next_step"),
            next_step_due_at=sa.bindparam("_due"),
        )
    )
    conn.execute(
        statement,
        [{"_id": i, "_status": EnrolmentStatus(s).value, "_next_step": n, "_due": d} for i, s, n, d in updates],
    )


def recent_sends(
    conn: sa.Connection,
    *,
    since: datetime,
    actions: Iterable[str],
    statuses: Iterable[StepStatus],
    customer_ids: Iterable[str] | None = None,
) -> list[tuple[str, datetime]]:
    """``(customer_id, send_at)`` of the steps with one of ``actions`` and ``statuses`` sent at or after ``since``
    (later ones too: a message deferred past the quiet hours is already counted), of ``customer_ids`` only when
    given."""
    e, s = playbook_enrolments, playbook_steps
    query = (
        sa.select(e.c.customer_id, s.c.send_at)
        .select_from(s.join(e, s.c.enrolment_id == e.c.id))
        .where(
            s.c.send_at >= since,
            s.c.action.in_([str(a) for a in actions]),
            s.c.status.in_([StepStatus(x).value for x in statuses]),
        )
    )
    if customer_ids is None:
        return [(customer_id, send_at) for customer_id, send_at in conn.execute(query)]
    found: list[tuple[str, datetime]] = []
    for chunk in _chunks(sorted(set(customer_ids))):
        found += [(c, t) for c, t in conn.execute(query.where(e.c.customer_id.in_(chunk)))]
    return found


def steps_of(conn: sa.Connection, enrolment_ids: Iterable[int]) -> dict[int, list[sa.Row]]:
    """The step rows of these enrolments, by enrolment id, in step order."""
    ids = sorted(set(enrolment_ids))
    found: dict[int, list[sa.Row]] = {}
    s = playbook_steps
    for chunk in _chunks(ids):
        for row in conn.execute(sa.select(s).where(s.c.enrolment_id.in_(chunk)).order_by(s.c.enrolment_id, s.c.step)):
            found.setdefault(row.enrolment_id, []).append(row)
    return found


def enrolment_counts(conn: sa.Connection) -> dict[str, dict[Arm, int]]:
    """Enrolments per playbook and arm, over the workspace's whole history (arms without one are absent)."""
    t = playbook_enrolments
    rows = conn.execute(sa.select(t.c.playbook, t.c.arm, sa.func.count()).group_by(t.c.playbook, t.c.arm))
    counts: dict[str, dict[Arm, int]] = {}
    for playbook, arm, count in rows:
        counts.setdefault(playbook, {})[Arm(arm)] = int(count)
    return counts
