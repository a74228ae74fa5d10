"""Repository functions for ``fact_inbox``: facts received live, waiting to be flushed into lake batches.

A row is *pending* (``ingest_run_id`` and ``flushed_at`` empty), *claimed* by a flush (``ingest_run_id`` set,
``flushed_at`` empty: its batch is being written) or *flushed* (both set). Claiming before writing is what makes a
flush crash-safe: after a crash, a claim whose ingest run committed (its batch is in the lake) is marked flushed,
any other claim is released, so no row is lost and none is written twice (:func:`settle_claims`).

Each function takes an open ``Connection`` and runs inside the caller's transaction; the service decides what
commits together. Works unchanged on SQLite and PostgreSQL (``INSERT … ON CONFLICT DO NOTHING RETURNING``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from retain.state.tables import RunStatus, fact_inbox, ingest_runs

__all__ = [
    "InboxFact",
    "NewFact",
    "PendingSummary",
    "claim_pending",
    "claimed_facts",
    "insert_facts",
    "mark_flushed",
    "pending_counts",
    "pending_facts",
    "pending_summary",
    "release_claims",
    "settle_claims",
]

_INSERT_ROWS = 500
"""Rows per INSERT statement: 7 parameters each stays far below SQLite's 32,766 bound parameters."""


@dataclass(frozen=True)
class NewFact:
    """A validated fact to store: its table, idempotency key and canonical row as a JSON object."""

    table: str
    key: str
    payload: str


@dataclass(frozen=True)
class InboxFact:
    """One row of ``fact_inbox``, detached from any session."""

    id: int
    table_name: str
    idempotency_key: str
    payload: str
    source: str
    received_at: datetime
    flushed_at: datetime | None
    ingest_run_id: str | None


@dataclass(frozen=True)
class PendingSummary:
    """The pending facts of one table: how many, the id range and the sources they came from."""

    rows: int
    first_id: int | None
    last_id: int | None
    sources: tuple[str, ...]


def _insert(connection: sa.Connection) -> type[sqlite.Insert] | type[postgresql.Insert]:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert  # type: ignore[return-value]


def insert_facts(
    connection: sa.Connection, facts: Sequence[NewFact], *, source: str, received_at: datetime
) -> set[tuple[str, str]]:
    """Insert the facts whose ``(table, key)`` the inbox does not hold yet; returns the pairs inserted.

    A fact whose pair exists (posted before, or earlier in ``facts``) is not inserted: the caller counts it as a
    duplicate. Safe against concurrent inserts of the same pair (the unique constraint decides, nothing fails).
    """
    inserted: set[tuple[str, str]] = set()
    first: dict[tuple[str, str], NewFact] = {}
    for fact in facts:
        first.setdefault((fact.table, fact.key), fact)  # a pair repeated within ``facts`` is stored once
    unique = list(first.values())
    insert = _insert(connection)
    for start in range(0, len(unique), _INSERT_ROWS):
        part = unique[start : start + _INSERT_ROWS]
        statement = (
            insert(fact_inbox)
            .values(
                [
                    {
                        "table_name": f.table,
                        "idempotency_key": f.key,
                        "payload": f.payload,
                        "source": source,
                        "received_at": received_at,
                    }
                    for f in part
                ]
            )
            .on_conflict_do_nothing(index_elements=["table_name", "idempotency_key"])
            .returning(fact_inbox.c.table_name, fact_inbox.c.idempotency_key)
        )
        inserted.update((row.table_name, row.idempotency_key) for row in connection.execute(statement))
    return inserted


def _pending(table: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        fact_inbox.c.table_name == table, fact_inbox.c.flushed_at.is_(None), fact_inbox.c.ingest_run_id.is_(None)
    )


def pending_counts(connection: sa.Connection) -> dict[str, int]:
    """Table → facts waiting to be flushed (tables without any are left out); what a server's flush_rows reads."""
    query = (
        sa.select(fact_inbox.c.table_name, sa.func.count())
        .where(fact_inbox.c.flushed_at.is_(None))
        .group_by(fact_inbox.c.table_name)
    )
    return {name: count for name, count in connection.execute(query)}


