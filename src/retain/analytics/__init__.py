"""Analytics as Ibis expressions: periods, customer retention and churn, MRR movements.

Every metric is a pure function from Ibis tables (the canonical tables of ``retain.contract``) to an
unexecuted Ibis expression; execute it with the backend of your choice (see ``retain.engine``).
"""

from retain.analytics.periods import Freq, Period, period_grid, periods_from_bounds, periods_table, to_periods
from retain.analytics.retention import (
    SERIES_COLUMNS,
    active_subscribers,
    churn_rate,
    retention_rate,
    retention_series,
    retention_series_orders,
    subscriber_states,
)
from retain.analytics.revenue import (
    MOVEMENT_COLUMNS,
    SUMMARY_COLUMNS,
    MrrMovement,
    customer_mrr,
    mrr_at,
    mrr_movements,
    mrr_summary,
)

__all__ = [
    "MOVEMENT_COLUMNS",
    "SERIES_COLUMNS",
    "SUMMARY_COLUMNS",
    "Freq",
    "MrrMovement",
    "Period",
    "active_subscribers",
    "churn_rate",
    "customer_mrr",
    "mrr_at",
    "mrr_movements",
    "mrr_summary",
    "period_grid",
    "periods_from_bounds",
    "periods_table",
    "retention_rate",
    "retention_series",
    "retention_series_orders",
    "subscriber_states",
    "to_periods",
]
