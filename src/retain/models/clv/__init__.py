"""Customer lifetime value for non-contractual customers: MBG/NBD (or BG/NBD) purchases × Gamma-Gamma spend.

Typical use::

    summary = summary_from_orders(orders, as_of="2024-06-30", time_unit="W")
    alive = alive_and_expected_orders(summary, horizon_weeks=13)   # p_alive, expected_orders[_if_alive]
    purchases = ModifiedBetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    clv = predicted_clv(purchases, gg, summary, horizon_months=12)

MBG/NBD is the default purchase model: under BG/NBD a one-time buyer is alive for certain (P(alive) = 1), under
MBG/NBD not. ``BetaGeoModel`` (BG/NBD) stays available and takes the same calls.

Subscriptions: ``subscription_clv(mrr, p_churn, horizon_days=90)`` per customer, ``population_clv`` on average.
"""

from __future__ import annotations

from retain.models.clv.bgnbd import BetaGeoModel
from retain.models.clv.clv import alive_and_expected_orders, predicted_clv, summary_from_orders
from retain.models.clv.gamma_gamma import GammaGammaModel
from retain.models.clv.mbgnbd import ModifiedBetaGeoModel
from retain.models.clv.subscription import monthly_hazard, population_clv, subscription_clv

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "alive_and_expected_orders",
    "monthly_hazard",
    "population_clv",
    "predicted_clv",
    "subscription_clv",
    "summary_from_orders",
]
