"""alive_and_expected_orders: P(alive) and expected orders per customer from a summary, MBG/NBD by default; and
predicted_clv with either purchase model."""

from __future__ import annotations

import numpy as np
import pytest

from retain.errors import InputError, NotFittedError
from retain.models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    alive_and_expected_orders,
    predicted_clv,
    summary_from_orders,
)


@pytest.fixture(scope="module")
def summary(cdnow_orders):
    return summary_from_orders(cdnow_orders, as_of="1997-09-30", time_unit="W")


def test_default_is_mbgnbd_fitted_on_the_summary(summary) -> None:
    out = alive_and_expected_orders(summary, horizon_weeks=39)
    assert list(out.columns) == ["p_alive", "expected_orders", "expected_orders_if_alive"]
    assert out.index.equals(summary.index)
    mbg = ModifiedBetaGeoModel().fit(summary)
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    np.testing.assert_allclose(out["p_alive"], mbg.probability_alive(x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(out["expected_orders"], mbg.expected_purchases(39.0, x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(out["expected_orders"], out["p_alive"] * out["expected_orders_if_alive"], rtol=1e-12)
    # The point of the default: one-time buyers are not all certainly alive, and earlier ones less so.
    once = summary["x"] == 0
    assert (out.loc[once, "p_alive"] < 1).all()
    order = summary.loc[once, "T"].sort_values(kind="stable").index
    assert out.loc[order, "p_alive"].is_monotonic_decreasing


def test_a_fitted_bgnbd_model_can_be_passed(summary) -> None:
    bg = BetaGeoModel().fit(summary)
    out = alive_and_expected_orders(summary, horizon_weeks=13, model=bg)
    assert (out.loc[summary["x"] == 0, "p_alive"] == 1.0).all()
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    np.testing.assert_allclose(out["expected_orders"], bg.expected_purchases(13.0, x, t_x, T), rtol=1e-12)


def test_horizon_is_in_weeks_whatever_the_summary_unit(cdnow_orders, summary) -> None:
    in_days = summary_from_orders(cdnow_orders, as_of="1997-09-30", time_unit="D")
    weeks = alive_and_expected_orders(summary, horizon_weeks=26)
    days = alive_and_expected_orders(in_days, horizon_weeks=26)
    # Fits in days and in weeks agree to the optimiser's tolerance (α scales by 7, nothing else changes).
    np.testing.assert_allclose(days.to_numpy(), weeks.to_numpy(), rtol=1e-4)


@pytest.mark.parametrize("horizon", [0, -1.0, float("nan"), True, "13"])
def test_rejects_a_bad_horizon(summary, horizon) -> None:
    with pytest.raises(InputError, match="horizon_weeks must be a number of weeks > 0"):
        alive_and_expected_orders(summary, horizon_weeks=horizon)


def test_rejects_an_unfitted_model_and_a_summary_without_unit(summary) -> None:
    with pytest.raises(NotFittedError, match="ModifiedBetaGeoModel is not fitted"):
        alive_and_expected_orders(summary, horizon_weeks=13, model=ModifiedBetaGeoModel())
    bare = summary[["x", "t_x", "T"]].copy()
    bare.attrs = {}
    with pytest.raises(InputError, match="time_unit must be one of"):
        alive_and_expected_orders(bare, horizon_weeks=13)
    assert len(alive_and_expected_orders(bare, horizon_weeks=13, time_unit="W")) == len(summary)
    with pytest.raises(InputError, match=r"missing column\(s\) \['t_x'\]"):
        alive_and_expected_orders(bare.drop(columns="t_x"), horizon_weeks=13, time_unit="W")


def test_predicted_clv_takes_either_purchase_model(summary) -> None:
    gg = GammaGammaModel().fit(summary)
    mbg, bg = ModifiedBetaGeoModel().fit(summary), BetaGeoModel().fit(summary)
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    for model in (mbg, bg):
        out = predicted_clv(model, gg, summary, horizon_months=12, discount_rate_monthly=0.0)
        np.testing.assert_allclose(out["p_alive"], model.probability_alive(x, t_x, T), rtol=1e-12)
        year = model.expected_purchases(365.25 / 7, x, t_x, T)  # 12 months in weeks
        np.testing.assert_allclose(out["expected_purchases"], year, rtol=1e-12)
        np.testing.assert_allclose(out["clv"], out["expected_purchases"] * out["expected_value"], rtol=1e-10)
