"""Do the stated reasons name the true cause? The first reason code against the synthetic ground truth.

The synthetic generator records, per customer and month, the reason code of the largest observable term of the
true churn hazard (``driver`` in ``ground_truth/churn_probability``). :func:`reason_agreement` takes a scoring
(``customer_id``, ``p_churn``, ``reason_code``: the first reason of each customer) and that ground truth, and
measures, among the customers the model ranks most likely to churn, the share whose first reason code is the
true driver of the month scored.

Customers the ground truth does not know in that month had already churned in the simulation (a shop keeps
scoring customers who silently left). By default they stay in the ranking and count as misses, which is the
strict reading; ``alive_only=True`` ranks only the customers still alive, which is the meaningful reading for
non-contractual data, where the top of the list is mostly customers who are already gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from retain.errors import InputError

__all__ = ["ReasonAgreement", "reason_agreement"]


@dataclass(frozen=True)
class ReasonAgreement:
    """How often the first reason code of the riskiest customers is the true driver."""

    agreement: float
    """Share of :attr:`customers` whose first ``reason_code`` equals the true ``driver``."""
    customers: int
    """Customers compared: the top ``share`` of the ranked customers by ``p_churn``."""
    matched: int
    unknown_truth: int
    """Of :attr:`customers`, those without a ground-truth row in the month (already churned): always misses."""
    unexplained: int
    """Of :attr:`customers`, those without a stated reason: always misses."""
    table: pd.DataFrame
    """Counts of true driver (rows) × first reason code (columns); ``"none"`` for a missing value."""


def reason_agreement(
    scored: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    month: date | datetime,
    share: float = 0.1,
    alive_only: bool = False,
) -> ReasonAgreement:
    """Agreement of the first reason code with the true driver among the customers most likely to churn.

    Parameters
    ----------
    scored : pandas.DataFrame
        One row per scored customer: ``customer_id``, ``p_churn`` and ``reason_code`` (null when not explained);
        e.g. ``retain.services.score(ws, as_of=..., top=None).ranked``.
    truth : pandas.DataFrame
        The generator's ground truth: ``customer_id``, ``month`` (first day of the month) and ``driver``.
    month : date or datetime
        The month scored (its first day), e.g. ``date(2025, 10, 1)`` for a scoring as of 2025-10-01.
    share : float, default 0.1
        The top share of customers by ``p_churn`` that is compared (ties keep the scoring's order).
    alive_only : bool, default False
        Rank only the customers the ground truth holds for ``month`` (still alive in the simulation).

    Returns
    -------
    ReasonAgreement

    Raises
    ------
    InputError
        On missing columns, a share outside (0, 1], or an empty comparison.
    """
    for name, frame, needed in (
        ("scored", scored, ("customer_id", "p_churn", "reason_code")),
        ("truth", truth, ("customer_id", "month", "driver")),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(f"{name} lacks the column(s) {missing}; it needs {list(needed)}.")
    if not 0 < share <= 1:
        raise InputError(f"share must be in (0, 1]; got {share!r}.")
    first_day = pd.Timestamp(month).date().replace(day=1)
    months = pd.to_datetime(truth["month"]).dt.date
    drivers = truth.loc[months == first_day].drop_duplicates("customer_id").set_index("customer_id")["driver"]
    ranked = scored[["customer_id", "p_churn", "reason_code"]].copy()
    ranked["driver"] = ranked["customer_id"].map(drivers)
    known = ranked["customer_id"].isin(drivers.index)
    if alive_only:
        ranked = ranked[known.to_numpy()]
        known = known[known]
    n = round(len(ranked) * share)
    if n < 1:
        raise InputError(
            f"no customer to compare: {len(ranked)} ranked customer(s) and share {share} (the ground truth holds "
            f"{len(drivers)} customer(s) in {first_day.isoformat()}); check the month and the scoring."
        )
    order = np.argsort(-ranked["p_churn"].to_numpy(dtype="float64"), kind="stable")[:n]
    top = ranked.iloc[order]
    hits = top["reason_code"].notna() & (top["reason_code"] == top["driver"])
    table = pd.crosstab(
        top["driver"].fillna("none").rename("driver"), top["reason_code"].fillna("none").rename("reason_code")
    )
    return ReasonAgreement(
        agreement=float(hits.mean()),
        customers=int(n),
        matched=int(hits.sum()),
        unknown_truth=int((~known.iloc[order]).sum()),
        unexplained=int(top["reason_code"].isna().sum()),
        table=table,
    )
