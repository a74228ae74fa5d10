"""Fixtures of the report tests: a refreshed synthetic workspace and the Chromium binary."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marts"))
from marts_builders import build_synthetic

from _ci import missing
from retain.services import Snapshot, current_snapshot, refresh

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium binary; skipped when there is none, except under CI (``CI`` set), where it fails."""
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    missing(
        "The report rendering test needs Chromium (chromium on PATH); none was found. Install it "
        "(`apt-get install chromium`) to run it; CI does (`.ci/run` installs Debian's chromium package)."
    )


@pytest.fixture(scope="module")
def synthetic_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """A refreshed synthetic subscription workspace (every mart present) with two user segments."""
    ws = build_synthetic(tmp_path_factory.mktemp("report"), customers=300)
    refresh(ws)
    return current_snapshot(ws)


@pytest.fixture(scope="module")
def trained_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """600 synthetic subscribers over 15 months with a trained churn model, refreshed: the risk marts exist."""
    from retain.services import train

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
    from scoring_builders import build_workspace

    ws = build_workspace(tmp_path_factory.mktemp("report-trained"), customers=600, model="subscription")
    train(ws)
    refresh(ws)
    return current_snapshot(ws)
