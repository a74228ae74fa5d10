"""Churn prediction: a calibrated classifier sized to the data, the baselines and metrics that judge it, and the
reasons it gives."""

from retain.models.churn.baselines import (
    BASELINES,
    BaselineComparison,
    BaselineName,
    BaselineScore,
    RecencyBaseline,
    backtest_baselines,
    compare,
    cross_validate_baselines,
)
from retain.models.churn.classifier import CALIBRATION_METHODS, Capacity, ChurnModel
from retain.models.churn.context import context_of
from retain.models.churn.evaluate import (
    BacktestResult,
    CVResult,
    brier,
    calibration_table,
    cross_validate,
    pr_auc,
    roc_auc,
    summary_metrics,
    temporal_backtest,
    top_decile_lift,
)
from retain.models.churn.explain import REASONS, Playbook, Reason, ReasonCode, explain, reason_for
from retain.models.churn.linear import LogisticChurnModel
from retain.models.churn.reason_agreement import ReasonAgreement, reason_agreement

__all__ = [
    "BASELINES",
    "CALIBRATION_METHODS",
    "REASONS",
    "BacktestResult",
    "BaselineComparison",
    "BaselineName",
    "BaselineScore",
    "CVResult",
    "Capacity",
    "ChurnModel",
    "LogisticChurnModel",
    "Playbook",
    "Reason",
    "ReasonAgreement",
    "ReasonCode",
    "RecencyBaseline",
    "backtest_baselines",
    "brier",
    "calibration_table",
    "compare",
    "context_of",
    "cross_validate",
    "cross_validate_baselines",
    "explain",
    "pr_auc",
    "reason_agreement",
    "reason_for",
    "roc_auc",
    "summary_metrics",
    "temporal_backtest",
    "top_decile_lift",
]
