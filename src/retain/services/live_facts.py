"""Live facts: ``accept_facts`` validates posted facts into the inbox; ``flush_inbox`` moves them into the lake.

**Accepting.** Posted objects are checked by the same contract as a file (:mod:`retain.ingest.live_rows`): a fact
accepted live is accepted from a file and vice versa, with the same normalised values. Accepted facts are stored
in the state database's ``fact_inbox`` in one transaction, as canonical JSON. A fact's idempotency key is the
digest of its canonical row — its table key (``order_id`` …; for an event without id the id derived as file ingest
derives it) *and* its values: posting the same fact again changes nothing (a ``duplicate``), while a new version
of the same key (an order later refunded, a subscription period that ended) is a new fact that, once flushed,
replaces the old one exactly as a later file batch does.

**Flushing.** Under the workspace's ingest lock (the one file ingests take, so flushes and ingests never
interleave, on one host or — with PostgreSQL advisory locks — several), per table:

1. one transaction starts an ingest run (source ``inbox:<sources>``) and *claims* the table's pending facts;
2. the claimed facts are written, in received order (the inbox id is the batch's row number, so the later version
   of a key wins within the batch), as one lake batch, published atomically;
3. one transaction finishes the run and marks the facts flushed.

A process killed after 1 leaves a claim; the next flush first closes the dead run (``committed`` if its batch was
published, else ``failed`` — :meth:`~retain.workspace.Workspace.recover`) and settles the claims by it: rows of a
committed run are marked flushed (their batch is in the lake; nothing is written twice), others are released and
flushed again. No row is lost, none is written twice. Should rows ever be written twice all the same, the lake
keeps the latest row per key and the marts do not change (tested).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pyarrow as pa

from retain.automation.runner import RunReport
from retain.automation.triggers import TriggerKind
from retain.contract.canonical_json import decode_rows, encode_rows, row_digest
from retain.contract.tables import TABLES, TableSpec, table_spec
from retain.contract.validate import ROW_COLUMN
from retain.errors import InputError
from retain.ingest.live_rows import check_posted
from retain.lake import BatchWriter, make_batch_id
from retain.services.playbook_run import load_workspace_playbooks, run_playbooks
from retain.state.inbox import (
    NewFact,
    claim_pending,
    claimed_facts,
    insert_facts,
    mark_flushed,
    pending_counts,
    pending_summary,
    release_claims,
    settle_claims,
)
from retain.state.locks import LockName
from retain.state.runs import finish_run, start_run
from retain.state.tables import RunStatus
from retain.workspace import Workspace

__all__ = [
    "MAX_FACTS_PER_CALL",
    "AcceptResult",
    "FactOutcome",
    "FactProblem",
    "FactStatus",
    "FiredFlush",
    "FlushProgress",
    "FlushResult",
    "TableFlush",
    "accept_facts",
    "flush_and_fire",
    "flush_inbox",
    "pending_facts",
]

MAX_FACTS_PER_CALL = 10_000
"""Most facts one call accepts; a bigger batch is a file to ingest (or several calls)."""

_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PAGE_ROWS = 10_000

FlushProgress = Callable[[str, int, int], None]
"""``progress(table, rows written, rows claimed)``: after each page of a table's batch."""


class FactStatus(StrEnum):
    ACCEPTED = "accepted"
    """Stored in the inbox; in the lake after the next flush."""
    DUPLICATE = "duplicate"
    """The same fact (same key, same values) was posted before, or earlier in this call: nothing changed."""
    REJECTED = "rejected"
    """The contract refused it; ``problems`` says why."""


@dataclass(frozen=True)
class FactProblem:
    """One reason a fact was rejected: the column, what was expected and what was found."""

    column: str
    reason: str
    expected: str
    found: str | None


@dataclass(frozen=True)
class FactOutcome:
    """What became of one posted fact (``index``: its position in the call, from 0)."""

    index: int
    status: FactStatus
    key: dict[str, str] | None = None
    """The fact's table key (``{"order_id": "o1"}``), for accepted and duplicate facts."""
    problems: tuple[FactProblem, ...] = ()


@dataclass(frozen=True)
class AcceptResult:
    """Per posted fact: accepted, duplicate or rejected (with every problem found)."""

    table: str
    facts: tuple[FactOutcome, ...]

    def _count(self, status: FactStatus) -> int:
        return sum(1 for f in self.facts if f.status is status)

    @property
    def accepted(self) -> int:
        return self._count(FactStatus.ACCEPTED)

    @property
    def duplicates(self) -> int:
        return self._count(FactStatus.DUPLICATE)

    @property
    def rejected(self) -> int:
        return self._count(FactStatus.REJECTED)


