"""Health score: literal scores and bands of hand-built customers, weights from settings, and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders_health import BASE, feature_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from retain.errors import InputError
from retain.health import HealthBand, health_score, required_columns
from retain.settings import HealthSettings

COMPONENTS = ["engagement", "usage_trend", "support", "sentiment", "payment", "adoption"]


def test_hand_built_customers_have_the_hand_computed_scores_and_bands():
    features = feature_rows(
        # all good; NPS 9 -> 80 + 10 = 90; adoption 4/5 -> 80.
        # 0.3*100 + 0.2*100 + 0.15*100 + 0.1*90 + 0.15*100 + 0.1*80 = 97
        dict(events_30d=20, events_trend=1.2, nps_latest=9, features_used=4, features_never_used=1),
        # engagement 5/20 -> 25, trend 0.5 -> 50, support 100 - (2*15 + 1*25) = 45, NPS 3 -> 25 and CSAT 2 -> 25,
        # one failed payment -> 50, adoption 1/5 -> 20:  7.5 + 10 + 6.75 + 2.5 + 7.5 + 2 = 36.25
        dict(
            events_30d=5,
            events_trend=0.5,
            open_tickets=2,
            open_complaints=1,
            nps_latest=3,
            csat_latest=2,
            failed_payments_90d=1,
            features_used=1,
            features_never_used=4,
        ),
        # nothing known: engagement 0, trend (no history, inactive) 50, support 100, sentiment 50, payment 100,
        # adoption (no core features) 50:  0 + 10 + 15 + 5 + 15 + 5 = 50
        dict(events_30d=0, events_trend=math.nan, features_used=0, features_never_used=0),
        # engagement 12/20 -> 60, new activity -> 100, one open ticket -> 85, NPS 7 -> 65 and CSAT 4 -> 75 -> 70,
        # two failed payments -> 20, adoption 3/6 -> 50:  18 + 20 + 12.75 + 7 + 3 + 5 = 65.75
        dict(
            events_30d=12,
            events_trend=math.nan,
            open_tickets=1,
            nps_latest=7,
            csat_latest=4,
            failed_payments_90d=2,
            features_used=3,
            features_never_used=3,
        ),
    )
    out = health_score(features)
    assert out["customer_id"].tolist() == ["c1", "c2", "c3", "c4"]
    assert out["health"].tolist() == [97, 36, 50, 66]
    assert out["band"].tolist() == ["green", "red", "yellow", "yellow"]
    expected_points = {
        "engagement": [100, 25, 0, 60],
        "usage_trend": [100, 50, 50, 100],
        "support": [100, 45, 100, 85],
        "sentiment": [90, 25, 50, 70],
        "payment": [100, 50, 100, 20],
        "adoption": [80, 20, 50, 50],
    }
    for name, points in expected_points.items():
        np.testing.assert_allclose(out[name], points, err_msg=name)
    np.testing.assert_allclose(out["support_contribution"], [15, 6.75, 15, 12.75])
    contributions = out[[f"{c}_contribution" for c in COMPONENTS]].sum(axis=1)
    np.testing.assert_allclose(contributions, [97, 36.25, 50, 65.75])


def test_piecewise_knots_between_and_beyond_the_ends():
    features = feature_rows(
        dict(events_30d=40, nps_latest=10, failed_payments_90d=5, open_tickets=3, open_complaints=3),
        dict(events_30d=3, nps_latest=6, csat_latest=5, failed_payments_90d=1.5),
        dict(nps_latest=0, csat_latest=1, events_trend=0.0, events_30d=0),
    )
    out = health_score(features)
    np.testing.assert_allclose(out["engagement"], [100, 15, 0])  # saturates at 20 events
    np.testing.assert_allclose(out["sentiment"], [100, 75, 0])  # (50 + 100) / 2
    np.testing.assert_allclose(out["payment"], [0, 35, 100])  # 3+ failures -> 0; 1.5 -> halfway 50..20
    np.testing.assert_allclose(out["support"], [0, 100, 100])  # penalty 120 is floored at 0
    np.testing.assert_allclose(out["usage_trend"], [100, 100, 0])


def test_weights_and_bands_come_from_settings_and_the_score_rounds_half_up():
    only_engagement = HealthSettings(weights={"engagement": 2.0}, green_min=70, yellow_min=40)
    features = feature_rows(
        dict(events_30d=13.9, failed_payments_90d=3),  # 69.5 -> 70: green; payment has weight 0
        dict(events_30d=13.8),  # 69 -> yellow
        dict(events_30d=7.9),  # 39.5 -> 40 -> yellow
        dict(events_30d=7.8),  # 39 -> red
    )
    out = health_score(features, only_engagement)
    assert out["health"].tolist() == [70, 69, 40, 39]
    assert out["band"].tolist() == ["green", "yellow", "yellow", "red"]
    assert out["payment"].tolist()[0] == 0.0 and out["payment_contribution"].tolist()[0] == 0.0

    # Everything perfect but NPS: 0.9 * 100 + 0.1 * sentiment; NPS 7 -> 65 -> 96.5 -> 97, NPS 9 -> 90 -> 99.
    stricter = HealthSettings(green_min=98, yellow_min=97)
    out = health_score(feature_rows(dict(nps_latest=7), dict(nps_latest=9), dict(nps_latest=0)), stricter)
    assert out["health"].tolist() == [97, 99, 90]
    assert out["band"].tolist() == ["yellow", "green", "red"]


def test_band_values_are_the_enum_values():
    assert {str(b) for b in HealthBand} == {"green", "yellow", "red"}


def test_missing_columns_are_named():
    features = feature_rows({}).drop(columns=["open_complaints", "nps_latest"])
    with pytest.raises(InputError, match=r"lacks column\(s\) \['open_complaints', 'nps_latest'\]"):
        health_score(features)
    assert set(required_columns()) == set(BASE)


def test_keeps_the_input_index():
    features = feature_rows({}, {}).set_index(pd.Index([10, 20]))
    assert health_score(features).index.tolist() == [10, 20]


# ---------------------------------------------------------------- monotonicity (property)
_COUNT = st.integers(min_value=0, max_value=60)
_OPTIONAL_NPS = st.one_of(st.just(math.nan), st.integers(0, 10))
_OPTIONAL_CSAT = st.one_of(st.just(math.nan), st.integers(1, 5))
_TREND = st.one_of(st.just(math.nan), st.floats(0, 3))

_CUSTOMER = st.fixed_dictionaries(
    {
        "events_30d": _COUNT,
        "events_trend": _TREND,
        "open_tickets": st.integers(0, 6),
        "open_complaints": st.integers(0, 6),
        "nps_latest": _OPTIONAL_NPS,
        "csat_latest": _OPTIONAL_CSAT,
        "failed_payments_90d": st.integers(0, 5),
        "features_used": st.integers(0, 8),
        "features_never_used": st.integers(0, 8),
    }
)
# How each input gets worse: (column, direction); lower is worse for -1, higher is worse for +1.
_WORSEN = [
    ("events_30d", -1),
    ("events_trend", -1),
    ("open_tickets", +1),
    ("open_complaints", +1),
    ("nps_latest", -1),
    ("csat_latest", -1),
    ("failed_payments_90d", +1),
    ("features_used", -1),
    ("features_never_used", +1),
]
_BOUNDS = {"nps_latest": (0, 10), "csat_latest": (1, 5)}


@settings(max_examples=300, deadline=None)
@given(customer=_CUSTOMER, which=st.sampled_from(_WORSEN), step=st.floats(0.01, 10))
def test_worsening_any_input_never_raises_the_score(customer, which, step):
    column, direction = which
    before = customer[column]
    if math.isnan(before):  # an unanswered survey or undefined trend has no "worse" value
        return
    low, high = _BOUNDS.get(column, (0, math.inf))
    after = min(max(before + direction * step, low), high)
    worse = {**customer, column: after}
    out = health_score(feature_rows(customer, worse))
    assert out["health"].iloc[1] <= out["health"].iloc[0]
    for name in COMPONENTS:
        assert out[name].iloc[1] <= out[name].iloc[0] + 1e-9, name
