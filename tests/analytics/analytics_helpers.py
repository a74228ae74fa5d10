"""Builders of canonical tables from literal rows, for the analytics tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from retain.contract import TABLES
from retain.engine import to_pandas


def at(year: int, month: int, day: int = 1, hour: int = 0) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = TABLES[name].arrow_schema
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def sub(customer, mrr, started, ended=None, status="active", *, churn_type=None, reason=None, plan=None, sid=None):
    """One subscription period row (the subscription id defaults to one per customer)."""
    return {
        "subscription_id": sid or f"{customer}-sub",
        "customer_id": customer,
        "plan": plan or ("paused" if status == "paused" else f"plan-{mrr:g}"),
        "mrr": float(mrr),
        "started_at": started,
        "ended_at": ended,
        "status": status,
        "cancel_reason": reason,
        "churn_type": churn_type,
    }


def subscriptions(rows: list[dict]) -> pa.Table:
    """Subscription rows as a pyarrow table with the canonical schema."""
    return _table("subscriptions", rows)


def order(order_id, customer, ordered_at, amount=10.0, status="completed"):
    return {"order_id": order_id, "customer_id": customer, "ordered_at": ordered_at, "amount": amount, "status": status}


def orders(rows: list[dict]) -> pa.Table:
    """Order rows as a pyarrow table with the canonical schema."""
    return _table("orders", rows)


def run(backend, expr) -> pd.DataFrame:
    return to_pandas(backend, expr)


def records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """Rows of ``frame`` as tuples of plain Python values (timestamps stay datetimes)."""
    out = []
    for row in frame[columns].itertuples(index=False):
        out.append(tuple(v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in row))
    return out