def _problems(rejects: pa.Table) -> dict[int, tuple[FactProblem, ...]]:
    found: dict[int, list[FactProblem]] = {}
    for row in rejects.to_pylist():
        problem = FactProblem(row["column"], row["reason"], row["message"], row["value"])
        found.setdefault(row["source_row"], []).append(problem)
    return {index: tuple(problems) for index, problems in found.items()}


def _key_text(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def accept_facts(
    ws: Workspace, table: str, rows: Sequence[object], *, source: str = "api", keep_extra: bool = True
) -> AcceptResult:
    """Validate posted facts for ``table`` and store the valid ones in the inbox, in one transaction.

    Parameters
    ----------
    ws
        The workspace.
    table
        A canonical table (customers, orders, subscriptions, events, tickets, feedback).
    rows
        The posted JSON values, one per fact (each should be an object with the table's columns).
    source
        Where they came from (``api``, ``stripe``, ``shopify`` …): lower-case, at most 32 characters.
    keep_extra
        Keep keys that are not columns in the table's extras column (``attributes``, ``properties``) when it has
        one; ``False`` rejects them.

    Raises
    ------
    InputError
        Unknown table or source, or more than ``MAX_FACTS_PER_CALL`` facts.
    """
    spec = table_spec(table)
    if not _SOURCE.fullmatch(source):
        raise InputError(f"source {source!r}: expected lower-case letters, digits, - and _ (at most 32), e.g. api.")
    if len(rows) > MAX_FACTS_PER_CALL:
        raise InputError(
            f"{len(rows):,} facts in one call; at most {MAX_FACTS_PER_CALL:,}. Split them, or write a file and "
            f"`retain ingest {spec.name}` it."
        )
    checked = check_posted(spec, rows, keep_extra=keep_extra)
    payloads = encode_rows(spec, checked.valid)
    positions = checked.valid.column(ROW_COLUMN).to_pylist()
    keys = checked.valid.select(list(spec.key)).to_pylist()
    facts = [NewFact(str(spec.name), row_digest(p), p) for p in payloads]
    with ws.transaction() as connection:
        inserted = insert_facts(connection, facts, source=source, received_at=ws.clock.now())
    outcomes: dict[int, FactOutcome] = {
        index: FactOutcome(index, FactStatus.REJECTED, problems=problems)
        for index, problems in _problems(checked.rejects).items()
    }
    first: set[str] = set()
    for index, fact, key in zip(positions, facts, keys, strict=True):
        new = (fact.table, fact.key) in inserted and fact.key not in first
        first.add(fact.key)
        status = FactStatus.ACCEPTED if new else FactStatus.DUPLICATE
        outcomes[index] = FactOutcome(index, status, key={k: _key_text(v) for k, v in key.items()})
    return AcceptResult(str(spec.name), tuple(outcomes[i] for i in range(len(rows))))


def pending_facts(ws: Workspace) -> dict[str, int]:
    """Table → facts waiting in the inbox for a flush (what a server compares with ``[inbox] flush_rows``)."""
    with ws.connect() as connection:
        return pending_counts(connection)


@dataclass(frozen=True)
class TableFlush:
    """One table's flush: the rows moved into one lake batch by one ingest run."""

    table: str
    rows: int
    run_id: str
    batch_id: str
    batch_path: Path | None
    source: str


@dataclass(frozen=True)
class FlushResult:
    """What a flush did: a batch per table with pending facts, and the claims of dead flushes it settled."""

    tables: tuple[TableFlush, ...]
    recovered: int = 0
    """Rows a killed flush had already written to the lake, now marked flushed."""
    released: int = 0
    """Rows a killed flush had claimed but not written, flushed again by this one."""

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _tables(tables: Sequence[str] | None) -> list[TableSpec]:
    if not tables:
        return list(TABLES.values())
    chosen = {table_spec(t).name for t in tables}
    return [spec for name, spec in TABLES.items() if name in chosen]


def _flush_table(ws: Workspace, spec: TableSpec, progress: FlushProgress | None) -> TableFlush | None:
    name = str(spec.name)
    with ws.transaction() as connection:
        pending = pending_summary(connection, name)
        if not pending.rows or pending.last_id is None:
            return None
        # Unique per attempt: a failed attempt's fingerprint never matches a later batch.
        recipe = f"inbox:{name}:{pending.first_id}-{pending.last_id}:{uuid.uuid4()}"
        fingerprint = hashlib.sha256(recipe.encode()).hexdigest()
        source = "inbox:" + "+".join(pending.sources)
        run_id = start_run(connection, table=name, source=source, fingerprint=fingerprint, clock=ws.clock)
        claimed = claim_pending(connection, name, run_id=run_id, last_id=pending.last_id)
    batch_id = make_batch_id(ws.clock.now(), fingerprint)
    writer = BatchWriter(ws.lake, spec, batch_id)
    written = 0
    try:
        after = 0
        while page := _page(ws, run_id, after):
            rows = decode_rows(spec, [f.payload for f in page])
            writer.write(rows.append_column(ROW_COLUMN, pa.array([f.id for f in page], pa.int64())))
            after, written = page[-1].id, written + len(page)
            if progress:
                progress(name, written, claimed)
        metadata = {
            "table": name,
            "source": source,
            "fingerprint": fingerprint,
            "rows_accepted": written,
            "rows_rejected": 0,
            "ingested_at": ws.clock.now().isoformat(),
        }
        batch_path, _ = writer.commit(metadata)
    except BaseException:
        writer.abort()
        with contextlib.suppress(Exception), ws.transaction() as connection:  # else the next flush settles it
            release_claims(connection, run_id)
            finish_run(
                connection,
                run_id,
                status=RunStatus.FAILED,
                rows_read=0,
                rows_accepted=0,
                rows_rejected=0,
                batch_path=None,
                rejects_path=None,
                error="the flush failed before its batch was committed; the facts stay in the inbox",
                clock=ws.clock,
            )
        raise
    with ws.transaction() as connection:
        finish_run(
            connection,
            run_id,
            status=RunStatus.COMMITTED,
            rows_read=claimed,
            rows_accepted=written,
            rows_rejected=0,
            batch_path=None if batch_path is None else str(batch_path),
            rejects_path=None,
            clock=ws.clock,
        )
        mark_flushed(connection, run_id, at=ws.clock.now())
    return TableFlush(name, written, run_id, batch_id, batch_path, source)


def _page(ws: Workspace, run_id: str, after: int) -> list:
    with ws.connect() as connection:
        return claimed_facts(connection, run_id, after_id=after, limit=_PAGE_ROWS)


def flush_inbox(
    ws: Workspace, *, tables: Sequence[str] | None = None, progress: FlushProgress | None = None, wait: float = 60.0
) -> FlushResult:
    """Move the inbox's pending facts into the lake: one batch and one ingest run per table that has some.

    Parameters
    ----------
    ws
        The workspace.
    tables
        Only these canonical tables (default: every one).
    progress
        Told the rows written of each table as its batch is written.
    wait
        Seconds to wait for another flush or ingest of this workspace to finish.

    Raises
    ------
    InputError
        An unknown table name.
    ConflictError
        Another flush or ingest still holds the workspace's ingest lock after ``wait`` seconds.
    """
    chosen = _tables(tables)
    busy = f"Another flush or ingest is writing to {ws.path} after {wait:g} s; wait for it to finish and retry."
    with ws.locks.hold(LockName.INGEST, busy=busy, wait=wait):
        ws.recover()
        with ws.transaction() as connection:
            recovered, released = settle_claims(connection, at=ws.clock.now())
        flushed = [flush for spec in chosen if (flush := _flush_table(ws, spec, progress)) is not None]
    return FlushResult(tuple(flushed), recovered, released)


@dataclass(frozen=True)
class FiredFlush:
    """A flush, and the run of the event-triggered playbooks after it (``None`` when none ran)."""

    flush: FlushResult
    playbooks: RunReport | None = None
    names: tuple[str, ...] = field(default=())
    """The playbooks that ran: the enabled ones with an ``event`` trigger."""


def flush_and_fire(
    ws: Workspace, *, tables: Sequence[str] | None = None, progress: FlushProgress | None = None, wait: float = 60.0
) -> FiredFlush:
    """Flush the inbox, then — when events were flushed — run the enabled playbooks whose trigger is ``event``.

    The playbooks read the lake as it is after the flush, at the workspace clock's now, so an event posted a
    moment ago (``payment_failed`` …) enrols its customer without waiting for a ``retain refresh``. Raises what
    :func:`flush_inbox` and :func:`~retain.services.playbook_run.run_playbooks` raise.
    """
    flushed = flush_inbox(ws, tables=tables, progress=progress, wait=wait)
    if not any(t.table == "events" and t.rows for t in flushed.tables):
        return FiredFlush(flushed)
    names = tuple(
        p.name for p in load_workspace_playbooks(ws) if p.spec.enabled and p.spec.trigger.kind is TriggerKind.EVENT
    )
    if not names:
        return FiredFlush(flushed)
    return FiredFlush(flushed, run_playbooks(ws, names=list(names), wait=wait), names)
