"""The saved churn model versions of a workspace: list them, read one's metadata."""

from __future__ import annotations

from retain.models.metadata import ModelMetadata
from retain.models.registry import ModelVersion
from retain.services.training import churn_registry
from retain.workspace import Workspace

__all__ = ["current_model_version", "model_metadata", "model_versions"]


def model_versions(ws: Workspace) -> list[ModelVersion]:
    """Every saved version, oldest first."""
    return churn_registry(ws).list()


def current_model_version(ws: Workspace) -> str | None:
    """The version in use, ``None`` before the first training."""
    return churn_registry(ws).current()


def model_metadata(ws: Workspace, version: str | None = None) -> ModelMetadata:
    """The metadata of ``version`` (default: the current one)."""
    return churn_registry(ws).metadata(version)
