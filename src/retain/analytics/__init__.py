"""Analytics as Ibis expressions: retention, revenue, cohorts, commerce, satisfaction, segmentation, the 360.

Every metric is a pure function from Ibis tables (the canonical tables of ``retain.contract``) to an
unexecuted Ibis expression; execute it with the backend of your choice (see ``retain.engine``).
"""

from retain.analytics.cohorts import (
    RETURN_COLUMNS,
    RETURN_SUMMARY_COLUMNS,
    CohortMeasure,
    cohort_matrix,
    order_cohort_matrix,
    return_retention,
    return_retention_summary,
)
from retain.analytics.commerce import (
    COMMERCE_COLUMNS,
    CUSTOMER_STATS_COLUMNS,
    commerce_summary,
    customer_order_stats,
    historical_clv,
    order_gaps,
)
from retain.analytics.customers import DIMENSION_COLUMNS, customer_dimension
from retain.analytics.lifecycle import FLOW_COLUMNS, LifecycleState, lifecycle_flows, lifecycle_states
from retain.analytics.periods import Freq, Period, period_grid, periods_from_bounds, periods_table, to_periods
from retain.analytics.profile import PROFILE_COLUMNS, PROFILE_TYPES, SubscriptionStatus, customer_profiles
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
from retain.analytics.rfm import RFM_COLUMNS, SEGMENT_MAP, RfmSegment, rfm_scores, rfm_segment
from retain.analytics.satisfaction import (
    COMPLAINT_COLUMNS,
    SATISFACTION_COLUMNS,
    SUPPORT_COLUMNS,
    repeated_unresolved_complaints,
    satisfaction_summary,
    support_summary,
    survey_responses,
)
from retain.analytics.segments import (
    MEMBERSHIP_COLUMNS,
    CompiledPredicate,
    Segment,
    SegmentSettings,
    add_segment_columns,
    compile_segment,
    evaluate_segments,
    segments_from_mapping,
)
from retain.analytics.timeline import TIMELINE_COLUMNS, TimelineKind, customer_timeline
from retain.analytics.usage import customer_usage

__all__ = [
    "COMMERCE_COLUMNS",
    "COMPLAINT_COLUMNS",
    "CUSTOMER_STATS_COLUMNS",
    "DIMENSION_COLUMNS",
    "FLOW_COLUMNS",
    "MEMBERSHIP_COLUMNS",
    "MOVEMENT_COLUMNS",
    "PROFILE_COLUMNS",
    "PROFILE_TYPES",
    "RETURN_COLUMNS",
    "RETURN_SUMMARY_COLUMNS",
    "RFM_COLUMNS",
    "SATISFACTION_COLUMNS",
    "SEGMENT_MAP",
    "SERIES_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUPPORT_COLUMNS",
    "TIMELINE_COLUMNS",
    "CohortMeasure",
    "CompiledPredicate",
    "Freq",
    "LifecycleState",
    "MrrMovement",
    "Period",
    "RfmSegment",
    "Segment",
    "SegmentSettings",
    "SubscriptionStatus",
    "TimelineKind",
    "active_subscribers",
    "add_segment_columns",
    "churn_rate",
    "cohort_matrix",
    "commerce_summary",
    "compile_segment",
    "customer_dimension",
    "customer_mrr",
    "customer_order_stats",
    "customer_profiles",
    "customer_timeline",
    "customer_usage",
    "evaluate_segments",
    "historical_clv",
    "lifecycle_flows",
    "lifecycle_states",
    "mrr_at",
    "mrr_movements",
    "mrr_summary",
    "order_cohort_matrix",
    "order_gaps",
    "period_grid",
    "periods_from_bounds",
    "periods_table",
    "repeated_unresolved_complaints",
    "retention_rate",
    "retention_series",
    "retention_series_orders",
    "return_retention",
    "return_retention_summary",
    "rfm_scores",
    "rfm_segment",
    "satisfaction_summary",
    "segments_from_mapping",
    "subscriber_states",
    "support_summary",
    "survey_responses",
    "to_periods",
]
