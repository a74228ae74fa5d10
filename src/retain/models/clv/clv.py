"""From orders to per-customer predictions: P(alive), expected orders and lifetime value.

Purchases come from a BG/NBD-family model; MBG/NBD is the default (:func:`alive_and_expected_orders`) because under
BG/NBD a customer who bought once is alive for certain, however long ago that was, which ranks churn badly on shop
data where most customers buy once. Spend comes from Gamma-Gamma.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from retain.errors import InputError
from retain.models.clv._beta_geo_family import BetaGeoFamilyModel
from retain.models.clv._validation import check_fitted
from retain.models.clv.gamma_gamma import GammaGammaModel
from retain.models.clv.mbgnbd import ModifiedBetaGeoModel

__all__ = ["DAYS_PER_MONTH", "TIME_UNIT_DAYS", "alive_and_expected_orders", "predicted_clv", "summary_from_orders"]

#: Length of one time unit in days, for the units a summary can be expressed in.
TIME_UNIT_DAYS = {"D": 1.0, "W": 7.0}
#: An average Gregorian month: 365.25 / 12 days.
DAYS_PER_MONTH = 365.25 / 12.0

_ORDER_COLUMNS = ("customer_id", "ordered_at", "amount")


def summary_from_orders(orders: pd.DataFrame, *, as_of: Any, time_unit: str = "W") -> pd.DataFrame:
    """Summarise orders into one row per customer: x, t_x, T and monetary, as of a point in time.

    A transaction is a calendar day (UTC) with at least one order: several orders on the same day collapse into
    one transaction whose value is their sum. Orders after ``as_of`` are ignored. If ``orders`` has a ``status``
    column, only ``completed`` orders count (refunds and cancellations are not purchases).

    Parameters
    ----------
    orders : pandas.DataFrame
        Columns ``customer_id``, ``ordered_at`` (timestamps; naive ones are taken as UTC) and ``amount`` (>= 0).
    as_of : datetime-like
        End of the observation period (naive = UTC).
    time_unit : {"W", "D"}, default "W"
        Unit of ``t_x`` and ``T``: weeks (days / 7, fractional) or days.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted), columns ``x`` (repeat transactions = transaction days − 1), ``t_x``
        (first to last transaction), ``T`` (first transaction to ``as_of``) and ``monetary`` (mean value of the
        repeat transactions, first one excluded as in lifetimes; 0 when x = 0). ``attrs["time_unit"]`` and
        ``attrs["as_of"]`` record how it was built.
    """
    if time_unit not in TIME_UNIT_DAYS:
        raise InputError(f"time_unit must be one of {sorted(TIME_UNIT_DAYS)}; got {time_unit!r}.")
    if not isinstance(orders, pd.DataFrame):
        raise InputError(f"orders must be a pandas DataFrame; got {type(orders).__name__}.")
    missing = [c for c in _ORDER_COLUMNS if c not in orders.columns]
    if missing:
        raise InputError(f"orders is missing column(s) {missing}; expected at least {list(_ORDER_COLUMNS)}.")
    as_of_ts = _utc(pd.Timestamp(as_of), "as_of")

    df = orders
    if "status" in df.columns:
        df = df[df["status"] == "completed"]
    df = df[list(_ORDER_COLUMNS)]
    for col in _ORDER_COLUMNS:
        n_null = int(df[col].isna().sum())
        if n_null:
            raise InputError(f"orders.{col} has {n_null} missing value(s); every order needs a {col}.")
    try:
        ordered_at = pd.to_datetime(df["ordered_at"])
        amount = pd.to_numeric(df["amount"]).astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"orders.ordered_at must be timestamps and amount numbers ({exc}).") from exc
    ordered_at = _utc_series(ordered_at)
    if (amount < 0).any():
        raise InputError(
            f"orders.amount has negative values for completed orders (e.g. {amount[amount < 0].iloc[0]}); "
            "expected >= 0. Record refunds with status 'refunded'."
        )

    keep = (ordered_at <= as_of_ts).to_numpy()
    day = ordered_at[keep].dt.floor("D")
    tx = (
        pd.DataFrame({"customer_id": df["customer_id"].to_numpy()[keep], "day": day.to_numpy(), "value": amount[keep]})
        .groupby(["customer_id", "day"], sort=True)["value"]
        .sum()
        .reset_index()
    )
    if tx.empty:
        raise InputError(f"no completed order on or before as_of={as_of_ts.isoformat()}; nothing to summarise.")

    unit_days = TIME_UNIT_DAYS[time_unit]
    grouped = tx.groupby("customer_id", sort=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    n_tx = grouped.size()
    total, first_value = grouped["value"].sum(), grouped["value"].first()
    x = (n_tx - 1).astype("int64")
    repeat_value = (total - first_value).where(x > 0, 0.0)
    as_of_day = as_of_ts.floor("D")
    summary = pd.DataFrame(
        {
            "x": x,
            "t_x": (last - first).dt.days / unit_days,
            "T": (as_of_day - first).dt.days / unit_days,
            "monetary": (repeat_value / x.where(x > 0, 1)).astype(float),
        }
    )
    summary.index.name = "customer_id"
    summary.attrs["time_unit"] = time_unit
    summary.attrs["as_of"] = as_of_ts.isoformat()
    return summary


def alive_and_expected_orders(
    summary: pd.DataFrame,
    *,
    horizon_weeks: float,
    model: BetaGeoFamilyModel | None = None,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Each customer's probability of still being a customer and expected orders over the next ``horizon_weeks``.

    By default an MBG/NBD model (:class:`ModifiedBetaGeoModel`) is fitted on ``summary`` itself, so one-time buyers
    get a P(alive) below 1 that falls with the time since their purchase.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summary_from_orders` (columns x, t_x, T).
    horizon_weeks : float
        Length of the prediction window in weeks (> 0), whatever the summary's time unit.
    model : BetaGeoModel or ModifiedBetaGeoModel, optional
        An already fitted model in the summary's time unit; by default MBG/NBD fitted on ``summary``.
    time_unit : {"W", "D"}, optional
        Unit of ``summary``; by default read from ``summary.attrs["time_unit"]``.

    Returns
    -------
    pandas.DataFrame
        Same index as ``summary``; columns ``p_alive`` (P(active at the summary's ``as_of``)), ``expected_orders``
        (expected orders in the window) and ``expected_orders_if_alive`` (the same for a customer who is still
        active: what a retained customer brings, the quantity to multiply by P(churn), DESIGN section 8). Orders are
        counted as :func:`summary_from_orders` counts transactions: days with at least one completed order.
    """
    if isinstance(horizon_weeks, bool) or not isinstance(horizon_weeks, int | float | np.integer | np.floating):
        raise InputError(f"horizon_weeks must be a number of weeks > 0; got {horizon_weeks!r}.")
    if not np.isfinite(horizon_weeks) or horizon_weeks <= 0:
        raise InputError(f"horizon_weeks must be a number of weeks > 0; got {horizon_weeks!r}.")
    (x, t_x, T), unit = _summary_columns(summary, time_unit, ("x", "t_x", "T"))
    if model is None:
        model = ModifiedBetaGeoModel().fit(summary[["x", "t_x", "T"]])
    check_fitted(model, "r_")
    horizon = float(horizon_weeks) * 7.0 / TIME_UNIT_DAYS[unit]
    return pd.DataFrame(
        {
            "p_alive": model.probability_alive(x, t_x, T),
            "expected_orders": model.expected_purchases(horizon, x, t_x, T),
            "expected_orders_if_alive": model.expected_purchases_if_alive(horizon, x, t_x, T),
        },
        index=summary.index,
    )


