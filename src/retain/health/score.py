"""Health score: a rules-based 0–100 score per customer that needs no churn labels.

Works on the pandas feature table that :func:`retain.models.churn.features.churn_features` produces (executed
out of Ibis, one row per customer). It is plain arithmetic on a few columns per row, so pandas/NumPy is the
simplest place for it; the features themselves are already computed by the engine.

Each component maps the customer's own feature values to 0–100 with a piecewise-linear function (``np.interp``
between the knots below; values beyond the last knot keep the last knot's value):

=============  ===========================================  ==================================================
component      input columns                                knots (input → points)
=============  ===========================================  ==================================================
engagement     ``events_30d``                               0 → 0, ``engagement_saturation`` (20) → 100
usage_trend    ``events_trend`` (last 30 / previous 30 d)   0 → 0, 1 → 100 (steady or growing = 100).
               ``events_30d``                               No previous activity (trend null): 100 if active in
                                                            the last 30 days, else 50 (neutral: nothing to compare)
support        ``open_tickets``, ``open_complaints``        penalty = 15 × open tickets + 25 × open complaints (a
                                                            complaint is also a ticket: 40 in all); 0 → 100,
                                                            100 → 0
sentiment      ``nps_latest`` (0–10), ``csat_latest`` (1–5)  NPS 0 → 0, 6 → 50, 8 → 80, 10 → 100; CSAT 1 → 0,
                                                            5 → 100; the mean of the answered surveys, 50
                                                            (neutral) when neither was answered
payment        ``failed_payments_90d``                      0 → 100, 1 → 50, 2 → 20, 3 → 0
adoption       ``features_used``, ``features_never_used``   share used = used / (used + never used); 0 → 0,
                                                            1 → 100; 50 (neutral) when there are no core features
cadence        ``days_since_last_order``,                   days since the last order relative to the
               ``typical_order_gap_days``                   customer's own average gap between orders (the
                                                            population's median gap for one-time buyers):
                                                            ≤ 1 gap → 100, 2 → 50, 4 or more → 0
order_trend    ``orders_90d``, ``orders_prev_90d``          orders in the last 90 days / the 90 before:
                                                            0 → 0, 1 → 100; nothing before: 100 if ordering
                                                            now, else 0 (a shop customer who stopped buying)
alive          ``p_alive``                                  P(alive) of the buying model × 100
refunds        ``bad_orders_90d``                           refunded or canceled orders in 90 days: 0 → 100,
                                                            1 → 50, 2 → 20, 3 → 0
=============  ===========================================  ==================================================

**Which components count.** A component counts only where the business has data for it
(:func:`available_components`): engagement and usage trend need events, support needs tickets, sentiment survey
answers, payment a subscription business, adoption feature-usage events, the four cadence components a shop
(orders, non-contractual). The weights of the components that count are re-normalised, and the output says which
they were (``health_components``), so a shop's score is not a constant 50 made of neutral components.

The score is the weighted mean of the components that count, with the ``[health] weights`` of ``retain.toml``
(only their ratios matter); a component's *contribution* is its weight share × its points, so the contributions
add up to the unrounded score. The score is rounded half up to an integer and banded on the rounded value:
``green`` at or above ``green_min`` (70), ``yellow`` at or above ``yellow_min`` (40), else ``red``.
Every component is non-increasing in each "bad" input (fewer events, a lower trend, more open tickets...), so
worsening any input never raises the score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from retain.errors import InputError
from retain.settings import HealthComponent, HealthSettings

__all__ = [
    "COMPONENTS",
    "SUBSCRIPTION_COMPONENTS",
    "HealthBand",
    "HealthComponent",
    "available_components",
    "health_score",
    "required_columns",
]

NEUTRAL = 50.0
"""Points of a component that has no information about the customer."""


class HealthBand(StrEnum):
    """Traffic-light band of a health score."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def _ramp(values: pd.Series | np.ndarray, knots: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Piecewise-linear map through ``knots`` (input, points), flat beyond the ends; NaN stays NaN."""
    xs, ys = zip(*knots, strict=True)
    x = np.asarray(values, dtype="float64")
    return np.where(np.isnan(x), np.nan, np.interp(x, xs, ys))


