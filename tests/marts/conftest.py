"""Fixtures of the marts tests (the workspaces themselves are built in marts_builders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from marts_builders import build_tiny

from retain.workspace import Workspace


@pytest.fixture
def tiny_workspace(tmp_path: Path) -> Workspace:
    """The hand-built workspace of marts_builders.py, with a fixed clock (creation time 2024-05-01 08:00 UTC)."""
    return build_tiny(tmp_path / "ws")


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture(scope="module")
def trained_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """600 synthetic subscribers over 15 months with a trained churn model (v1), refreshed once."""
    import sys

    from retain.services import refresh, train

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    from scoring_builders import build_workspace

    ws = build_workspace(tmp_path_factory.mktemp("risk"), customers=600, model="subscription")
    train(ws)
    refresh(ws)
    return ws
