"""Fact tables retain writes itself: what its playbooks did (DESIGN.md section 9, "Measured effect").

Enrolments and messages go into the lake next to the canonical tables, through the same validated, atomic batch
writer as an ingest, so the uplift of a playbook is an Ibis query on either engine, and the 360 and the marts can
read them. Users do not ingest them (``retain ingest`` offers only the canonical tables); the playbook runner does.
"""

from __future__ import annotations

from enum import StrEnum

from retain.contract.tables import TABLES, Column, ColumnType, TableName, TableSpec, id_column
from retain.errors import InputError

__all__ = ["SYSTEM_TABLES", "Arm", "SystemTableName", "fact_spec"]


class SystemTableName(StrEnum):
    """The system-written fact tables."""

    PLAYBOOK_ENROLMENTS = "playbook_enrolments"
    PLAYBOOK_MESSAGES = "playbook_messages"


class Arm(StrEnum):
    """The two arms of a playbook's randomised experiment."""

    TREATMENT = "treatment"
    """Enrolled and sent the playbook's messages."""
    HOLDOUT = "holdout"
    """Enrolled and recorded exactly like treated customers, but sent nothing."""


PLAYBOOK_ENROLMENTS = TableSpec(
    name=SystemTableName.PLAYBOOK_ENROLMENTS,  # type: ignore[arg-type]  # a system table, looked up by fact_spec
    key=("playbook", "customer_id", "trigger_key"),
    time_column="enrolled_at",
    description="Who entered which playbook, when, on which trigger, in which arm (written by playbook runs).",
    columns=(
        id_column("playbook", "Playbook name."),
        id_column("playbook_version", "Content hash of the playbook file at enrolment."),
        id_column("customer_id", "Who was enrolled."),
        id_column("trigger_key", "What fired (one enrolment per playbook, customer and key)."),
        Column("arm", ColumnType.STRING, required=True, allowed=tuple(Arm), description="treatment or holdout."),
        Column("enrolled_at", ColumnType.TIMESTAMP, required=True, description="When the customer was enrolled."),
        Column("goal_metric", ColumnType.STRING, required=True, description="retained, orders, revenue or logins."),
        Column("goal_window_days", ColumnType.INTEGER, required=True, min_value=1, description="Goal window."),
        Column(
            "holdout_share",
            ColumnType.FLOAT,
            required=True,
            min_value=0.0,
            max_value=1.0,
            description="The holdout share the arm was drawn with (for the sample-ratio check).",
        ),
    ),
)

PLAYBOOK_MESSAGES = TableSpec(
    name=SystemTableName.PLAYBOOK_MESSAGES,  # type: ignore[arg-type]
    key=("message_key",),
    time_column="decided_at",
    description="Every step of every enrolment: sent, held out, suppressed or skipped, with the reason.",
    columns=(
        id_column("message_key", "Idempotency key of the step (the outbox's)."),
        id_column("playbook", "Playbook name."),
        id_column("customer_id", "Who it was for."),
        id_column("trigger_key", "The enrolment's trigger key."),
        Column("step", ColumnType.INTEGER, required=True, min_value=0, description="Step number, from 0."),
        id_column("action", "email, webhook, task …"),
        id_column("status", "enqueued, done, held_out, suppressed, skipped or failed."),
        # Free text (a template error can be long, or span lines): not bounded like the labels.
        Column("reason", ColumnType.STRING, description="Why it was suppressed, skipped or failed."),
        Column("decided_at", ColumnType.TIMESTAMP, required=True, description="When the runner decided."),
    ),
)

SYSTEM_TABLES: dict[SystemTableName, TableSpec] = {
    SystemTableName.PLAYBOOK_ENROLMENTS: PLAYBOOK_ENROLMENTS,
    SystemTableName.PLAYBOOK_MESSAGES: PLAYBOOK_MESSAGES,
}


def fact_spec(name: str) -> TableSpec:
    """The spec of a canonical or system fact table; an unknown name lists the valid ones."""
    if name in SystemTableName.__members__.values():
        return SYSTEM_TABLES[SystemTableName(name)]
    try:
        return TABLES[TableName(name)]
    except ValueError:
        valid = ", ".join([*TABLES, *SYSTEM_TABLES])
        raise InputError(f"Unknown table {name!r}. Valid tables: {valid}.") from None
