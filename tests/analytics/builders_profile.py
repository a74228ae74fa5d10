"""A hand-written world of five customers across all six canonical tables, for the profile and timeline tests.

``as_of`` is 2024-04-01 00:00 UTC. ``FUTURE`` holds facts after it (and later versions of rows that were still
open at it) — the leakage tests add them and expect nothing to change.

- ana: listed, subscribes (pro → max), shops with a refund and a canceled order, logs in, two tickets, surveys.
- ben: listed, subscribes and is paused at as_of, one old login, an unresolved complaint, a CSAT.
- cara: listed, one old order, canceled her subscription (price), NPS and an exit survey.
- dan: no customers row (first seen through an event), three orders, two NPS answers at the same instant.
- eve: listed a week before as_of, one login exactly at as_of.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pyarrow as pa
from analytics_helpers import at

from retain.contract import TABLES

AS_OF = at(2024, 4, 1)


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return at(year, month, day, hour).replace(minute=minute, second=second)


def table(name: str, rows: list[dict]) -> pa.Table:
    """Rows (missing columns null) as a pyarrow table with the canonical schema of ``name``."""
    schema = TABLES[name].arrow_schema
    return pa.Table.from_pylist([{c: row.get(c) for c in schema.names} for row in rows], schema=schema)


def customer(cid, created_at, **identity):
    return {"customer_id": cid, "created_at": created_at, **identity}


def order(oid, cid, ordered_at, amount, status="completed", **extra):
    return {"order_id": oid, "customer_id": cid, "ordered_at": ordered_at, "amount": amount, "status": status, **extra}


def period(sid, cid, plan, mrr, started, ended=None, status="active", **extra):
    return {
        "subscription_id": sid,
        "customer_id": cid,
        "plan": plan,
        "mrr": float(mrr),
        "started_at": started,
        "ended_at": ended,
        "status": status,
        **extra,
    }


def event(eid, cid, event_type, occurred_at, properties=None):
    return {
        "event_id": eid,
        "customer_id": cid,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "properties": properties,
    }


def ticket(tid, cid, opened_at, resolved_at=None, *, complaint=False, **extra):
    return {
        "ticket_id": tid,
        "customer_id": cid,
        "opened_at": opened_at,
        "resolved_at": resolved_at,
        "is_complaint": complaint,
        **extra,
    }


def answer(rid, cid, survey, score, responded_at, **extra):
    return {
        "response_id": rid,
        "customer_id": cid,
        "survey": survey,
        "score": score,
        "responded_at": responded_at,
        **extra,
    }


WORLD: dict[str, list[dict]] = {
    "customers": [
        customer("ana", ts(2023, 1, 10), email="ana@example.com", name="Ana", country="DE", acquisition_channel="ads"),
        customer("ben", ts(2023, 5, 5), name="Ben"),
        customer(
            "cara", ts(2022, 11, 1), email="cara@example.com", name="Cara", country="FR", acquisition_channel="organic"
        ),
        customer("eve", ts(2024, 3, 25, 10), email="eve@example.com", country="US", acquisition_channel="referral"),
    ],
    "orders": [
        order("O1", "ana", ts(2023, 6, 1), 120.0, items=2, channel="web"),
        order("O2", "ana", ts(2024, 3, 20), 80.0, items=1),
        order("O3", "ana", ts(2024, 3, 25, 12), -30.0, "refunded"),
        order("O4", "ana", ts(2024, 3, 28), 50.0, "canceled"),
        order("O5", "cara", ts(2022, 12, 1), 200.0),
        order("O6", "dan", ts(2024, 2, 10), 60.0),
        order("O7", "dan", ts(2024, 3, 5), 40.0),
        order("O8", "dan", ts(2024, 3, 30, 12), 45.5),
    ],
    "subscriptions": [
        period("S-ana", "ana", "pro", 49, ts(2023, 2, 1), ts(2024, 1, 1), billing_period_months=1),
        period("S-ana", "ana", "max", 99, ts(2024, 1, 1), billing_period_months=12),
        period("S-ben", "ben", "basic", 19, ts(2023, 6, 1), ts(2024, 3, 1)),
        period("S-ben", "ben", "basic", 0, ts(2024, 3, 1), status="paused"),
        period(
            "S-cara",
            "cara",
            "pro",
            49,
            ts(2023, 1, 1),
            ts(2023, 12, 15),
            "canceled",
            cancel_reason="price",
            churn_type="voluntary",
        ),
    ],
    "events": [
        event("e1", "ana", "login", ts(2024, 2, 15, 10)),
        event("e2", "ana", "login", ts(2024, 2, 15, 11)),
        event("e3", "ana", "feature_used", ts(2024, 3, 25), '{"feature": "reports"}'),
        event("e4", "ana", "login", ts(2024, 3, 30, 8)),
        event("e5", "ana", "login", ts(2024, 3, 30, 9)),
        event("e6", "ana", "login", ts(2024, 3, 30, 12)),
        event("e7", "ana", "login", ts(2024, 3, 31, 10), '{"device": "ios"}'),
        event("e8", "ben", "login", ts(2024, 1, 10, 9)),
        event("e9", "dan", "page_view", ts(2024, 2, 9, 8)),
        event("e10", "eve", "login", AS_OF),
    ],
    "tickets": [
        ticket(
            "T1",
            "ana",
            ts(2024, 3, 10, 9),
            ts(2024, 3, 12, 9),
            complaint=True,
            category="billing",
            priority="high",
            satisfaction=4,
        ),
        ticket("T2", "ana", ts(2024, 3, 29, 15), category="how-to", priority="low"),
        ticket("T3", "ben", ts(2024, 2, 20), complaint=True),
    ],
    "feedback": [
        answer("F1", "ana", "nps", 6, ts(2023, 12, 1), comment="ok"),
        answer("F2", "ana", "nps", 9, ts(2024, 3, 15)),
        answer("F3", "ana", "csat", 4, ts(2024, 3, 12, 10)),
        answer("F4", "ben", "csat", 2, ts(2024, 2, 21)),
        answer("F5", "cara", "nps", 3, ts(2023, 11, 1)),
        answer("F6", "cara", "exit", None, ts(2023, 12, 15), reason="price", comment="too expensive"),
        answer("F7", "dan", "nps", 7, ts(2024, 3, 31)),
        answer("F8", "dan", "nps", 10, ts(2024, 3, 31)),
    ],
}

FUTURE_ROWS: dict[str, list[dict]] = {
    "customers": [customer("fay", ts(2024, 4, 15), name="Fay")],
    "orders": [order("O9", "ana", ts(2024, 4, 5), 500.0), order("O10", "ben", ts(2024, 4, 2), 30.0)],
    "subscriptions": [period("S-ben", "ben", "basic", 19, ts(2024, 4, 10))],
    "events": [
        event("e11", "dan", "login", ts(2024, 4, 1, 0, 0, 1)),
        event("e12", "fay", "login", ts(2024, 4, 15)),
    ],
    "tickets": [ticket("T4", "cara", ts(2024, 4, 3), complaint=True)],
    "feedback": [answer("F9", "cara", "nps", 10, ts(2024, 4, 2)), answer("F10", "eve", "csat", 5, ts(2024, 5, 1))],
}
"""New facts after ``AS_OF``."""

FUTURE_UPDATES: dict[str, dict[str, dict]] = {
    # Later versions of rows still open at AS_OF: ben's pause ends, ana's ticket T2 is resolved.
    "subscriptions": {"S-ben@2024-03-01": {"ended_at": ts(2024, 4, 10)}},
    "tickets": {"T2": {"resolved_at": ts(2024, 4, 3), "satisfaction": 5}},
}


def _key(name: str, row: dict) -> str:
    if name == "subscriptions":
        return f"{row['subscription_id']}@{row['started_at']:%Y-%m-%d}"
    return str(row[TABLES[name].column_names[0]])


def world(*, future: bool = False) -> dict[str, pa.Table]:
    """The world as pyarrow tables; with ``future``, also every fact and update after ``AS_OF``."""
    out = {}
    for name, rows in WORLD.items():
        rows = [dict(r) for r in rows]
        if future:
            updates = FUTURE_UPDATES.get(name, {})
            rows = [r | updates.get(_key(name, r), {}) for r in rows] + FUTURE_ROWS.get(name, [])
        out[name] = table(name, rows)
    return out


def plain(frame: pd.DataFrame, columns: list[str] | None = None) -> list[tuple]:
    """Rows of ``frame`` as tuples of plain Python values: datetimes, ints, floats, str and None for nulls."""
    out = []
    for row in frame[list(columns or frame.columns)].itertuples(index=False):
        values = []
        for v in row:
            if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                values.append(None)
            elif isinstance(v, pd.Timestamp):
                values.append(v.to_pydatetime())
            elif hasattr(v, "item"):  # numpy scalars
                values.append(v.item())
            else:
                values.append(v)
        out.append(tuple(values))
    return out
