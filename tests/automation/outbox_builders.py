"""Messages for the outbox tests, and the delivery invariants checked at the receivers."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from receivers import Arrival

from retain.automation.outbox import MessageKind, OutboxMessage, message_key

EMAIL_TRIGGER = "signup"
WEBHOOK_TRIGGER = "payment_failed"


def email_message(customer: str, due_at: datetime, *, channel: str = "email", step: int = 0) -> OutboxMessage:
    """The welcome email of ``customer`` (trigger ``signup``)."""
    key = message_key("welcome", "v1", step, customer, EMAIL_TRIGGER)
    payload = {
        "to": f"{customer.lower()}@example.com",
        "subject": f"Welcome, {customer}",
        "text": f"Hello {customer}, welcome aboard.",
        "html": f"<p>Hello <b>{customer}</b>, welcome aboard.</p>",
        "headers": {"X-Customer": customer, "X-Trigger": EMAIL_TRIGGER},
        "unsubscribe_url": f"https://shop.example.com/u/{customer}",
    }
    return OutboxMessage(
        key, "welcome", "v1", step, customer, EMAIL_TRIGGER, channel, MessageKind.EMAIL, payload, due_at
    )


def webhook_message(customer: str, due_at: datetime, *, channel: str = "crm", step: int = 0) -> OutboxMessage:
    """The dunning webhook of ``customer`` (trigger ``payment_failed``)."""
    key = message_key("dunning", "v1", step, customer, WEBHOOK_TRIGGER)
    payload = {"customer_id": customer, "trigger": WEBHOOK_TRIGGER, "action": "open_task", "amount": 29.5}
    return OutboxMessage(
        key, "dunning", "v1", step, customer, WEBHOOK_TRIGGER, channel, MessageKind.WEBHOOK, payload, due_at
    )


def mixed_messages(customers: int, due_at: datetime) -> list[OutboxMessage]:
    """One email and one webhook per customer ``C000``…: ``2 × customers`` messages."""
    names = [f"C{i:03d}" for i in range(customers)]
    return [m for name in names for m in (email_message(name, due_at), webhook_message(name, due_at))]


def check_invariants(due: Sequence[OutboxMessage], arrivals: Iterable[Arrival], *, kills: int) -> dict[str, int]:
    """Assert the delivery invariants at the receivers; return the counts (for the failure message and reports).

    * every due message arrives, nothing else does: distinct keys received == keys due;
    * per customer and trigger, one key only (no message under two different keys);
    * a raw duplicate is a re-send of a key, and there are at most as many as there were kills.
    """
    arrivals = list(arrivals)
    keys = [a.key for a in arrivals]
    due_keys = {m.idempotency_key for m in due}
    assert set(keys) == due_keys, (len(set(keys)), len(due_keys), sorted(due_keys - set(keys))[:5])
    per_trigger: dict[tuple[str, str], set[str]] = defaultdict(set)
    for arrival in arrivals:
        per_trigger[arrival.customer_id, arrival.trigger].add(arrival.key)
    assert all(len(k) == 1 for k in per_trigger.values()), {t: k for t, k in per_trigger.items() if len(k) > 1}
    assert len(per_trigger) == len(due)
    duplicates = len(keys) - len(set(keys))
    repeated = {key: n for key, n in Counter(keys).items() if n > 1}
    assert duplicates <= kills, (duplicates, kills, repeated)
    assert all(a.signed for a in arrivals)
    return {
        "due": len(due),
        "arrivals": len(keys),
        "distinct": len(set(keys)),
        "duplicates": duplicates,
        "kills": kills,
    }


def workspace_toml(
    *,
    smtp_port: int | None = None,
    webhook_url: str | None = None,
    secret: str = "",
    export_path: str | None = None,
    database_url: str | None = None,
    timeout_seconds: float = 1.0,
    **delivery: float,
) -> str:
    """A ``retain.toml`` with the channels ``email`` (SMTP), ``crm`` (webhook), ``export`` (file) and ``[delivery]``."""
    lines = []
    if database_url is not None:
        lines.append(f'database_url = "{database_url}"')
    if smtp_port is not None:
        lines += ["[channels.email]", 'kind = "smtp"', 'host = "127.0.0.1"', f"port = {smtp_port}",
                  'sender = "Retain <care@example.com>"', f"timeout_seconds = {timeout_seconds}"]  # fmt: skip
    if webhook_url is not None:
        lines += ["[channels.crm]", 'kind = "webhook"', f'url = "{webhook_url}"', f'secret = "{secret}"',
                  f"timeout_seconds = {timeout_seconds}"]  # fmt: skip
    if export_path is not None:
        lines += ["[channels.export]", 'kind = "file"', f'path = "{export_path}"']
    if delivery:
        lines += ["[delivery]", *(f"{key} = {value}" for key, value in delivery.items())]
    return "\n".join(lines) + "\n"
