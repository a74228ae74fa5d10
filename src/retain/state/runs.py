"""Repository functions for ``ingest_runs``: one row per ingest of one source into one canonical table.

Each function takes an open ``Connection`` and runs inside the caller's transaction (``Workspace.transaction()``):
the service decides what commits together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from retain.clock import Clock, SystemClock
from retain.contract.system_tables import fact_spec
from retain.errors import InputError
from retain.state.tables import RunStatus, ingest_runs

__all__ = [
    "IngestRun",
    "find_committed",
    "finish_run",
    "get_run",
    "list_runs",
    "mark_interrupted",
    "start_run",
]

_FINAL_STATUSES = (RunStatus.COMMITTED, RunStatus.FAILED, RunStatus.SKIPPED)
_SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class IngestRun:
    """One row of ``ingest_runs``, detached from any session."""

    id: str
    table_name: str
    source: str
    fingerprint: str
    status: RunStatus
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    batch_path: str | None
    rejects_path: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def _from_row(cls, row: sa.Row) -> IngestRun:
        values = row._asdict()
        values["status"] = RunStatus(values["status"])
        return cls(**values)


def start_run(
    connection: sa.Connection, *, table: str, source: str, fingerprint: str, clock: Clock = _SYSTEM_CLOCK
) -> str:
    """Record that an ingest of ``source`` into ``table`` has started.

    Parameters
    ----------
    connection : Connection
        Open connection of the state database, inside a transaction.
    table : str
        Canonical table name (``customers``, ``orders``...).
    source : str
        What is read: a file path or URL.
    fingerprint : str
        Content hash of the source; used to detect a file ingested twice.
    clock : Clock
        Gives ``started_at``.

    Returns
    -------
    str
        The new run id (a UUID), status ``running``.
    """
    fact_spec(table)  # raises InputError listing the valid tables
    if not fingerprint:
        raise InputError("fingerprint is empty; pass the content hash of the source.")
    run_id = str(uuid.uuid4())
    connection.execute(
        ingest_runs.insert().values(
            id=run_id,
            table_name=str(table),
            source=str(source),
            fingerprint=fingerprint,
            status=RunStatus.RUNNING.value,
            started_at=clock.now(),
        )
    )
    return run_id


def finish_run(
    connection: sa.Connection,
    run_id: str,
    *,
    status: RunStatus | str,
    rows_read: int,
    rows_accepted: int,
    rows_rejected: int,
    batch_path: str | None,
    rejects_path: str | None,
    error: str | None = None,
    clock: Clock = _SYSTEM_CLOCK,
) -> IngestRun:
    """Close a ``running`` run with its final status and counts.

    Parameters
    ----------
    connection : Connection
        Open connection of the state database, inside a transaction.
    run_id : str
        Id returned by :func:`start_run`.
    status : RunStatus or str
        ``committed``, ``failed`` or ``skipped``.
    rows_read, rows_accepted, rows_rejected : int
        Row counts (>= 0).
    batch_path, rejects_path : str or None
        Lake batch written and rejects file, if any.
    error : str, optional
        Why the run failed.
    clock : Clock
        Gives ``finished_at``.

    Returns
    -------
    IngestRun
        The finished run.

    Raises
    ------
    InputError
        Unknown status or run id, negative counts, or the run is not ``running`` any more.
    """
    try:
        final = RunStatus(status)
    except ValueError:
        final = None
    if final not in _FINAL_STATUSES:
        raise InputError(
            f"Cannot finish ingest run {run_id} with status {status!r}; "
            f"expected one of {', '.join(s.value for s in _FINAL_STATUSES)}."
        )
    counts = {"rows_read": rows_read, "rows_accepted": rows_accepted, "rows_rejected": rows_rejected}
    negative = {name: value for name, value in counts.items() if value < 0}
    if negative:
        raise InputError(f"Row counts must be >= 0; got {negative} for ingest run {run_id}.")
    # Conditional update: a run finishes exactly once, even if two processes race.
    updated = connection.execute(
        ingest_runs.update()
        .where(ingest_runs.c.id == run_id, ingest_runs.c.status == RunStatus.RUNNING.value)
        .values(
            status=final.value,
            **counts,
            batch_path=batch_path,
            rejects_path=rejects_path,
            error=error,
            finished_at=clock.now(),
        )
    )
    if updated.rowcount != 1:
        current = connection.execute(
            sa.select(ingest_runs.c.status).where(ingest_runs.c.id == run_id)
        ).scalar_one_or_none()
        if current is None:
            raise InputError(f"No ingest run with id {run_id!r}; pass an id returned by start_run.")
        raise InputError(f"Ingest run {run_id} is already finished (status {current!r}); it cannot finish twice.")
    row = connection.execute(sa.select(ingest_runs).where(ingest_runs.c.id == run_id)).one()
    return IngestRun._from_row(row)


def get_run(connection: sa.Connection, run_id: str) -> IngestRun | None:
    """The run with id ``run_id``, or ``None``."""
    row = connection.execute(sa.select(ingest_runs).where(ingest_runs.c.id == run_id)).one_or_none()
    return None if row is None else IngestRun._from_row(row)


def list_runs(connection: sa.Connection, table: str | None = None, limit: int = 50) -> list[IngestRun]:
    """The most recent runs first, optionally of one table.

    Parameters
    ----------
    connection : Connection
        Open connection of the state database, inside a transaction.
    table : str, optional
        Only runs into this canonical table.
    limit : int
        At most this many runs (> 0).

    Returns
    -------
    list of IngestRun
        Ordered by ``started_at`` descending (ties by id).
    """
    if limit <= 0:
        raise InputError(f"limit must be > 0; got {limit}.")
    query = sa.select(ingest_runs)
    if table is not None:
        query = query.where(ingest_runs.c.table_name == str(fact_spec(table).name))
    query = query.order_by(ingest_runs.c.started_at.desc(), ingest_runs.c.id.desc()).limit(limit)
    return [IngestRun._from_row(row) for row in connection.execute(query)]


def find_committed(connection: sa.Connection, *, table: str, fingerprint: str) -> IngestRun | None:
    """The earliest committed run of ``fingerprint`` into ``table``, or ``None``: re-ingesting it adds nothing."""
    query = (
        sa.select(ingest_runs)
        .where(
            ingest_runs.c.table_name == str(fact_spec(table).name),
            ingest_runs.c.fingerprint == fingerprint,
            ingest_runs.c.status == RunStatus.COMMITTED.value,
        )
        .order_by(ingest_runs.c.started_at, ingest_runs.c.id)
        .limit(1)
    )
    row = connection.execute(query).one_or_none()
    return None if row is None else IngestRun._from_row(row)


def mark_interrupted(
    connection: sa.Connection, is_committed: Callable[[IngestRun], bool], clock: Clock = _SYSTEM_CLOCK
) -> list[IngestRun]:
    """Close runs left ``running`` by a crashed process.

    A run whose batch reached the lake (``is_committed(run)`` is true: the batch file exists, since batches are
    renamed into place atomically) becomes ``committed``; any other becomes ``failed`` with error
    ``"interrupted"``. Call it only while no ingest is in progress (e.g. under the workspace lock): it cannot
    tell a crashed run from a live one.

    Parameters
    ----------
    connection : Connection
        Open connection of the state database, inside a transaction.
    is_committed : callable
        ``IngestRun -> bool``.
    clock : Clock
        Gives ``finished_at``.

    Returns
    -------
    list of IngestRun
        The runs it closed, as they are now, oldest first.
    """
    leftovers = [
        IngestRun._from_row(row)
        for row in connection.execute(
            sa.select(ingest_runs)
            .where(ingest_runs.c.status == RunStatus.RUNNING.value)
            .order_by(ingest_runs.c.started_at, ingest_runs.c.id)
        )
    ]
    closed = []
    for run in leftovers:
        committed = is_committed(run)
        connection.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == run.id, ingest_runs.c.status == RunStatus.RUNNING.value)
            .values(
                status=(RunStatus.COMMITTED if committed else RunStatus.FAILED).value,
                error=None if committed else "interrupted",
                finished_at=clock.now(),
            )
        )
        row = connection.execute(sa.select(ingest_runs).where(ingest_runs.c.id == run.id)).one()
        closed.append(IngestRun._from_row(row))
    return closed
