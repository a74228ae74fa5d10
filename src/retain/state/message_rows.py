"""What playbooks did for one customer: each step of each enrolment, with its outbox message when there is one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from retain.state.tables import outbox, playbook_enrolments, playbook_steps

__all__ = ["steps_of_customer"]


def steps_of_customer(connection: sa.Connection, customer_id: str) -> list[sa.Row[Any]]:
    """Every step decided for ``customer_id``, newest first, joined to the enrolment and the outbox row (by key)."""
    query = (
        sa.select(
            playbook_enrolments.c.playbook,
            playbook_enrolments.c.arm,
            playbook_enrolments.c.trigger_key,
            playbook_enrolments.c.enrolled_at,
            playbook_steps.c.step,
            playbook_steps.c.action,
            playbook_steps.c.status,
            playbook_steps.c.reason,
            playbook_steps.c.send_at,
            playbook_steps.c.at,
            outbox.c.channel,
            outbox.c.kind,
            outbox.c.payload,
            outbox.c.status.label("delivery_status"),
            outbox.c.attempts,
            outbox.c.delivered_at,
        )
        .select_from(
            playbook_steps.join(playbook_enrolments, playbook_steps.c.enrolment_id == playbook_enrolments.c.id).join(
                outbox, outbox.c.idempotency_key == playbook_steps.c.idempotency_key, isouter=True
            )
        )
        .where(playbook_enrolments.c.customer_id == customer_id)
        .order_by(playbook_steps.c.at.desc(), playbook_steps.c.id.desc())
    )
    return list(connection.execute(query))
