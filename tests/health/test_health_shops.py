"""Health for shops: purchase-cadence components with hand-computed points, only the components a business has
data for, re-normalised weights, and the score saying which components it used."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from retain.errors import InputError
from retain.health import available_components, health_score
from retain.settings import HealthSettings

SHOP = ("cadence", "order_trend", "alive", "refunds")


def _shop(*rows: dict) -> pd.DataFrame:
    base = {
        "days_since_last_order": 10.0,
        "typical_order_gap_days": 30.0,
        "orders": 5,
        "orders_90d": 3,
        "orders_prev_90d": 3,
        "p_alive": 0.9,
        "bad_orders_90d": 0,
        "events_90d": 0,
        "tickets": 0,
        "nps_latest": math.nan,
        "csat_latest": math.nan,
        "features_used": 0,
        "features_never_used": 0,
    }
    return pd.DataFrame.from_records([{"customer_id": f"s{i}", **base, **row} for i, row in enumerate(rows, 1)])


def test_a_shop_with_only_orders_counts_the_four_cadence_components():
    frame = _shop({})
    assert available_components(frame, "commerce") == SHOP
    # Subscription components without data are left out: no events, tickets, surveys or feature usage.
    assert available_components(frame, "subscription") == ("payment",)


def test_hand_computed_cadence_scores():
    frame = _shop(
        # on rhythm (10 of 30 days), steady, alive 0.9, no refunds: 0.35*100 + 0.2*100 + 0.3*90 + 0.15*100 = 97
        {},
        # 60 days since the last order with a 30-day rhythm: ratio 2 -> 50; 1 order now vs 2 before -> 50;
        # alive 0.4 -> 40; one refund -> 50:  17.5 + 10 + 12 + 7.5 = 47
        {"days_since_last_order": 60.0, "orders_90d": 1, "orders_prev_90d": 2, "p_alive": 0.4, "bad_orders_90d": 1},
        # a one-time buyer 300 days ago: the reference gap is the median of the others (30 days) -> ratio 10 -> 0;
        # nothing now, nothing before -> 0; alive 0.1 -> 10; no refunds -> 100:  0 + 0 + 3 + 15 = 18
        {"days_since_last_order": 300.0, "typical_order_gap_days": math.nan, "orders": 1, "orders_90d": 0,
         "orders_prev_90d": 0, "p_alive": 0.1},
        # first order last week, none before: ratio vs 30-day reference 0.23 -> 100; ordering now -> 100;
        # alive 1.0 -> 100; two refunds -> 20:  35 + 20 + 30 + 3 = 88
        {"days_since_last_order": 7.0, "typical_order_gap_days": math.nan, "orders": 1, "orders_90d": 1,
         "orders_prev_90d": 0, "p_alive": 1.0, "bad_orders_90d": 2},
    )  # fmt: skip
    out = health_score(frame, components=available_components(frame, "commerce"))
    assert out["health"].tolist() == [97, 47, 18, 88]
    assert out["band"].tolist() == ["green", "yellow", "red", "green"]
    assert out["cadence"].tolist() == pytest.approx([100, 50, 0, 100])
    assert out["order_trend"].tolist() == pytest.approx([100, 50, 0, 100])
    assert out["alive"].tolist() == pytest.approx([90, 40, 10, 100])
    assert out["refunds"].tolist() == pytest.approx([100, 50, 100, 20])
    assert set(out["health_components"]) == {"cadence,order_trend,alive,refunds"}
    # Components that do not count are null, not neutral 50s.
    assert out[["engagement", "support", "sentiment", "payment", "adoption"]].isna().all().all()
    contributions = out[[f"{c}_contribution" for c in SHOP]].sum(axis=1)
    assert contributions.round().astype(int).tolist() == out["health"].tolist()


def test_tickets_and_surveys_join_the_shop_score_when_the_shop_has_them():
    frame = _shop({"tickets": 2, "open_tickets": 1, "open_complaints": 0, "nps_latest": 9.0})
    used = available_components(frame, "commerce")
    assert used == ("support", "sentiment", *SHOP)
    out = health_score(frame, components=used)
    # weights support .15, sentiment .1 and the shop's 1.0 re-normalised over 1.25: support 85, NPS 9 -> 90.
    expected = (0.15 * 85 + 0.1 * 90 + 0.35 * 100 + 0.2 * 100 + 0.3 * 90 + 0.15 * 100) / 1.25
    assert out.loc[0, "health"] == round(expected) == 95


def test_weights_that_leave_every_counting_component_at_zero_are_refused():
    settings = HealthSettings(weights={"engagement": 1.0})
    frame = _shop({})
    with pytest.raises(InputError, match=r"none of the health components this business has data for \(cadence, "):
        health_score(frame, settings, components=available_components(frame, "commerce"))
