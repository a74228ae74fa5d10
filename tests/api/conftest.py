"""Fixtures of the API tests: a workspace on each state database and the app over it, called in-process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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


COMPANY_TOML = """
[channels.email]
kind = "smtp"
sender = "Shop <care@example.com>"

[automation]
signing_secret = "api-test-secret-0123456789abcdef"
base_url = "http://127.0.0.1:8765"
"""
"""The company's channels (nothing is delivered: no worker runs) and its link-signing key."""

COMPANY_AT = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
"""The company's clock: just after its data ends (2025-12-31)."""


@dataclass(frozen=True)
class Company:
    """A synthetic subscription company, ingested, modelled, refreshed, with every built-in playbook run once."""

    ws: Workspace
    synthetic: Path
    as_of: datetime
    """The snapshot's as-of (the playbooks ran then)."""


def build_company(root: Path, *, customers: int = 600, months: int = 15) -> Company:
    from retain import services
    from retain.clock import FixedClock
    from retain.services.playbook_run import run_playbooks
    from retain.services.playbooks import install_playbooks, playbooks_folder
    from retain.synth import generate

    synthetic = root / "synthetic"
    generate(synthetic, customers=customers, months=months, seed=3, end=date(2025, 12, 31))
    shop = root / "shop"
    shop.mkdir()
    (shop / "retain.toml").write_text(COMPANY_TOML)
    ws = Workspace.init(shop, clock=FixedClock(COMPANY_AT))
    for file in sorted(synthetic.glob("*.parquet")):
        ws.ingest(file.stem, file)
    services.train(ws)
    refreshed = services.refresh(ws)
    install_playbooks(ws)
    for file in playbooks_folder(ws).glob("*.yaml"):  # shipped disabled: a business turns on what it wants
        file.write_text(file.read_text().replace("enabled: false", "enabled: true"))
    run_playbooks(ws, as_of=refreshed.as_of)
    return Company(ws, synthetic, refreshed.as_of)


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> Company:
    return build_company(tmp_path_factory.mktemp("company"))


@pytest.fixture(scope="session")
def company_client(company: Company) -> Iterator[TestClient]:
    app = create_app(company.ws.settings, clock=company.ws.clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def keys(company: Company) -> dict[str, str]:
    """A secret of each scope, by scope name."""
    from retain.services.auth import create_api_key

    return {
        scope: create_api_key(company.ws, name=f"{scope} test", scope=scope).secret
        for scope in ("read", "write", "admin")
    }
