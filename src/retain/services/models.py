"""The saved churn model versions of a workspace: list them, read one's metadata."""

from __future__ import annotations

from retain.models.churn.baselines import BaselineComparison, BaselineScore, compare
from retain.models.metadata import ModelMetadata
from retain.models.registry import ModelVersion
from retain.services.training import churn_registry
from retain.workspace import Workspace

__all__ = ["baseline_comparison", "current_model_version", "model_comparison", "model_metadata", "model_versions"]


def model_versions(ws: Workspace) -> list[ModelVersion]:
    """Every saved version, oldest first."""
    return churn_registry(ws).list()


def current_model_version(ws: Workspace) -> str | None:
    """The version in use, ``None`` before the first training."""
    return churn_registry(ws).current()


def model_metadata(ws: Workspace, version: str | None = None) -> ModelMetadata:
    """The metadata of ``version`` (default: the current one)."""
    return churn_registry(ws).metadata(version)


def baseline_comparison(metadata: ModelMetadata) -> BaselineComparison:
    """The backtest of a saved model beside its baselines on the same test rows (none for models saved before
    baselines were recorded: ``comparison.baselines`` is then empty and ``sentences()`` says nothing)."""
    baselines = {
        name: BaselineScore(name, record.description, dict(record.metrics), record.note)
        for name, record in metadata.backtest.baselines.items()
    }
    return compare(metadata.backtest.metrics, baselines)


def model_comparison(ws: Workspace, version: str | None = None) -> BaselineComparison:
    """:func:`baseline_comparison` of ``version`` (default: the current one)."""
    return baseline_comparison(model_metadata(ws, version))
