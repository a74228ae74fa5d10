"""How much of the truly expected loss the at-risk list's top reaches: the ranking checked against the truth.

The synthetic generator knows every subscriber's true churn probability for the month; the loss the business
truly expects from a customer is that probability × MRR × 12 (the *oracle* expected loss). The best possible top
share of a list holds the customers with the largest oracle loss. ``capture`` is the oracle loss retain's own top
share (by its ``rank``) holds, divided by what the best possible top share holds: 1.0 means retain would contact
exactly the right customers first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from retain.errors import InputError

__all__ = ["LossCapture", "expected_loss_capture"]


@dataclass(frozen=True)
class LossCapture:
    share: float
    customers: int
    """Customers in the top share."""
    capture: float
    """Oracle loss of retain's top share / oracle loss of the best possible top share."""
    by_value_only: float
    """The same for a list ordered by MRR alone (what a value-only ranking would reach)."""


def expected_loss_capture(
    ranked: pd.DataFrame, truth: pd.DataFrame, *, month: date | datetime, share: float = 0.05
) -> LossCapture:
    """Capture of the oracle expected loss by the top ``share`` of ``ranked``.

    Parameters
    ----------
    ranked : pandas.DataFrame
        The scored subscribers: ``customer_id``, ``rank`` and ``mrr`` (``retain.services.score(...).ranked``).
    truth : pandas.DataFrame
        The generator's ground truth (``customer_id``, ``month``, ``p_churn``).
    month : date or datetime
        The month scored (its first day).
    share : float
        The top share compared (0–1).
    """
    if not 0 < share <= 1:
        raise InputError(f"share must be in (0, 1]; got {share}.")
    missing = [c for c in ("customer_id", "rank", "mrr") if c not in ranked.columns]
    if missing:
        raise InputError(f"ranked lacks the column(s) {missing}; pass retain.services.score(...).ranked.")
    first = month.date() if isinstance(month, datetime) else month
    months = pd.to_datetime(truth["month"]).dt.date
    p_true = truth.loc[months == first].set_index("customer_id")["p_churn"]
    frame = ranked.sort_values("rank")
    oracle = p_true.reindex(frame["customer_id"]).fillna(0.0).to_numpy() * frame["mrr"].fillna(0.0).to_numpy() * 12
    k = max(1, round(share * len(frame)))
    best = np.sort(oracle)[::-1][:k].sum()
    if best <= 0:
        raise InputError("the truth holds no expected loss for these customers in that month; check month=.")
    by_value = oracle[np.argsort(-frame["mrr"].fillna(0.0).to_numpy(), kind="stable")][:k].sum()
    return LossCapture(share, k, float(oracle[:k].sum() / best), float(by_value / best))
