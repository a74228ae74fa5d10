"""What a customer brings over the next 12 months **if they stay**: the value the at-risk list weighs risk by.

DESIGN.md §8: ``expected_loss = P(churn within horizon) × value_if_retained``. The value must not already be
discounted for the churn risk (a CLV computed from P(churn) multiplied by P(churn) again peaks at middle risk and
ranks the most likely leavers low), so:

- **subscription**: the current MRR over the next 12 months, billed in advance and discounted monthly:
  ``MRR × Σ_{k=0..11} (1 + d)^-k``;
- **non-contractual**: the expected spend over the next 12 months *given the customer is still alive* — the
  MBG/NBD conditional expectation divided by P(alive) (MBG/NBD rather than BG/NBD: it does not pin one-time buyers
  at P(alive) = 1) (a dead customer buys nothing, so
  ``E[purchases] = P(alive) × E[purchases | alive]``), times the Gamma-Gamma expected order value, discounted the
  same way. P(alive) and the expected orders are returned too: the 360 and the at-risk list show them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from retain.models.clv import GammaGammaModel, ModifiedBetaGeoModel, predicted_clv, summary_from_orders

__all__ = ["MONTHS", "commerce_value_if_retained", "subscription_value_if_retained"]

MONTHS = 12
"""The value horizon: 12 months."""
DISCOUNT_RATE_MONTHLY = 0.01


def subscription_value_if_retained(mrr: Any, *, discount_rate_monthly: float = DISCOUNT_RATE_MONTHLY) -> np.ndarray:
    """``MRR × Σ_{k=0..11} (1 + d)^-k`` per customer (missing MRR counts as 0)."""
    annuity = float(np.sum((1.0 + discount_rate_monthly) ** -np.arange(MONTHS)))
    return np.nan_to_num(np.asarray(mrr, dtype="float64"), nan=0.0) * annuity


def commerce_value_if_retained(
    orders: pd.DataFrame, customer_ids: Any, *, as_of: datetime, discount_rate_monthly: float = DISCOUNT_RATE_MONTHLY
) -> pd.DataFrame:
    """P(alive), expected orders and value if retained over 12 months, fitted on the completed orders to ``as_of``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_ids``: ``p_alive``, ``expected_orders`` (next 12 months, all customers — the dead
        buy nothing) and ``value_if_retained`` (discounted spend over 12 months if alive). Customers without a
        completed order get nulls for the first two and 0 value.
    """
    summary = summary_from_orders(orders, as_of=as_of, time_unit="W")
    purchases = ModifiedBetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    predicted = predicted_clv(
        purchases, gg, summary, horizon_months=MONTHS, discount_rate_monthly=discount_rate_monthly
    )
    alive = predicted["p_alive"].clip(lower=1e-9)
    out = pd.DataFrame(
        {
            "p_alive": predicted["p_alive"],
            "expected_orders": predicted["expected_purchases"],
            "value_if_retained": (predicted["clv"] / alive).clip(lower=0.0),
        }
    )
    out = out.reindex(pd.Index(customer_ids))
    out["value_if_retained"] = out["value_if_retained"].fillna(0.0)
    return out
