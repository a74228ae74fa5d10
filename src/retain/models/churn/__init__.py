"""Churn prediction: a calibrated LightGBM classifier and the metrics that judge it."""

from retain.models.churn.classifier import CALIBRATION_METHODS, ChurnModel
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

__all__ = [
    "CALIBRATION_METHODS",
    "BacktestResult",
    "CVResult",
    "ChurnModel",
    "brier",
    "calibration_table",
    "cross_validate",
    "pr_auc",
    "roc_auc",
    "summary_metrics",
    "temporal_backtest",
    "top_decile_lift",
]