def pending_summary(connection: sa.Connection, table: str) -> PendingSummary:
    """How many facts of ``table`` wait (not claimed by a flush), their id range and sources."""
    rows, first, last = connection.execute(
        sa.select(sa.func.count(), sa.func.min(fact_inbox.c.id), sa.func.max(fact_inbox.c.id)).where(_pending(table))
    ).one()
    sources = connection.execute(
        sa.select(fact_inbox.c.source).where(_pending(table)).distinct().order_by(fact_inbox.c.source)
    ).scalars()
    return PendingSummary(rows, first, last, tuple(sources))


def pending_facts(connection: sa.Connection, table: str, *, limit: int = 1000) -> list[InboxFact]:
    """The oldest pending facts of ``table``, in id (= received) order."""
    query = sa.select(fact_inbox).where(_pending(table)).order_by(fact_inbox.c.id).limit(limit)
    return [InboxFact(**row._asdict()) for row in connection.execute(query)]


def claim_pending(connection: sa.Connection, table: str, *, run_id: str, last_id: int) -> int:
    """Claim every pending fact of ``table`` up to id ``last_id`` for ingest run ``run_id``; returns how many.

    Only pending rows are claimed (a conditional update): two flushes racing cannot claim the same row.
    """
    result = connection.execute(
        fact_inbox.update().where(_pending(table), fact_inbox.c.id <= last_id).values(ingest_run_id=run_id)
    )
    return result.rowcount


def claimed_facts(connection: sa.Connection, run_id: str, *, after_id: int = 0, limit: int = 10_000) -> list[InboxFact]:
    """A page of the facts ``run_id`` claimed and has not flushed, in id order, with ids above ``after_id``."""
    query = (
        sa.select(fact_inbox)
        .where(fact_inbox.c.ingest_run_id == run_id, fact_inbox.c.flushed_at.is_(None), fact_inbox.c.id > after_id)
        .order_by(fact_inbox.c.id)
        .limit(limit)
    )
    return [InboxFact(**row._asdict()) for row in connection.execute(query)]


def mark_flushed(connection: sa.Connection, run_id: str, *, at: datetime) -> int:
    """Mark every fact claimed by ``run_id`` as flushed at ``at`` (its batch is committed); returns how many."""
    result = connection.execute(
        fact_inbox.update()
        .where(fact_inbox.c.ingest_run_id == run_id, fact_inbox.c.flushed_at.is_(None))
        .values(flushed_at=at)
    )
    return result.rowcount


def release_claims(connection: sa.Connection, run_id: str) -> int:
    """Give the facts ``run_id`` claimed and did not flush back to the pending ones; returns how many."""
    result = connection.execute(
        fact_inbox.update()
        .where(fact_inbox.c.ingest_run_id == run_id, fact_inbox.c.flushed_at.is_(None))
        .values(ingest_run_id=None)
    )
    return result.rowcount


def settle_claims(connection: sa.Connection, *, at: datetime) -> tuple[int, int]:
    """Finish the claims of flushes that died: (rows marked flushed, rows released).

    A claim whose ingest run is ``committed`` had its batch published, so its rows are flushed; any other claim
    (run failed, or missing) is released to be flushed again. Call it only while no flush is in progress (under
    the workspace's ingest lock, after :meth:`~retain.workspace.Workspace.recover` closed the runs of dead
    processes): a live flush's claim would otherwise be released under it.
    """
    committed = sa.select(ingest_runs.c.id).where(ingest_runs.c.status == RunStatus.COMMITTED.value)
    claimed = sa.and_(fact_inbox.c.flushed_at.is_(None), fact_inbox.c.ingest_run_id.is_not(None))
    flushed = connection.execute(
        fact_inbox.update().where(claimed, fact_inbox.c.ingest_run_id.in_(committed)).values(flushed_at=at)
    ).rowcount
    released = connection.execute(
        fact_inbox.update().where(claimed, fact_inbox.c.ingest_run_id.not_in(committed)).values(ingest_run_id=None)
    ).rowcount
    return flushed, released
