"""Customer lifetime value for non-contractual customers: BG/NBD purchases × Gamma-Gamma spend.

Typical use::

    summary = summary_from_orders(orders, as_of="2024-06-30", time_unit="W")
    bg = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    clv = predicted_clv(bg, gg, summary, horizon_months=12)

Subscriptions: ``subscription_clv(mrr, p_churn, horizon_days=90)`` per customer, ``population_clv`` on average.
"""

from __future__ import annotations

from retain.models.clv.bgnbd import BetaGeoModel
from retain.models.clv.clv import predicted_clv, summary_from_orders
from retain.models.clv.gamma_gamma import GammaGammaModel
from retain.models.clv.mbgnbd import ModifiedBetaGeoModel
from retain.models.clv.subscription import monthly_hazard, population_clv, subscription_clv

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "monthly_hazard",
    "population_clv",
    "predicted_clv",
    "subscription_clv",
    "summary_from_orders",
]