def _count(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as floats; missing counts mean nothing happened."""
    return pd.to_numeric(frame[column]).astype("float64").fillna(0.0).to_numpy()


def _number(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column]).astype("float64").to_numpy(na_value=np.nan)


def _engagement(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    return _ramp(_count(frame, "events_30d"), ((0.0, 0.0), (settings.engagement_saturation, 100.0)))


def _usage_trend(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    trend = _ramp(_number(frame, "events_trend"), ((0.0, 0.0), (1.0, 100.0)))
    no_history = np.where(_count(frame, "events_30d") > 0, 100.0, NEUTRAL)
    return np.where(np.isnan(trend), no_history, trend)


def _support(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    penalty = 15.0 * _count(frame, "open_tickets") + 25.0 * _count(frame, "open_complaints")
    return _ramp(penalty, ((0.0, 100.0), (100.0, 0.0)))


def _sentiment(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    nps = _ramp(_number(frame, "nps_latest"), ((0.0, 0.0), (6.0, 50.0), (8.0, 80.0), (10.0, 100.0)))
    csat = _ramp(_number(frame, "csat_latest"), ((1.0, 0.0), (5.0, 100.0)))
    both = np.vstack([nps, csat])
    answered = (~np.isnan(both)).sum(axis=0)
    total = np.nansum(both, axis=0)
    return np.where(answered > 0, total / np.maximum(answered, 1), NEUTRAL)


def _payment(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    return _ramp(_count(frame, "failed_payments_90d"), ((0.0, 100.0), (1.0, 50.0), (2.0, 20.0), (3.0, 0.0)))


def _adoption(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    used = _count(frame, "features_used")
    core = used + _count(frame, "features_never_used")
    share = np.divide(used, core, out=np.full_like(used, np.nan), where=core > 0)
    return np.where(np.isnan(share), NEUTRAL, _ramp(share, ((0.0, 0.0), (1.0, 100.0))))


def _cadence(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    gap = _number(frame, "typical_order_gap_days")
    known = gap[~np.isnan(gap) & (gap > 0)]
    reference = float(np.median(known)) if known.size else 90.0  # one-time buyers: the population's rhythm
    gap = np.where(np.isnan(gap) | (gap <= 0), reference, gap)
    ratio = _number(frame, "days_since_last_order") / gap
    return np.where(np.isnan(ratio), 0.0, _ramp(ratio, ((1.0, 100.0), (2.0, 50.0), (4.0, 0.0))))


def _order_trend(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    now, before = _count(frame, "orders_90d"), _count(frame, "orders_prev_90d")
    ratio = np.divide(now, before, out=np.full_like(now, np.nan), where=before > 0)
    return np.where(np.isnan(ratio), np.where(now > 0, 100.0, 0.0), _ramp(ratio, ((0.0, 0.0), (1.0, 100.0))))


def _alive(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    return np.clip(_number(frame, "p_alive"), 0.0, 1.0) * 100.0


def _refunds(frame: pd.DataFrame, settings: HealthSettings) -> np.ndarray:
    return _ramp(_count(frame, "bad_orders_90d"), ((0.0, 100.0), (1.0, 50.0), (2.0, 20.0), (3.0, 0.0)))


@dataclass(frozen=True)
class _Component:
    columns: tuple[str, ...]
    points: Callable[[pd.DataFrame, HealthSettings], np.ndarray]


COMPONENTS: dict[HealthComponent, _Component] = {
    HealthComponent.ENGAGEMENT: _Component(("events_30d",), _engagement),
    HealthComponent.USAGE_TREND: _Component(("events_trend", "events_30d"), _usage_trend),
    HealthComponent.SUPPORT: _Component(("open_tickets", "open_complaints"), _support),
    HealthComponent.SENTIMENT: _Component(("nps_latest", "csat_latest"), _sentiment),
    HealthComponent.PAYMENT: _Component(("failed_payments_90d",), _payment),
    HealthComponent.ADOPTION: _Component(("features_used", "features_never_used"), _adoption),
    HealthComponent.CADENCE: _Component(("days_since_last_order", "typical_order_gap_days"), _cadence),
    HealthComponent.ORDER_TREND: _Component(("orders_90d", "orders_prev_90d"), _order_trend),
    HealthComponent.ALIVE: _Component(("p_alive",), _alive),
    HealthComponent.REFUNDS: _Component(("bad_orders_90d",), _refunds),
}
"""Registry of the health components: the feature columns each reads and its points function."""

SUBSCRIPTION_COMPONENTS: tuple[HealthComponent, ...] = (
    HealthComponent.ENGAGEMENT,
    HealthComponent.USAGE_TREND,
    HealthComponent.SUPPORT,
    HealthComponent.SENTIMENT,
    HealthComponent.PAYMENT,
    HealthComponent.ADOPTION,
)
"""The components of a subscription business with every kind of data (the default of :func:`health_score`)."""

_SHOP_COMPONENTS = (
    HealthComponent.CADENCE,
    HealthComponent.ORDER_TREND,
    HealthComponent.ALIVE,
    HealthComponent.REFUNDS,
)


def required_columns(components: tuple[HealthComponent, ...] = SUBSCRIPTION_COMPONENTS) -> list[str]:
    """Feature columns :func:`health_score` reads for ``components``, in a stable order."""
    return list(dict.fromkeys(col for name in components for col in COMPONENTS[name].columns))


def _has(frame: pd.DataFrame, column: str, *, nonzero: bool = True) -> bool:
    if column not in frame.columns:
        return False
    values = pd.to_numeric(frame[column], errors="coerce")
    return bool((values.fillna(0) != 0).any()) if nonzero else bool(values.notna().any())


def available_components(features: pd.DataFrame, business_model: str) -> tuple[HealthComponent, ...]:
    """The components this business has data for, judged from the feature table of its customers.

    Engagement and usage trend need events; support needs tickets; sentiment needs survey answers; payment
    applies to subscriptions; adoption needs feature-usage events; cadence, order trend and refunds need a shop's
    orders, and alive its buying model's P(alive).
    """
    shop = str(business_model) == "commerce"
    found = {
        HealthComponent.ENGAGEMENT: _has(features, "events_90d"),
        HealthComponent.USAGE_TREND: _has(features, "events_90d"),
        HealthComponent.SUPPORT: _has(features, "tickets"),
        HealthComponent.SENTIMENT: _has(features, "nps_latest", nonzero=False)
        or _has(features, "csat_latest", nonzero=False),
        HealthComponent.PAYMENT: not shop,
        HealthComponent.ADOPTION: _has(features, "features_used") or _has(features, "features_never_used"),
        HealthComponent.CADENCE: shop and _has(features, "orders"),
        HealthComponent.ORDER_TREND: shop and _has(features, "orders"),
        HealthComponent.ALIVE: shop and _has(features, "p_alive", nonzero=False),
        HealthComponent.REFUNDS: shop and _has(features, "orders"),
    }
    return tuple(name for name in COMPONENTS if found[name])


def health_score(
    features: pd.DataFrame,
    settings: HealthSettings | None = None,
    *,
    components: tuple[HealthComponent, ...] = SUBSCRIPTION_COMPONENTS,
) -> pd.DataFrame:
    """Health score, band and component breakdown of every customer in a feature table.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer with the columns :func:`required_columns` names for ``components`` (as produced by
        ``churn_features``, plus ``p_alive`` for the alive component); ``customer_id``, when present, is carried
        to the output.
    settings : HealthSettings, optional
        Weights and bands (the ``[health]`` section of ``retain.toml``); defaults when omitted.
    components : tuple of HealthComponent
        The components that count (:func:`available_components` for a business); their weights are
        re-normalised to sum to 1.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``features``: ``customer_id`` (if given), ``health`` (int 0–100), ``band``
        (green/yellow/red), ``health_components`` (the components that count, comma-separated), then for every
        component ``<component>`` (its points, 0–100; null when it does not count) and
        ``<component>_contribution`` (weight share × points; the contributions add up to the unrounded score).

    Raises
    ------
    InputError
        When ``features`` is not a DataFrame, lacks a required column, or no counting component has a weight.
    """
    if not isinstance(features, pd.DataFrame):
        raise InputError(f"features must be a pandas DataFrame (a churn feature table); got {type(features).__name__}.")
    settings = settings or HealthSettings()
    components = tuple(HealthComponent(c) for c in components)
    missing = [col for col in required_columns(components) if col not in features.columns]
    if missing:
        raise InputError(
            f"the feature table lacks column(s) {missing} that the health score needs; "
            "build it with retain.models.churn.features.churn_features."
        )
    total_weight = sum(settings.weights.get(str(name), 0.0) for name in components)
    if not total_weight > 0:
        raise InputError(
            f"none of the health components this business has data for ({', '.join(components) or 'none'}) has a "
            "weight in [health] weights of retain.toml; give at least one of them a positive weight."
        )
    out = pd.DataFrame(index=features.index)
    if "customer_id" in features.columns:
        out["customer_id"] = features["customer_id"]
    parts: dict[str, np.ndarray] = {}
    score = np.zeros(len(features))
    for name, component in COMPONENTS.items():
        if name not in components:
            parts[str(name)] = parts[f"{name}_contribution"] = np.full(len(features), np.nan)
            continue
        points = component.points(features, settings)
        contribution = points * settings.weights.get(str(name), 0.0) / total_weight
        parts[str(name)] = points
        parts[f"{name}_contribution"] = contribution
        score = score + contribution
    rounded = np.floor(score + 0.5 + 1e-9).astype("int64")  # half up; the epsilon absorbs float sums like 69.4999…
    out["health"] = rounded
    out["band"] = pd.Series(_bands(rounded, settings), index=features.index, dtype="str")
    out["health_components"] = ",".join(components)
    for column, values in parts.items():
        out[column] = values
    return out


def _bands(score: np.ndarray, settings: HealthSettings) -> np.ndarray:
    return np.select(
        [score >= settings.green_min, score >= settings.yellow_min],
        [HealthBand.GREEN.value, HealthBand.YELLOW.value],
        default=HealthBand.RED.value,
    )
