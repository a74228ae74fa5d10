"""What retain did for one customer and when: every playbook step, sent, held out or suppressed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from retain.state.message_rows import steps_of_customer
from retain.workspace import Workspace

__all__ = ["CustomerMessage", "customer_messages"]


@dataclass(frozen=True)
class CustomerMessage:
    playbook: str
    arm: str
    """treatment or holdout."""
    step: int
    action: str
    status: str
    """The step's outcome: enqueued, done, held_out, suppressed, skipped or failed."""
    reason: str | None
    """Why it was suppressed, skipped or failed."""
    decided_at: datetime
    """The playbook run's as-of."""
    send_at: datetime | None
    channel: str | None
    subject: str | None
    """An email's subject."""
    delivery_status: str | None
    """The outbox message's state (pending, delivered, retry, dead …); ``None`` when nothing was queued."""
    delivered_at: datetime | None


def customer_messages(ws: Workspace, customer_id: str) -> list[CustomerMessage]:
    """Every step playbooks decided for ``customer_id``, newest first (an empty list for an unknown customer)."""
    with ws.connect() as connection:
        rows = steps_of_customer(connection, customer_id)
    found = []
    for row in rows:
        payload = json.loads(row.payload) if row.payload else {}
        found.append(
            CustomerMessage(
                playbook=row.playbook,
                arm=row.arm,
                step=row.step,
                action=row.action,
                status=row.status,
                reason=row.reason,
                decided_at=row.at,
                send_at=row.send_at,
                channel=row.channel,
                subject=payload.get("subject") if isinstance(payload, dict) else None,
                delivery_status=row.delivery_status,
                delivered_at=row.delivered_at,
            )
        )
    return found
