"""Health score on a real churn feature table (churn_features on DuckDB), hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa

from retain.contract import TABLES, TableName
from retain.health import health_score
from retain.models.churn.features import churn_features

AS_OF = datetime(2025, 3, 1, tzinfo=UTC)


def _ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def _table(name: str, rows: list[dict]) -> ibis.Table:
    schema = TABLES[TableName(name)].arrow_schema
    columns = {field.name: [row.get(field.name) for row in rows] for field in schema}
    return ibis.memtable(pa.table(columns, schema=schema))


def _tables() -> dict[str, ibis.Table]:
    customers = [
        {"customer_id": "A", "created_at": _ago(400)},
        {"customer_id": "B", "created_at": _ago(400)},
    ]
    events = (
        # A: 8 logins + 2 feature uses in the last 30 days, 20 logins in the 30 days before: trend 0.5.
        [{"customer_id": "A", "event_type": "login", "occurred_at": _ago(1 + i)} for i in range(8)]
        + [
            {
                "customer_id": "A",
                "event_type": "feature_used",
                "occurred_at": _ago(3),
                "properties": '{"feature": "reports"}',
            },
            {
                "customer_id": "A",
                "event_type": "feature_used",
                "occurred_at": _ago(4),
                "properties": '{"feature": "export"}',
            },
        ]
        + [{"customer_id": "A", "event_type": "login", "occurred_at": _ago(31 + i)} for i in range(20)]
        # B: one feature use 70 days ago (no activity in either 30-day window), two failed payments.
        + [
            {
                "customer_id": "B",
                "event_type": "feature_used",
                "occurred_at": _ago(70),
                "properties": '{"feature": "reports"}',
            },
            {"customer_id": "B", "event_type": "payment_failed", "occurred_at": _ago(10)},
            {"customer_id": "B", "event_type": "payment_failed", "occurred_at": _ago(40)},
        ]
    )
    tickets = [
        {"ticket_id": "T1", "customer_id": "B", "opened_at": _ago(9), "is_complaint": True},
        {"ticket_id": "T2", "customer_id": "B", "opened_at": _ago(50), "resolved_at": _ago(45), "is_complaint": False},
        # Opened after as_of: not known yet, so A has no open complaint.
        {"ticket_id": "T3", "customer_id": "A", "opened_at": _ago(-2), "is_complaint": True},
    ]
    feedback = [
        {"response_id": "R1", "customer_id": "A", "survey": "nps", "score": 9, "responded_at": _ago(28)},
        {"response_id": "R2", "customer_id": "B", "survey": "nps", "score": 4, "responded_at": _ago(59)},
        {"response_id": "R3", "customer_id": "B", "survey": "csat", "score": 2, "responded_at": _ago(20)},
    ]
    return {
        "customers": _table("customers", customers),
        "events": _table("events", events),
        "tickets": _table("tickets", tickets),
        "feedback": _table("feedback", feedback),
    }


def test_health_of_hand_built_customers_from_their_feature_table():
    features = churn_features(_tables(), as_of=AS_OF).to_pandas().sort_values("customer_id").reset_index(drop=True)
    out = health_score(features)
    assert out["customer_id"].tolist() == ["A", "B"]
    # A: engagement 10/20 -> 50, trend 0.5 -> 50, support 100, NPS 9 -> 90, payment 100, adoption 2/2 -> 100
    #    0.3*50 + 0.2*50 + 0.15*100 + 0.1*90 + 0.15*100 + 0.1*100 = 74
    # B: engagement 0, no activity in either window -> 50, one open complaint -> 100 - 15 - 25 = 60,
    #    NPS 4 -> 33.33 and CSAT 2 -> 25 -> 29.17, two failed payments -> 20, adoption 1/2 -> 50
    #    0 + 10 + 9 + 2.917 + 3 + 5 = 29.92 -> 30
    np.testing.assert_allclose(out["engagement"], [50, 0])
    np.testing.assert_allclose(out["usage_trend"], [50, 50])
    np.testing.assert_allclose(out["support"], [100, 60])
    np.testing.assert_allclose(out["sentiment"], [90, (100 / 3 + 25) / 2])
    np.testing.assert_allclose(out["payment"], [100, 20])
    np.testing.assert_allclose(out["adoption"], [100, 50])
    assert out["health"].tolist() == [74, 30]
    assert out["band"].tolist() == ["green", "red"]
