"""Which values of a feature are on the *risky side*: the declared direction that makes a reason true.

A SHAP contribution says a feature moved the model's score; it does not say the customer's value is a bad one
(TreeSHAP can give "0 refunds" a positive contribution when the reference customer had more). A reason is only
shown when the customer's own value is on the risky side of the feature, declared here per feature as a
:class:`RiskySide` over the customer's row, evaluated for many customers at once:

- fixed thresholds where the scale means something on its own: ``at_least(1)`` failed payment or complaint,
  ``at_most(6)`` for an NPS detractor, ``below(1)`` for a trend (fewer than in the previous 30 days),
  ``below(90)`` days of tenure for early life;
- the **typical value** (:func:`typical_values`: the median over a population) where only a comparison means
  something: "only 3 logins in 30 days" is a risk in a product whose customers log in 20 times, not in one whose
  customers log in twice. The population is the one the model was trained on (``ChurnModel.feature_medians_``),
  the same population TreeSHAP's contributions are measured against, so the reasons of a customer do not depend
  on who else is being scored;
- :data:`NEVER` for features without a risky side (static context, survey recency).

A missing value is on the safe side unless a rule says otherwise (``above_typical(missing=True)``: "never logged
in" is a risk): a statement that cannot be checked is not made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "NEVER",
    "RiskySide",
    "above",
    "above_typical",
    "at_least",
    "at_most",
    "below",
    "below_typical",
    "fewer_than_before",
    "is_false",
    "is_true",
    "missing",
    "numbers",
    "on",
    "overdue_against_gap",
    "typical_values",
]

Typical = Mapping[str, float]
"""The reference value of each numeric feature (the median over a population), by feature name."""

_Test = Callable[[pd.DataFrame, str, Typical], np.ndarray]


def typical_values(X: pd.DataFrame) -> dict[str, float]:
    """The median of every numeric (non-boolean) column of ``X``, ignoring missing values.

    Columns that are entirely missing have no typical value and are left out.
    """
    out: dict[str, float] = {}
    for name in X.columns:
        series = X[name]
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
            continue
        median = series.median(skipna=True)
        if pd.notna(median):
            out[str(name)] = float(median)
    return out


def numbers(X: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` of ``X`` as float64 with NaN for missing values (all NaN when the column is absent)."""
    if column not in X.columns:
        return np.full(len(X), np.nan)
    return pd.to_numeric(X[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


@dataclass(frozen=True)
class RiskySide:
    """The values of one feature that are a risk, as a vectorised test over the customers' rows.

    Attributes
    ----------
    rule : str
        What the test checks, in words (for documentation and error messages), e.g. ``"≥ 1"``.
    test : callable
        ``test(X, feature, typical)`` → boolean array over the rows of ``X``: True where the customer's value of
        ``feature`` is on the risky side.
    """

    rule: str
    test: _Test

    def of(self, X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        """Boolean array: which rows of ``X`` hold a risky value of ``feature``."""
        return np.asarray(self.test(X, feature, typical), dtype=bool)

    def __and__(self, other: RiskySide) -> RiskySide:
        return RiskySide(
            f"{self.rule} and {other.rule}",
            lambda X, f, t: self.of(X, f, t) & other.of(X, f, t),
        )

    def __or__(self, other: RiskySide) -> RiskySide:
        return RiskySide(
            f"({self.rule} or {other.rule})",
            lambda X, f, t: self.of(X, f, t) | other.of(X, f, t),
        )


def _compare(rule: str, op: Callable[[np.ndarray], np.ndarray]) -> RiskySide:
    def test(X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        values = numbers(X, feature)
        with np.errstate(invalid="ignore"):
            return ~np.isnan(values) & op(values)

    return RiskySide(rule, test)


def at_least(k: float) -> RiskySide:
    """Risky when the value is ``>= k`` (counts of bad things: failed payments, complaints, refunds)."""
    return _compare(f"≥ {k:g}", lambda v: v >= k)


def at_most(k: float) -> RiskySide:
    """Risky when the value is ``<= k`` (low scores: NPS detractors, poor ratings)."""
    return _compare(f"≤ {k:g}", lambda v: v <= k)


def below(k: float) -> RiskySide:
    """Risky when the value is ``< k`` (declining trends, young tenures, falling scores)."""
    return _compare(f"< {k:g}", lambda v: v < k)


def above(k: float) -> RiskySide:
    """Risky when the value is ``> k`` (price increases)."""
    return _compare(f"> {k:g}", lambda v: v > k)


def _versus_typical(rule: str, worse: Callable[[np.ndarray, float], np.ndarray], missing_risky: bool) -> RiskySide:
    def test(X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        values = numbers(X, feature)
        reference = typical.get(feature)
        known = ~np.isnan(values)
        if reference is None:  # no reference, no comparison: only a declared-risky missing value counts
            return ~known & missing_risky
        with np.errstate(invalid="ignore"):
            return np.where(known, worse(values, reference), missing_risky)

    return RiskySide(rule, test)


def below_typical() -> RiskySide:
    """Risky when the value is below the typical value (too little activity, too few orders)."""
    return _versus_typical("below the typical value", lambda v, ref: v < ref, missing_risky=False)


def above_typical(*, missing: bool = False) -> RiskySide:
    """Risky when the value is above the typical value (days since the last activity); ``missing``: whether a
    missing value ("never") is a risk too."""
    rule = "above the typical value" + (" or missing" if missing else "")
    return _versus_typical(rule, lambda v, ref: v > ref, missing_risky=missing)


def _truth(rule: str, want: bool) -> RiskySide:
    def test(X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        values = numbers(X, feature)
        return ~np.isnan(values) & ((values != 0) == want)

    return RiskySide(rule, test)


def is_true() -> RiskySide:
    """Risky when a flag is set (subscription paused)."""
    return _truth("true", want=True)


def is_false() -> RiskySide:
    """Risky when a flag is not set (no running subscription)."""
    return _truth("false", want=False)


def missing() -> RiskySide:
    """True where the value is missing (for rules such as "no previous activity and none now")."""
    return RiskySide("missing", lambda X, f, t: np.isnan(numbers(X, f)))


def on(column: str, side: RiskySide, *, absent: bool = False) -> RiskySide:
    """``side`` evaluated on another ``column`` of the row; ``absent`` everywhere when ``X`` lacks the column."""

    def test(X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        if column not in X.columns:
            return np.full(len(X), absent)
        return side.of(X, column, typical)

    return RiskySide(f"{column} {side.rule}", test)


def fewer_than_before() -> RiskySide:
    """Risky when the customer ordered less in the last 90 days than in the 90 before (``orders_prev_90d``)."""

    def test(X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        if "orders_90d" not in X.columns:
            return np.zeros(len(X), dtype=bool)
        return np.nan_to_num(numbers(X, feature)) > np.nan_to_num(numbers(X, "orders_90d"))

    return RiskySide("more orders in the 90 days before than in the last 90", test)


def overdue_against_gap(times: float) -> RiskySide:
    """Risky when the days since the last order exceed ``times`` the customer's own average gap between orders."""

    def test(X: pd.DataFrame, feature: str, typical: Typical) -> np.ndarray:
        if "days_since_last_order" not in X.columns:
            return np.zeros(len(X), dtype=bool)
        gap, since = numbers(X, feature), numbers(X, "days_since_last_order")
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(since > times * gap, nan=False).astype(bool) & (gap > 0)

    return RiskySide(f"days since the last order > {times:g} x the usual gap", test)


NEVER = RiskySide("never", lambda X, f, t: np.zeros(len(X), dtype=bool))
"""No value is a risk: static context and features that describe rather than warn (e.g. days since the last
survey answer)."""
