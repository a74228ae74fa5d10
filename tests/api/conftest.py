"""Fixtures of the API tests: a workspace on each state database and the app over it, called in-process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from retain.api import create_app
from retain.workspace import Workspace

_INGEST_TESTS = str(Path(__file__).resolve().parents[1] / "ingest")  # the platforms' payload builders
if _INGEST_TESTS not in sys.path:
    sys.path.insert(0, _INGEST_TESTS)


class SteppingClock:
    """A clock the test moves forward."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def api_workspace(database_url: str, tmp_path: Path, clock: SteppingClock) -> Workspace:
    return Workspace.init(tmp_path / "shop", clock=clock, database_url=database_url)


@pytest.fixture
def client(api_workspace: Workspace, clock: SteppingClock) -> Iterator[TestClient]:
    app = create_app(api_workspace.settings, clock=clock)
    with TestClient(app) as test_client:
        yield test_client
