"""``retain bench playbooks``: 10 playbooks over N customers and M messages delivered, against bare baselines.

On the prepared workspace (:mod:`retain.bench.playbooks_workspace`: the synthetic company, a churn model, a
refresh at :data:`AS_OF`, the 10 playbooks of :data:`PLAYBOOKS` sending to a webhook channel), each repeat:

1. **run** — :func:`retain.services.playbook_run.run_playbooks` at :data:`AS_OF`, as ``retain playbook run``
   does it: triggers, conditions, re-entry rules, enrolments with their arms, pressure rules (priority
   conflicts, frequency cap, quiet hours, suppression list), steps and outbox rows, then the export of the
   enrolments and step outcomes to the lake. A repeat starts from a **fresh copy of the state database** taken
   after the refresh, with the lake's system tables removed, so every repeat enrols the same customers anew.
2. **triggers** (baseline) — the same playbooks' trigger and condition Ibis expressions, built by the same
   functions the runner calls (``TRIGGERS[kind].evaluate`` on :func:`~retain.services.playbook_run.run_inputs`,
   the conditions compiled over the profile), executed to Arrow on a fresh DuckDB connection; no state written.
3. **inserts** (baseline) — bare SQLAlchemy ``executemany`` inserts, in one transaction, of the rows the run
   wrote to ``playbook_enrolments``, ``playbook_steps`` and ``outbox``, into scratch tables of the same columns,
   unique constraints and indexes in the same state database.
4. **deliver** — :func:`retain.services.delivery.deliver_once` (one worker, one process) delivering the outbox
   to a receiver on loopback (:class:`~retain.bench.receiver.CountingReceiver`). When the run wrote fewer than
   M messages the outbox is first topped up, through the outbox repository (``enqueue``), with copies of the
   run's message bodies under new customers and keys, so that M are delivered (more when the run wrote more).
5. **posts** (baseline) — the same requests (body, headers, signature, computed beforehand) POSTed
   sequentially with the webhook channel's HTTP client (``urllib.request``) to the same receiver; no state DB.
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from retain.bench.analytics_bench import AS_OF
from retain.bench.measure import Measurement, measure, median_of
from retain.bench.playbooks_workspace import (
    CHANNEL,
    CHANNEL_SECRET,
    MODEL_CUSTOMERS,
    PLAYBOOKS,
    PlaybooksWorkspace,
    clear_run_outputs,
    copy_state,
    open_playbooks_workspace,
    prepare_playbooks_workspace,
)
from retain.bench.receiver import CountingReceiver
from retain.errors import InputError
from retain.workspace import Workspace

__all__ = [
    "AS_OF",
    "JOBS",
    "PLAYBOOKS",
    "DeliveryCheck",
    "PlaybookFigures",
    "PlaybooksBenchResult",
    "TriggerRows",
    "inserts_job",
    "posts_job",
    "run_playbooks_bench",
    "top_up_outbox",
    "triggers_job",
]

JOBS = ("run", "triggers", "inserts", "deliver", "posts")
DELIVER_AT = AS_OF + timedelta(days=2)
"""When the worker delivers: after every message of the run is due (quiet hours defer some to the morning)."""
_WRITTEN = ("playbook_enrolments", "playbook_steps", "outbox")
_TOP_UP = "bench_top_up"


@dataclass(frozen=True)
class TriggerRows:
    """What the bare trigger and condition queries of one playbook returned."""

    fired: pa.Table
    """``customer_id, trigger_key, fired_at, detail``: one row per entry the trigger fires."""
    eligible: pa.Table | None
    """``customer_id`` of the profiles meeting the conditions (``None``: the playbook has no conditions)."""

    def not_meeting_conditions(self) -> int:
        """Fired entries whose customer does not meet the conditions."""
        if self.eligible is None:
            return 0
        met = set(self.eligible.column("customer_id").to_pylist())
        return sum(1 for c in self.fired.column("customer_id").to_pylist() if c not in met)


@dataclass(frozen=True)
class PlaybookFigures:
    """One playbook in one run, and what its bare queries returned."""

    name: str
    trigger: str
    fired: int
    entered: int
    held_out: int
    already_enrolled: int
    conditions: int
    reentry: int
    enqueued: int
    done: int
    suppressed: int
    baseline_fired: int
    baseline_not_meeting_conditions: int
    error: str | None = None


@dataclass(frozen=True)
class DeliveryCheck:
    """What one delivery (or bare posting) achieved, counted at the receiver."""

    messages: int
    """Messages due (in the outbox, or requests to make)."""
    delivered: int
    """Delivered as the worker reports it (the bare posts: 2xx answers)."""
    requests: int
    """POSTs the receiver got."""
    distinct_keys: int
    """Distinct ``Idempotency-Key`` values the receiver got."""


@dataclass
class PlaybooksBenchResult:
    """Medians of every job for one size, with what the run did and what the receiver saw."""

    customers: int
    messages: int
    repeats: int
    prepared: PlaybooksWorkspace
    playbooks: list[PlaybookFigures] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)
    """Rows the run wrote, per state table (the inserts baseline writes as many)."""
    run_messages: int = 0
    """Outbox messages the run wrote; the rest of the delivered ones are top-up copies."""
    deliveries: list[DeliveryCheck] = field(default_factory=list)
    posts: list[DeliveryCheck] = field(default_factory=list)
    runs: dict[str, list[Measurement]] = field(default_factory=lambda: {job: [] for job in JOBS})

    @property
    def jobs(self) -> dict[str, Measurement]:
        return {job: median_of(done) for job, done in self.runs.items() if done}

    def ratio(self, job: str, *baselines: str) -> float:
        """``job``'s median seconds ÷ the sum of the baselines' medians (how many times the bare cost)."""
        jobs = self.jobs
        return jobs[job].seconds / sum(jobs[b].seconds for b in baselines)

    def per_second(self, job: str) -> float:
        return self.deliveries[-1].messages / self.jobs[job].seconds


def triggers_job(ws: Workspace, playbooks: list) -> dict[str, TriggerRows]:
    """The trigger and condition expressions of ``playbooks`` at :data:`AS_OF`, executed to Arrow, nothing else."""
    from retain.analytics._segment_compile import compile_predicate
    from retain.automation.triggers import TRIGGERS
    from retain.contract.profile import PROFILE
    from retain.engine import to_arrow
    from retain.services.playbook_run import run_inputs

    facts = ws.facts()
    inputs = run_inputs(ws, facts, AS_OF)
    profile = inputs.trigger.profile
    out = {}
    for playbook in playbooks:
        spec = playbook.spec
        expr = TRIGGERS[spec.trigger.kind].evaluate(inputs.for_playbook(spec), **spec.trigger.params())
        eligible = None
        if spec.conditions is not None and profile is not None:
            predicate = compile_predicate(spec.conditions, PROFILE.types())
            eligible = to_arrow(facts.backend, profile.filter(predicate(profile)).select("customer_id"))
        out[playbook.name] = TriggerRows(to_arrow(facts.backend, expr), eligible)
    return out


def _scratch_copy(table: sa.Table, metadata: sa.MetaData) -> sa.Table:
    """A table named ``bench_scratch_<name>`` with ``table``'s columns, unique constraints and indexes (no keys
    to other tables: bare inserts)."""
    name = f"bench_scratch_{table.name}"
    columns = [
        sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=c.autoincrement)
        for c in table.columns
    ]
    unique = [
        sa.UniqueConstraint(*(c.name for c in u.columns))
        for u in table.constraints
        if isinstance(u, sa.UniqueConstraint)
    ]
    indexes = [sa.Index(f"ix_{name}_{i}", *(c.name for c in index.columns)) for i, index in enumerate(table.indexes)]
    return sa.Table(name, metadata, *columns, *unique, *indexes)


def _written_rows(engine: sa.Engine) -> dict[str, list[dict]]:
    from retain.state.tables import metadata

    with engine.connect() as conn:
        return {
            name: [
                {k: v for k, v in row.items() if k != "id"}
                for row in conn.execute(sa.select(metadata.tables[name])).mappings()
            ]
            for name in _WRITTEN
        }


def inserts_job(engine: sa.Engine, rows: dict[str, list[dict]]) -> dict[str, int]:
    """Insert ``rows`` (per state table) into fresh scratch copies of those tables, in one transaction, with
    ``executemany``; returns the rows inserted per table. The scratch tables are dropped afterwards."""
    from retain.state.tables import metadata

    scratch_metadata = sa.MetaData()
    scratch = {name: _scratch_copy(metadata.tables[name], scratch_metadata) for name in rows}
    scratch_metadata.drop_all(engine)
    scratch_metadata.create_all(engine)
    try:
        inserted = {}
        with engine.begin() as conn:
            for name, values in rows.items():
                if values:
                    conn.execute(scratch[name].insert(), values)
                inserted[name] = len(values)
        return inserted
    finally:
        scratch_metadata.drop_all(engine)


def top_up_outbox(ws: Workspace, messages: int) -> int:
    """Add copies of the outbox's messages (new customer ids and keys, same channel and bodies) until it holds
    ``messages``, through the outbox repository; returns how many were added."""
    from retain.automation.outbox import MessageKind, OutboxMessage, enqueue, message_key
    from retain.state.tables import outbox

    with ws.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        samples = conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id).limit(1000)).scalars().all()
    missing = messages - have
    if missing <= 0:
        return 0
    bodies = [json.loads(p) for p in samples] or [{"event": _TOP_UP, "customer": {}}]
    batch = []
    for i in range(missing):
        customer = f"TOPUP{i:09d}"
        body = dict(bodies[i % len(bodies)])
        body["customer"] = {**body.get("customer", {}), "id": customer}
        batch.append(
            OutboxMessage(
                idempotency_key=message_key(_TOP_UP, "1", 0, customer, _TOP_UP),
                playbook=_TOP_UP,
                playbook_version="1",
                step=0,
                customer_id=customer,
                trigger_key=_TOP_UP,
                channel=CHANNEL,
                kind=MessageKind.WEBHOOK,
                payload=body,
                due_at=AS_OF,
            )
        )
    with ws.transaction() as conn:
        for start in range(0, len(batch), 10_000):
            enqueue(conn, batch[start : start + 10_000], now=AS_OF)
    return missing


def _requests(ws: Workspace, url: str) -> list[urllib.request.Request]:
    """The requests the webhook channel makes for every outbox message at :data:`DELIVER_AT` (signed, keyed)."""
    from retain.automation.channels.webhook import WebhookSender
    from retain.automation.worker import delivery_of
    from retain.settings import WebhookChannel
    from retain.state.tables import outbox

    sender = WebhookSender(CHANNEL, WebhookChannel(kind="webhook", url=url, secret=CHANNEL_SECRET))
    with ws.connect() as conn:
        rows = conn.execute(sa.select(outbox).order_by(outbox.c.id)).mappings().all()
    out = []
    for row in rows:
        delivery = delivery_of(_Row(row))
        out.append(sender.request(delivery, now=DELIVER_AT))
    return out


class _Row:
    """An outbox row as :func:`~retain.automation.worker.delivery_of` reads it."""

    def __init__(self, row: sa.RowMapping):
        from retain.automation.outbox import MessageKind

        self.idempotency_key = row["idempotency_key"]
        self.customer_id = row["customer_id"]
        self.channel = row["channel"]
        self.kind = MessageKind(row["kind"])
        self.payload = json.loads(row["payload"])
        self.playbook = row["playbook"]
        self.step = row["step"]
        self.trigger_key = row["trigger_key"]


def posts_job(requests: list[urllib.request.Request], *, timeout: float = 10.0) -> int:
    """POST every request, one after the other, with a plain ``urllib`` opener; returns the 2xx answers."""
    opener = urllib.request.build_opener()
    ok = 0
    for request in requests:
        with opener.open(request, timeout=timeout) as answer:
            answer.read()
            ok += 200 <= answer.status < 300
    return ok


def _figures(report, rows: dict[str, TriggerRows], playbooks: list) -> list[PlaybookFigures]:
    kinds = {p.name: str(p.spec.trigger.kind) for p in playbooks}
    out = []
    for run in report.playbooks:
        baseline = rows.get(run.name)
        out.append(
            PlaybookFigures(
                name=run.name,
                trigger=kinds[run.name],
                fired=run.fired,
                entered=run.entered,
                held_out=run.entered_holdout,
                already_enrolled=run.already_enrolled,
                conditions=run.not_eligible["conditions"],
                reentry=run.not_eligible["reentry"],
                enqueued=run.enqueued,
                done=run.done,
                suppressed=run.suppressed_total,
                baseline_fired=baseline.fired.num_rows if baseline else 0,
                baseline_not_meeting_conditions=baseline.not_meeting_conditions() if baseline else 0,
                error=run.error,
            )
        )
    return out


def _close(ws: Workspace) -> None:
    ws.state.dispose()
    if "backend" in ws.__dict__:
        ws.backend.disconnect()


def _repeat(
    result: PlaybooksBenchResult,
    prepared: PlaybooksWorkspace,
    scratch: Path,
    receiver: CountingReceiver,
    on_run: Callable[[str, int, Measurement], None],
    index: int,
) -> None:
    from retain.services.delivery import deliver_once
    from retain.services.playbook_run import load_workspace_playbooks, run_playbooks

    clear_run_outputs(prepared)
    state = copy_state(prepared, scratch / f"state-{index}.db")
    ws = open_playbooks_workspace(prepared, state, receiver.url)
    try:
        m, report = measure(lambda: run_playbooks(ws, as_of=AS_OF))
        result.runs["run"].append(m)
        on_run("run", index, m)

        playbooks = [p for p in load_workspace_playbooks(ws) if p.spec.enabled]
        fresh = Workspace(ws.settings)  # a new DuckDB connection, as the run had
        try:
            m, rows = measure(lambda: triggers_job(fresh, playbooks))
        finally:
            _close(fresh)
        result.runs["triggers"].append(m)
        on_run("triggers", index, m)
        result.playbooks = _figures(report, rows, playbooks)

        written = _written_rows(ws.state)
        result.written = {name: len(values) for name, values in written.items()}
        result.run_messages = result.written["outbox"]
        m, _ = measure(lambda: inserts_job(ws.state, written))
        written.clear()
        result.runs["inserts"].append(m)
        on_run("inserts", index, m)

        top_up_outbox(ws, result.messages)
        requests = _requests(ws, receiver.url)
        receiver.reset()
        m, delivered = measure(lambda: deliver_once(ws, worker_id="bench", now=DELIVER_AT))
        result.runs["deliver"].append(m)
        result.deliveries.append(
            DeliveryCheck(len(requests), delivered.delivered, receiver.requests, receiver.distinct_keys)
        )
        on_run("deliver", index, m)

        receiver.reset()
        m, ok = measure(lambda: posts_job(requests))
        result.runs["posts"].append(m)
        result.posts.append(DeliveryCheck(len(requests), ok, receiver.requests, receiver.distinct_keys))
        on_run("posts", index, m)
    finally:
        _close(ws)
        state.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            state.with_name(state.name + suffix).unlink(missing_ok=True)
        clear_run_outputs(prepared)


def _warm_up(prepared: PlaybooksWorkspace, scratch: Path, url: str) -> None:
    """Run the bare queries once, untimed: the first timed job then pays neither Python's imports (the DuckDB
    backend, the services) nor a cold page cache for the lake files, which every job reads alike."""
    import retain.services.delivery
    import retain.services.playbook_run  # noqa: F401
    from retain.services.playbook_run import load_workspace_playbooks

    state = copy_state(prepared, scratch / "warm-up.db")
    ws = open_playbooks_workspace(prepared, state, url)
    try:
        triggers_job(ws, [p for p in load_workspace_playbooks(ws) if p.spec.enabled])
    finally:
        _close(ws)
        state.unlink(missing_ok=True)


def run_playbooks_bench(
    customers: int,
    *,
    messages: int = 100_000,
    repeats: int = 3,
    work_dir: Path | None = None,
    seed: int = 0,
    model_customers: int = MODEL_CUSTOMERS,
    on_step: Callable[[str], None] | None = None,
    on_run: Callable[[str, int, Measurement], None] | None = None,
) -> PlaybooksBenchResult:
    """Prepare (cached) the workspace of ``customers`` customers, then run the five jobs ``repeats`` times.

    Raises
    ------
    InputError
        ``messages`` or ``repeats`` is below 1.
    """
    if messages < 1 or repeats < 1:
        raise InputError(f"--messages and --repeats must be at least 1, got {messages} and {repeats}.")
    work_dir = Path(work_dir or Path(tempfile.gettempdir()) / "retain-bench")
    prepared = prepare_playbooks_workspace(
        customers, work_dir, seed=seed, model_customers=model_customers, on_step=on_step
    )
    result = PlaybooksBenchResult(customers, messages, repeats, prepared)
    with CountingReceiver() as receiver, tempfile.TemporaryDirectory(prefix="retain-bench-state-") as scratch:
        _warm_up(prepared, Path(scratch), receiver.url)
        for index in range(repeats):
            _repeat(result, prepared, Path(scratch), receiver, on_run or (lambda *_: None), index)
    return result
