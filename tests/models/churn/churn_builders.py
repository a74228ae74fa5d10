"""Tiny hand-written canonical tables for the feature, label and dataset tests.

Rows are given as dicts holding only the columns that matter; every other canonical column is null. Times are
written as ``"2024-06-29"`` or ``"2024-06-30 13:00"`` and mean UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from retain.contract import TABLES, ColumnType, TableName

__all__ = ["AS_OF", "at", "facts", "table"]

AS_OF = datetime(2024, 7, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """``"2024-06-30 13:00"`` → an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def table(name: TableName | str, rows: list[dict]) -> pa.Table:
    """A canonical table (full contract schema) from partial rows."""
    spec = TABLES[TableName(name)]
    columns = {}
    for column in spec.columns:
        values = [row.get(column.name) for row in rows]
        if column.type is ColumnType.TIMESTAMP:
            values = [at(v) if isinstance(v, str) else v for v in values]
        columns[column.name] = values
    return pa.table(columns, schema=spec.arrow_schema)


def facts(**rows: list[dict]) -> dict[str, pa.Table]:
    """All six canonical tables; tables not given are empty."""
    return {str(name): table(name, rows.get(str(name), [])) for name in TableName}


def _event(i: int, customer: str, kind: str, when: str, properties: str | None = None) -> dict:
    return {
        "event_id": f"E{i}",
        "customer_id": customer,
        "event_type": kind,
        "occurred_at": when,
        "properties": properties,
    }


def feature_world() -> dict[str, pa.Table]:
    """Customers A (rich history), B (two events only, no customers row), E (paused), F (signs up later).

    Every row dated after :data:`AS_OF` is there to be ignored by the features.
    """
    reports, exports, dashboards = (f'{{"feature": "{name}"}}' for name in ("reports", "exports", "dashboards"))
    events = [
        _event(1, "A", "login", "2024-06-29"),
        _event(2, "A", "login", "2024-06-10"),
        _event(3, "A", "login", "2024-05-20"),
        _event(4, "A", "login", "2024-04-15"),
        _event(5, "A", "feature_used", "2024-06-20", reports),
        _event(6, "A", "feature_used", "2024-05-15", exports),
        _event(7, "A", "email_open", "2024-06-30", '{"campaign": "newsletter"}'),
        _event(8, "A", "payment_failed", "2024-06-25"),
        _event(9, "A", "payment_failed", "2024-05-01"),
        _event(10, "A", "login", "2024-07-05"),  # future
        _event(11, "B", "login", "2024-06-30 12:00"),
        _event(12, "B", "feature_used", "2024-06-30 13:00", dashboards),
        _event(13, "A", "feature_used", "2024-07-02", '{"feature": "automations"}'),  # future
    ]
    return facts(
        customers=[
            {"customer_id": "A", "created_at": "2024-01-01", "country": "DE", "acquisition_channel": "organic_search"},
            {"customer_id": "E", "created_at": "2024-02-01", "country": "FR", "acquisition_channel": "referral"},
            {"customer_id": "F", "created_at": "2024-08-01", "country": "US"},  # future
        ],
        orders=[
            {"order_id": "O1", "customer_id": "A", "ordered_at": "2024-03-01", "amount": 30.0, "status": "completed"},
            {
                "order_id": "O2",
                "customer_id": "A",
                "ordered_at": "2024-06-01",
                "amount": 50.0,
                "status": "completed",
                "discount_code": "WELCOME",
            },
            {"order_id": "O3", "customer_id": "A", "ordered_at": "2024-06-15", "amount": -20.0, "status": "refunded"},
            {"order_id": "O4", "customer_id": "A", "ordered_at": "2024-06-20", "amount": 40.0, "status": "canceled"},
            {"order_id": "O5", "customer_id": "A", "ordered_at": "2024-07-10", "amount": 99.0, "status": "completed"},
        ],
        subscriptions=[
            {
                "subscription_id": "SA",
                "customer_id": "A",
                "plan": "basic",
                "mrr": 19.0,
                "started_at": "2024-01-01",
                "ended_at": "2024-05-01",
                "status": "active",
                "billing_period_months": 1,
            },
            # Running at AS_OF; its end, status and reason are only known later.
            {
                "subscription_id": "SA",
                "customer_id": "A",
                "plan": "pro",
                "mrr": 49.0,
                "started_at": "2024-05-01",
                "ended_at": "2024-08-15",
                "status": "canceled",
                "cancel_reason": "price",
                "churn_type": "voluntary",
                "billing_period_months": 1,
            },
            {
                "subscription_id": "SE",
                "customer_id": "E",
                "plan": "basic",
                "mrr": 19.0,
                "started_at": "2024-02-01",
                "ended_at": "2024-06-01",
                "status": "active",
                "billing_period_months": 12,
            },
            {
                "subscription_id": "SE",
                "customer_id": "E",
                "plan": "basic",
                "mrr": 0.0,
                "started_at": "2024-06-01",
                "status": "paused",
                "billing_period_months": 12,
            },
        ],
        events=events,
        tickets=[
            # Resolved only after AS_OF: open at AS_OF, its rating not given yet.
            {
                "ticket_id": "T1",
                "customer_id": "A",
                "opened_at": "2024-06-01 12:00",
                "resolved_at": "2024-07-03",
                "category": "billing",
                "is_complaint": True,
                "satisfaction": 2,
            },
            {
                "ticket_id": "T2",
                "customer_id": "A",
                "opened_at": "2024-06-20",
                "resolved_at": "2024-06-21",
                "category": "billing",
                "is_complaint": False,
                "satisfaction": 4,
            },
            {
                "ticket_id": "T3",
                "customer_id": "A",
                "opened_at": "2024-02-01",
                "resolved_at": "2024-02-02",
                "category": "technical",
                "is_complaint": True,
                "satisfaction": 1,
            },
            {
                "ticket_id": "T4",
                "customer_id": "A",
                "opened_at": "2024-07-02",
                "category": "billing",
                "is_complaint": True,
            },  # future
        ],
        feedback=[
            {"response_id": "R1", "customer_id": "A", "survey": "nps", "score": 9, "responded_at": "2024-03-01"},
            {"response_id": "R2", "customer_id": "A", "survey": "nps", "score": 5, "responded_at": "2024-06-15"},
            {"response_id": "R3", "customer_id": "A", "survey": "nps", "score": 10, "responded_at": "2024-07-02"},
            {"response_id": "R4", "customer_id": "A", "survey": "csat", "score": 4, "responded_at": "2024-05-01"},
            {"response_id": "R5", "customer_id": "A", "survey": "exit", "responded_at": "2024-08-15"},
        ],
    )
