"""Early warning: who to act on first, ranked by expected loss.

``expected_loss = p_churn × value_if_retained``: what the business expects to lose over the next 12 months if
it does nothing — the probability of losing the customer within the model's horizon times what they bring if
they stay (``retain.models.value``; never a CLV that already discounts for the churn risk). A customer likely
to leave but worth little ranks below a valuable one with a moderate risk. Ties are broken by the higher churn
probability (the surer loss first), then by ``customer_id`` so the order is reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.errors import InputError

__all__ = ["AT_RISK_COLUMNS", "rank_at_risk"]

_REQUIRED = ("customer_id", "p_churn", "value_if_retained")
_OPTIONAL = (
    "p_alive",
    "expected_orders",
    "health",
    "band",
    "health_components",
    "reasons",
    "reason_code",
    "playbook",
    "context",
)

AT_RISK_COLUMNS = ("rank", "customer_id", "expected_loss", "p_churn", "value_if_retained", *_OPTIONAL)
"""The at-risk list's columns, in order (optional ones only when the input has them): the one definition that
scoring, the ``at_risk`` mart, the report's table and ``retain at-risk`` share."""


def rank_at_risk(scored: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """Rank customers by expected loss, P(churn) × value if retained.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per customer: ``customer_id``, ``p_churn`` (0–1), ``value_if_retained`` (>= 0, currency units)
        and, when available, ``p_alive``, ``expected_orders``, ``health``, ``band``, ``reasons`` (plain-language
        text), ``reason_code`` and ``playbook`` (the recommended playbook of the top reason). Other columns are
        kept, after these.
    top : int, optional
        Keep only the first ``top`` customers (all when ``None``).

    Returns
    -------
    pandas.DataFrame
        Columns ``rank`` (1 = act first), ``customer_id``, ``expected_loss``, ``p_churn``,
        ``value_if_retained``, the optional columns present, then the rest; sorted by ``expected_loss``
        descending, ties by ``p_churn`` descending then ``customer_id``; a fresh 0..n−1 index.

    Raises
    ------
    InputError
        On a missing required column, a duplicated customer, a missing or out-of-range ``p_churn`` or value,
        or ``top`` that is not a positive integer.
    """
    if not isinstance(scored, pd.DataFrame):
        raise InputError(f"scored must be a pandas DataFrame; got {type(scored).__name__}.")
    missing = [col for col in _REQUIRED if col not in scored.columns]
    if missing:
        raise InputError(
            f"scored lacks column(s) {missing}; expected at least {list(_REQUIRED)} "
            "(p_churn from ChurnModel.predict_proba, value_if_retained from retain.models.value)."
        )
    if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1):
        raise InputError(f"top must be a positive integer or None (all customers); got {top!r}.")
    duplicated = scored["customer_id"][scored["customer_id"].duplicated()]
    if len(duplicated):
        raise InputError(
            f"customer_id must be unique; {duplicated.nunique()} repeated, e.g. {duplicated.iloc[0]!r}. "
            "Score each customer once (the latest as-of date)."
        )
    p_churn = _numbers(scored, "p_churn")
    value = _numbers(scored, "value_if_retained")
    if ((p_churn < 0) | (p_churn > 1)).any():
        raise InputError(
            f"p_churn must be a probability between 0 and 1; got values from {p_churn.min()} to {p_churn.max()}."
        )
    if (value < 0).any():
        raise InputError(
            f"value_if_retained must be >= 0; got a minimum of {value.min()}. Clip negative values (refunds) at 0."
        )

    ranked = scored.assign(p_churn=p_churn, value_if_retained=value, expected_loss=p_churn * value)
    ranked = ranked.sort_values(
        ["expected_loss", "p_churn", "customer_id"], ascending=[False, False, True], kind="mergesort"
    )
    if top is not None:
        ranked = ranked.head(int(top))
    ranked = ranked.reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype="int64"))
    leading = [col for col in AT_RISK_COLUMNS if col in ranked.columns]
    return ranked[leading + [col for col in ranked.columns if col not in leading]]


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    try:
        values = pd.to_numeric(frame[column]).astype("float64")
    except (TypeError, ValueError):
        raise InputError(f"{column} must be numeric; got dtype {frame[column].dtype}.") from None
    bad = int((~np.isfinite(values.to_numpy(na_value=np.nan))).sum())
    if bad:
        raise InputError(
            f"{column} has {bad} missing or infinite values; score every customer before ranking, "
            "or drop the unscored ones."
        )
    return values
