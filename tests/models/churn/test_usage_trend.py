"""The core-usage trend: its value from the counts, and the sentence a customer's reason shows."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import ibis
import pyarrow as pa
import pytest

from retain.models.churn.features import churn_features
from retain.models.churn.phrases import usage_trend

AS_OF = datetime(2024, 4, 1, tzinfo=UTC)


def _events(rows: list[tuple[str, str, str]]) -> ibis.Table:
    return ibis.memtable(
        pa.table(
            {
                "event_id": [f"e{i}" for i in range(len(rows))],
                "customer_id": [c for c, _, _ in rows],
                "event_type": [t for _, t, _ in rows],
                "occurred_at": pa.array([datetime.fromisoformat(a) for _, _, a in rows], pa.timestamp("us", tz="UTC")),
                "properties": pa.array([None] * len(rows), pa.string()),
            }
        )
    )


def test_the_trend_is_the_log_of_the_last_30_days_against_the_average_month_of_the_60_before():
    rows = [
        # a: 1 login in March (the last 30 days), 4 logins and 2 feature uses in Jan-Feb (3 a month before)
        ("a", "login", "2024-03-20"),
        *[("a", "login", f"2024-01-{d:02d}") for d in (10, 11, 12, 13)],
        *[("a", "feature_used", f"2024-02-{d:02d}") for d in (10, 11)],
        ("a", "email_open", "2024-03-25"),  # not product use
        # b: silent before, 2 uses now: up, and defined (a ratio would be undefined)
        ("b", "login", "2024-03-25"),
        ("b", "feature_used", "2024-03-26"),
    ]
    features = churn_features({"events": _events(rows)}, as_of=AS_OF).to_pyarrow().to_pandas()
    trend = dict(zip(features.customer_id, features.usage_trend_90d, strict=True))
    assert trend["a"] == pytest.approx(math.log(1 + 1) - math.log(1 + 6 / 2))
    assert trend["b"] == pytest.approx(math.log(1 + 2) - math.log(1 + 0))


@pytest.mark.parametrize(
    ("counts", "sentence"),
    [
        ((1, 7), "1 login or feature use in the last 30 days, down from about 3 a month before"),
        ((3, 13), "3 logins and feature uses in the last 30 days, down from about 5 a month before"),
        ((0, 8), "no logins or feature use in the last 30 days (about 4 a month before)"),
    ],
)
def test_the_sentence_carries_the_customers_own_numbers(counts, sentence):
    recent, in_90 = counts
    row = {"login_30d": recent, "feature_used_30d": 0, "login_90d": in_90, "feature_used_90d": 0}
    assert usage_trend(row, {}) == sentence
