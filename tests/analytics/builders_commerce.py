"""Builders of events, tickets and feedback rows (literal timelines) for the cohort, commerce and satisfaction tests.

Tables come back as pyarrow tables with the canonical schema; pass them through the ``load`` fixture so each
engine reads them the way it reads the lake.
"""

from __future__ import annotations

import pyarrow as pa

from retain.contract import TABLES


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = TABLES[name].arrow_schema
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def event(customer, occurred_at, event_type="login", event_id=None):
    return {
        "event_id": event_id or f"{customer}-{event_type}-{occurred_at.isoformat()}",
        "customer_id": customer,
        "event_type": event_type,
        "occurred_at": occurred_at,
    }


def events(rows: list[dict]) -> pa.Table:
    return _table("events", rows)


def ticket(ticket_id, customer, opened_at, resolved_at=None, *, complaint=False, category=None):
    return {
        "ticket_id": ticket_id,
        "customer_id": customer,
        "opened_at": opened_at,
        "resolved_at": resolved_at,
        "is_complaint": complaint,
        "category": category,
    }


def tickets(rows: list[dict]) -> pa.Table:
    return _table("tickets", rows)


def answer(response_id, customer, survey, score, responded_at):
    return {
        "response_id": response_id,
        "customer_id": customer,
        "survey": survey,
        "score": score,
        "responded_at": responded_at,
    }


def feedback(rows: list[dict]) -> pa.Table:
    return _table("feedback", rows)
