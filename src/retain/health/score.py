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
=============  ===========================================  ==================================================

The score is the weighted mean of the components with the ``[health] weights`` of ``retain.toml`` (only their
ratios matter); a component's *contribution* is its weight share × its points, so the contributions add up to
the unrounded score. The score is rounded half up to an integer and banded on the rounded value:
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

__all__ = ["COMPONENTS", "HealthBand", "HealthComponent", "health_score", "required_columns"]

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
}
"""Registry of the health components: the feature columns each reads and its points function."""


def required_columns() -> list[str]:
    """Feature columns :func:`health_score` reads, in a stable order."""
    return list(dict.fromkeys(col for component in COMPONENTS.values() for col in component.columns))


def health_score(features: pd.DataFrame, settings: HealthSettings | None = None) -> pd.DataFrame:
    """Health score, band and component breakdown of every customer in a feature table.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per customer with the columns of :func:`required_columns` (as produced by ``churn_features``);
        ``customer_id``, when present, is carried to the output.
    settings : HealthSettings, optional
        Weights and bands (the ``[health]`` section of ``retain.toml``); defaults when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``features``: ``customer_id`` (if given), ``health`` (int 0–100), ``band``
        (green/yellow/red), then for each component ``<component>`` (its points, 0–100) and
        ``<component>_contribution`` (weight share × points; the contributions add up to the unrounded score).

    Raises
    ------
    InputError
        When ``features`` is not a DataFrame or lacks a required column.
    """
    if not isinstance(features, pd.DataFrame):
        raise InputError(f"features must be a pandas DataFrame (a churn feature table); got {type(features).__name__}.")
    settings = settings or HealthSettings()
    missing = [col for col in required_columns() if col not in features.columns]
    if missing:
        raise InputError(
            f"the feature table lacks column(s) {missing} that the health score needs; "
            "build it with retain.models.churn.features.churn_features."
        )
    total_weight = sum(settings.weights.values())
    out = pd.DataFrame(index=features.index)
    if "customer_id" in features.columns:
        out["customer_id"] = features["customer_id"]
    parts: dict[str, np.ndarray] = {}
    score = np.zeros(len(features))
    for name, component in COMPONENTS.items():
        points = component.points(features, settings)
        contribution = points * settings.weights.get(str(name), 0.0) / total_weight
        parts[str(name)] = points
        parts[f"{name}_contribution"] = contribution
        score = score + contribution
    rounded = np.floor(score + 0.5 + 1e-9).astype("int64")  # half up; the epsilon absorbs float sums like 69.4999…
    out["health"] = rounded
    out["band"] = pd.Series(_bands(rounded, settings), index=features.index, dtype="str")
    for column, values in parts.items():
        out[column] = values
    return out


def _bands(score: np.ndarray, settings: HealthSettings) -> np.ndarray:
    return np.select(
        [score >= settings.green_min, score >= settings.yellow_min],
        [HealthBand.GREEN.value, HealthBand.YELLOW.value],
        default=HealthBand.RED.value,
    )
