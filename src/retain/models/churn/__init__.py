"""Churn prediction: a calibrated LightGBM classifier, the metrics that judge it and the reasons it gives."""

from retain.models.churn.classifier import CALIBRATION_METHODS, ChurnModel
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
from retain.models.churn.reason_agreement import ReasonAgreement, reason_agreement

__all__ = [
    "CALIBRATION_METHODS",
    "REASONS",
    "BacktestResult",
    "CVResult",
    "ChurnModel",
    "Playbook",
    "Reason",
    "ReasonAgreement",
    "ReasonCode",
    "brier",
    "calibration_table",
    "context_of",
    "cross_validate",
    "explain",
    "pr_auc",
    "reason_agreement",
    "reason_for",
    "roc_auc",
    "summary_metrics",
    "temporal_backtest",
    "top_decile_lift",
]