def predicted_clv(
    bg: BetaGeoFamilyModel,
    gg: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    discount_rate_monthly: float = 0.01,
    margin: float = 1.0,
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Predict each customer's discounted lifetime value over the next ``horizon_months``.

    ``CLV = Σ_{m=1..H} (E[Y(m)] − E[Y(m−1)]) · E[value] · margin / (1 + d)^m``, with E[Y(·)] the purchase model's
    conditional expected purchases (months converted to the summary's time unit, 1 month = 365.25/12 days) and
    E[value] the Gamma-Gamma conditional expected order value.

    Parameters
    ----------
    bg : ModifiedBetaGeoModel or BetaGeoModel
        The purchase model, fitted on summaries in the same time unit as ``summary``; MBG/NBD is the default choice
        (see the module docstring), BG/NBD stays available.
    gg : GammaGammaModel
        Fitted spend model.
    summary : pandas.DataFrame
        Output of :func:`summary_from_orders` (columns x, t_x, T, monetary).
    horizon_months : int, default 12
        Number of months to sum over.
    discount_rate_monthly : float, default 0.01
        Monthly discount rate d (>= 0).
    margin : float, default 1.0
        Share of revenue that is profit, in [0, 1].
    time_unit : {"W", "D"}, optional
        Unit of ``summary``; by default read from ``summary.attrs["time_unit"]``.

    Returns
    -------
    pandas.DataFrame
        Same index as ``summary``; columns ``p_alive``, ``expected_purchases`` (over the horizon),
        ``expected_value`` (per order) and ``clv``.
    """
    check_fitted(bg, "r_")
    check_fitted(gg, "p_")
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int | np.integer) or horizon_months < 1:
        raise InputError(f"horizon_months must be a whole number >= 1; got {horizon_months!r}.")
    if not np.isfinite(discount_rate_monthly) or discount_rate_monthly < 0:
        raise InputError(
            f"discount_rate_monthly must be >= 0 (e.g. 0.01 for 1 % a month); got {discount_rate_monthly}."
        )
    if not 0 <= margin <= 1:
        raise InputError(f"margin must be between 0 and 1 (share of revenue kept as profit); got {margin}.")
    (x, t_x, T, monetary), unit = _summary_columns(summary, time_unit, ("x", "t_x", "T", "monetary"))

    month = DAYS_PER_MONTH / TIME_UNIT_DAYS[unit]
    # Cumulative expected purchases at the end of months 0..H; their differences are the per-month purchases.
    ends = month * np.arange(horizon_months + 1, dtype=float)
    cumulative = bg.expected_purchases(ends[:, None], x[None, :], t_x[None, :], T[None, :])
    per_month = np.diff(cumulative, axis=0)
    discount = (1.0 + discount_rate_monthly) ** -np.arange(1, horizon_months + 1, dtype=float)
    value = gg.conditional_expected_value(x, monetary)
    return pd.DataFrame(
        {
            "p_alive": bg.probability_alive(x, t_x, T),
            "expected_purchases": cumulative[-1],
            "expected_value": value,
            "clv": (discount @ per_month) * value * margin,
        },
        index=summary.index,
    )


def _summary_columns(
    summary: pd.DataFrame, time_unit: str | None, columns: tuple[str, ...]
) -> tuple[list[np.ndarray], str]:
    """The summary's ``columns`` as float arrays and its time unit (``time_unit``, else ``attrs["time_unit"]``)."""
    unit = time_unit if time_unit is not None else summary.attrs.get("time_unit")
    if unit not in TIME_UNIT_DAYS:
        raise InputError(
            f"time_unit must be one of {sorted(TIME_UNIT_DAYS)} (pass it, or build summary with summary_from_orders); "
            f"got {unit!r}."
        )
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise InputError(f"summary is missing column(s) {missing}; build it with summary_from_orders.")
    return [summary[c].to_numpy(dtype=float) for c in columns], unit


def _utc(ts: pd.Timestamp, name: str) -> pd.Timestamp:
    if pd.isna(ts):
        raise InputError(f"{name} must be a date or timestamp; got a missing value.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _utc_series(s: pd.Series) -> pd.Series:
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
