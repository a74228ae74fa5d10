"""``export_enrolments`` and ``export_steps``: copy what the runner decided into the lake, where the results and
the marts read it.

The runner records enrolments in the state database (unique per playbook, customer and trigger key, under a
transaction). What a playbook achieved is an Ibis query over the lake (:mod:`retain.automation.outcomes`), so the
enrolments are also written, as one validated batch per run, into the ``playbook_enrolments`` system table
(:mod:`retain.contract.system_tables`), and every step's outcome (enqueued, held out, suppressed with its reason,
skipped, done) into ``playbook_messages``. Only rows the lake lacks are written, so running it again after a
crash, or twice, writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import sqlalchemy as sa

from retain.automation.outbox import message_key
from retain.automation.spec import GoalSpec
from retain.contract.system_tables import SYSTEM_TABLES, SystemTableName
from retain.state.tables import playbook_enrolments, playbook_steps
from retain.workspace import Workspace

__all__ = ["export_enrolments", "export_steps"]

_KEY = ("playbook", "customer_id", "trigger_key")


def export_enrolments(ws: Workspace, goals: Mapping[str, GoalSpec]) -> int:
    """Write the enrolments of the state database that the lake does not hold yet; returns how many.

    ``goals`` gives each playbook's goal (metric and window), recorded with its enrolments; enrolments of a
    playbook without a goal here (its file was removed) wait until it is back.
    """
    spec = SYSTEM_TABLES[SystemTableName.PLAYBOOK_ENROLMENTS]
    facts = ws.facts()
    in_lake = facts.backend.to_pyarrow(facts.system_table(SystemTableName.PLAYBOOK_ENROLMENTS).select(*_KEY))
    known = set(zip(*(in_lake.column(k).to_pylist() for k in _KEY), strict=True))
    t = playbook_enrolments
    with ws.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.id)).mappings().all()
    new = [
        r for r in rows if (r["playbook"], r["customer_id"], r["trigger_key"]) not in known and r["playbook"] in goals
    ]
    if not new:
        return 0
    table = pa.Table.from_pylist(
        [
            {
                "playbook": row["playbook"],
                "playbook_version": row["playbook_version"],
                "customer_id": row["customer_id"],
                "trigger_key": row["trigger_key"],
                "arm": str(row["arm"]),
                "enrolled_at": row["enrolled_at"],
                "goal_metric": str(goals[row["playbook"]].metric),
                "goal_window_days": goals[row["playbook"]].window_days,
                "holdout_share": row["holdout_share"],
            }
            for row in new
        ],
        schema=spec.arrow_schema,
    )
    ws.ingest(SystemTableName.PLAYBOOK_ENROLMENTS, table)
    return len(new)


def export_steps(ws: Workspace) -> int:
    """Write the step outcomes of the state database that the lake's ``playbook_messages`` lacks; returns how many.

    A step without an outbox key (a task, a tag, one that was suppressed before it had one) is keyed like the
    outbox would key it, so every step has one stable key.
    """
    spec = SYSTEM_TABLES[SystemTableName.PLAYBOOK_MESSAGES]
    facts = ws.facts()
    in_lake = facts.backend.to_pyarrow(facts.system_table(SystemTableName.PLAYBOOK_MESSAGES).select("message_key"))
    known = set(in_lake.column("message_key").to_pylist())
    s, e = playbook_steps, playbook_enrolments
    query = sa.select(
        s.c.step, s.c.action, s.c.status, s.c.reason, s.c.idempotency_key, s.c.at,
        e.c.playbook, e.c.playbook_version, e.c.customer_id, e.c.trigger_key,
    ).join(e, s.c.enrolment_id == e.c.id).order_by(s.c.id)  # fmt: skip
    with ws.connect() as conn:
        rows = conn.execute(query).mappings().all()
    out = []
    for row in rows:
        key = row["idempotency_key"] or message_key(
            row["playbook"], row["playbook_version"], row["step"], row["customer_id"], row["trigger_key"]
        )
        if key in known:
            continue
        out.append(
            {
                "message_key": key,
                "playbook": row["playbook"],
                "customer_id": row["customer_id"],
                "trigger_key": row["trigger_key"],
                "step": row["step"],
                "action": str(row["action"]),
                "status": str(row["status"]),
                "reason": row["reason"],
                "decided_at": row["at"],
            }
        )
    if out:
        ws.ingest(SystemTableName.PLAYBOOK_MESSAGES, pa.Table.from_pylist(out, schema=spec.arrow_schema))
    return len(out)
