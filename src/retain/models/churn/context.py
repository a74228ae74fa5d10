"""Static context of a customer: who they are, never why they may leave.

Country, plan, billing period, price level, acquisition channel and (after early life) tenure describe a
customer; they change nothing a retention playbook could act on, and a model's contribution for them says that
customers *like this one* churn more, not that something happened to *this* customer. So they are never a reason
with a reason code and a playbook: :func:`context_of` phrases them as one line of context beside the reasons
("business plan, billed monthly, MRR 149.00, customer for 412 days, DE, via paid_search"). Any text
(categorical) feature the registry does not know is context too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from retain.models.churn.phrases import EARLY_LIFE_DAYS, days, money, value_of

__all__ = ["CONTEXT_FEATURES", "context_of", "is_context"]

_Phrase = Callable[[Mapping[str, Any]], str | None]


def _plan(row: Mapping[str, Any]) -> str | None:
    v = value_of(row, "plan")
    return None if v is None else f"{v} plan"


def _billing(row: Mapping[str, Any]) -> str | None:
    v = value_of(row, "billing_period_months")
    if v is None:
        return None
    k = round(float(v))
    return {1: "billed monthly", 12: "billed yearly"}.get(k, f"billed every {k} months")


def _mrr(row: Mapping[str, Any]) -> str | None:
    v = value_of(row, "mrr")
    return None if v is None or float(v) <= 0 else f"MRR {money(float(v))}"


def _tenure(row: Mapping[str, Any]) -> str | None:
    v = value_of(row, "tenure_days")
    # An early-life tenure is a reason (the early-life driver), not context.
    return None if v is None or float(v) < EARLY_LIFE_DAYS else f"customer for {days(float(v))}"


def _text(key: str, prefix: str = "") -> _Phrase:
    def phrase(row: Mapping[str, Any]) -> str | None:
        v = value_of(row, key)
        return None if v is None else f"{prefix}{v}"

    return phrase


CONTEXT_FEATURES: dict[str, _Phrase] = {
    "plan": _plan,
    "billing_period_months": _billing,
    "mrr": _mrr,
    "tenure_days": _tenure,
    "country": _text("country"),
    "acquisition_channel": _text("acquisition_channel", "via "),
}
"""Static features and how each is phrased as context, in the order they are shown (``None``: not shown)."""


def is_context(feature: str, X: pd.DataFrame | None = None) -> bool:
    """Whether ``feature`` is static context: listed in :data:`CONTEXT_FEATURES`, or a text column of ``X``."""
    if feature in CONTEXT_FEATURES:
        return True
    if X is None or feature not in X.columns:
        return False
    dtype = X[feature].dtype
    return not (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype))


def context_of(X: pd.DataFrame, *, extra: list[str] | None = None) -> pd.Series:
    """One line of static context per customer, e.g. ``"business plan, billed monthly, DE"``.

    Parameters
    ----------
    X : pandas.DataFrame
        The customers' feature rows.
    extra : list of str, optional
        Further context columns of ``X`` (text features the registry does not know), shown as
        ``"<column> <value>"`` after the known ones.

    Returns
    -------
    pandas.Series
        Indexed like ``X``; ``""`` for a customer with no known context.
    """
    known = [(key, phrase) for key, phrase in CONTEXT_FEATURES.items() if key in X.columns]
    others = [(key, _text(key, f"{key.replace('_', ' ')} ")) for key in extra or [] if key in X.columns]
    lines = []
    for row in X.to_dict("records"):
        parts = [phrase(row) for _, phrase in [*known, *others]]
        lines.append(", ".join(p for p in parts if p))
    return pd.Series(lines, index=X.index, dtype="object")
