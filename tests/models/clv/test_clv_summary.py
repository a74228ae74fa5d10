"""Orders → (x, t_x, T, monetary) → predicted CLV: hand-built timelines, CDNOW end to end, discounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retain.errors import InputError, NotFittedError
from retain.models.clv import BetaGeoModel, GammaGammaModel, predicted_clv, summary_from_orders


def _orders(rows):
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"]).assign(
        ordered_at=lambda d: pd.to_datetime(d["ordered_at"])
    )


TIMELINE = _orders(
    [
        ("a", "2024-01-01 09:00", 10.0),
        ("a", "2024-01-01 17:30", 5.0),  # same day: one transaction worth 15
        ("a", "2024-01-15 12:00", 20.0),
        ("a", "2024-01-29 08:00", 30.0),
        ("a", "2024-02-06 10:00", 99.0),  # after as_of: ignored
        ("b", "2024-01-22 23:59", 40.0),
        ("c", "2024-02-05 06:00", 7.0),  # on the as_of day, before as_of
    ]
)


def test_summary_by_hand_in_weeks() -> None:
    s = summary_from_orders(TIMELINE, as_of="2024-02-05 12:00", time_unit="W")
    # a: transaction days 01-01 (15), 01-15 (20), 01-29 (30) → x=2, t_x=28 d=4 w, T=35 d=5 w, monetary=(20+30)/2
    # b: one order → x=0, t_x=0, T=14 d=2 w, monetary 0.  c: first order on the as_of day → T=0.
    expected = pd.DataFrame(
        {"x": [2, 0, 0], "t_x": [4.0, 0.0, 0.0], "T": [5.0, 2.0, 0.0], "monetary": [25.0, 0.0, 0.0]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(s, expected, check_dtype=False)
    assert s["x"].dtype == np.int64
    assert s.attrs == {"time_unit": "W", "as_of": "2024-02-05T12:00:00+00:00"}


def test_summary_in_days_and_status_filter() -> None:
    orders = TIMELINE.assign(status="completed")
    orders.loc[2, "status"] = "refunded"  # a's 01-15 order no longer counts
    s = summary_from_orders(orders, as_of=pd.Timestamp("2024-02-05 12:00", tz="UTC"), time_unit="D")
    assert s.loc["a"].to_dict() == {"x": 1, "t_x": 28.0, "T": 35.0, "monetary": 30.0}
    assert s.attrs["time_unit"] == "D"


def test_summary_uses_utc_days() -> None:
    # 23:30 in New York on Jan 1 is Jan 2 in UTC: two distinct UTC days, one repeat purchase.
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "ordered_at": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 23:30"]).tz_localize("America/New_York"),
            "amount": [1.0, 2.0],
        }
    )
    s = summary_from_orders(orders, as_of="2024-01-08", time_unit="D")
    assert s.loc["a"].to_dict() == {"x": 1, "t_x": 1.0, "T": 7.0, "monetary": 2.0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(amount=-1.0), "negative"),
        (lambda d: d.assign(customer_id=None), "customer_id has 7 missing"),
        (lambda d: d.drop(columns="amount"), "missing column"),
        (lambda d: d[d["customer_id"] == "zzz"], "no completed order"),
    ],
)
def test_summary_rejects_bad_orders(change, message) -> None:
    with pytest.raises(InputError, match=message):
        summary_from_orders(change(TIMELINE), as_of="2024-02-05")


def test_summary_rejects_unknown_time_unit() -> None:
    with pytest.raises(InputError, match=r"\['D', 'W'\]"):
        summary_from_orders(TIMELINE, as_of="2024-02-05", time_unit="M")


def test_cdnow_summary_rebuilt_from_transactions(cdnow_orders, cdnow_summary) -> None:
    # The published summary (weeks, 2 decimals) from the raw CDNOW transactions, calibration ending 1997-09-30.
    s = summary_from_orders(cdnow_orders, as_of="1997-09-30", time_unit="W")
    assert len(s) == 2357
    ref = cdnow_summary.loc[s.index]
    np.testing.assert_array_equal(s["x"], ref["x"])
    for col in ("t_x", "T", "monetary"):
        np.testing.assert_allclose(s[col], ref[col], atol=0.005 + 1e-9)


def test_cdnow_end_to_end_matches_published_and_clvtools(cdnow_orders) -> None:
    s = summary_from_orders(cdnow_orders, as_of="1997-09-30", time_unit="W")
    bg = BetaGeoModel().fit(s)
    gg = GammaGammaModel().fit(s)
    # FHL 2005 / FH 2013 to their published digits ...
    assert (round(bg.r_, 3), round(bg.alpha_, 3), round(bg.a_, 3), round(bg.b_, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert (round(gg.p_, 2), round(gg.q_, 2), round(gg.v_, 2)) == (6.25, 3.74, 15.44)
    # ... and CLVTools' correctness tests on the same data (independent R/C++ code), to their printed digits.
    assert bg.log_likelihood_ == pytest.approx(-9582.429, abs=1e-3)
    np.testing.assert_allclose(
        [bg.r_, bg.alpha_, bg.a_, bg.b_], [0.2425945, 4.4136019, 0.7929199, 2.4258881], rtol=2e-5
    )
    assert gg.log_likelihood_ == pytest.approx(-4055.9177, abs=1e-4)


# --- predicted_clv -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(cdnow_summary):
    summary = cdnow_summary[["x", "t_x", "T", "monetary"]].copy()
    summary.attrs["time_unit"] = "W"
    return BetaGeoModel().fit(summary), GammaGammaModel().fit(summary), summary


def test_clv_by_hand_for_one_customer(fitted) -> None:
    bg, gg, summary = fitted
    one = summary.loc[[1]]  # x=2, t_x=30.43, T=38.86, monetary=22.35
    out = predicted_clv(bg, gg, one, horizon_months=3, discount_rate_monthly=0.02, margin=0.3)
    month = 365.25 / 12 / 7  # weeks
    cum = [bg.expected_purchases(k * month, 2, 30.43, 38.86)[()] for k in range(4)]
    value = gg.p_ * (gg.v_ + 2 * 22.35) / (gg.p_ * 2 + gg.q_ - 1)
    expected = sum((cum[k] - cum[k - 1]) * value * 0.3 / 1.02**k for k in (1, 2, 3))
    assert out.loc[1, "clv"] == pytest.approx(expected, rel=1e-12)
    assert out.loc[1, "expected_purchases"] == pytest.approx(cum[3], rel=1e-12)
    assert out.loc[1, "expected_value"] == pytest.approx(value, rel=1e-12)
    assert out.loc[1, "p_alive"] == pytest.approx(bg.probability_alive(2, 30.43, 38.86)[()], rel=1e-12)


def test_clv_without_discount_is_purchases_times_value(fitted) -> None:
    bg, gg, summary = fitted
    out = predicted_clv(bg, gg, summary, horizon_months=12, discount_rate_monthly=0.0, margin=1.0)
    np.testing.assert_allclose(out["clv"], out["expected_purchases"] * out["expected_value"], rtol=1e-10)
    # 12 months = 365.25 days = 52.18 weeks.
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    np.testing.assert_allclose(out["expected_purchases"], bg.expected_purchases(365.25 / 7, x, t_x, T), rtol=1e-12)
    assert list(out.columns) == ["p_alive", "expected_purchases", "expected_value", "clv"]
    assert out.index.equals(summary.index)


def test_discount_and_margin_lower_clv(fitted) -> None:
    bg, gg, summary = fitted
    base = predicted_clv(bg, gg, summary, discount_rate_monthly=0.0)["clv"]
    discounted = predicted_clv(bg, gg, summary, discount_rate_monthly=0.05)["clv"]
    half = predicted_clv(bg, gg, summary, discount_rate_monthly=0.0, margin=0.5)["clv"]
    assert (discounted < base).all()
    np.testing.assert_allclose(half, base / 2, rtol=1e-12)
    # Every monthly term is discounted by between 1/1.05 and 1/1.05^12.
    assert ((discounted >= base / 1.05**12) & (discounted <= base / 1.05)).all()


def test_clv_in_days_equals_clv_in_weeks(cdnow_summary) -> None:
    weeks = cdnow_summary[["x", "t_x", "T", "monetary"]]
    days = weeks.assign(t_x=weeks["t_x"] * 7, T=weeks["T"] * 7)
    gg = GammaGammaModel().fit(weeks)
    clv_w = predicted_clv(BetaGeoModel().fit(weeks), gg, weeks, time_unit="W")
    clv_d = predicted_clv(BetaGeoModel().fit(days), gg, days, time_unit="D")
    np.testing.assert_allclose(clv_d["clv"], clv_w["clv"], rtol=1e-4)


def test_clv_errors(fitted) -> None:
    bg, gg, summary = fitted
    with pytest.raises(NotFittedError):
        predicted_clv(BetaGeoModel(), gg, summary)
    with pytest.raises(NotFittedError):
        predicted_clv(bg, GammaGammaModel(), summary)
    no_unit = summary.copy()
    no_unit.attrs = {}
    with pytest.raises(InputError, match="time_unit"):
        predicted_clv(bg, gg, no_unit)
    bad = [
        {"horizon_months": 0},
        {"horizon_months": 1.5},
        {"discount_rate_monthly": -0.1},
        {"margin": 1.5},
    ]
    for kwargs in bad:
        with pytest.raises(InputError):
            predicted_clv(bg, gg, summary, **kwargs)
