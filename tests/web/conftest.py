"""Fixtures of the dashboard tests: one synthetic company (ingested, model trained, refreshed, a playbook with a
task step run), a real uvicorn server over it on a free loopback port, and Debian's Chromium driven by
Playwright. Each is built once per test session."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from dashboard_users import READER, WRITER

from _ci import missing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))

from scoring_builders import build_workspace

CHROMIUM = Path("/usr/bin/chromium")
TOML = """
[channels.email]
kind = "smtp"
sender = "Shop <care@example.com>"
"""
PLAYBOOK = """name: call_at_risk
description: A call and a wake-up email for every scored customer.
enabled: true
trigger: {kind: risk, min_p_churn: 0.0}
steps:
  - {action: task, title: "Call {{ customer.name or customer.id }}", due_days: 2}
  - {action: email, template: wake_up}
holdout: 0.3
reentry: {rule: once}
goal: {metric: retained, window_days: 30}
"""
PLAYBOOK_RUN_AT = date(2025, 10, 1)
"""Three months before the data ends, so every enrolment's 30-day goal window has ended and is measured."""


@dataclass(frozen=True)
class Company:
    path: Path
    reader_key: str


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> Company:
    from retain.services import refresh, train
    from retain.services.auth import create_api_key, set_user
    from retain.services.playbook_run import run_playbooks
    from retain.services.playbooks import install_playbooks
    from retain.workspace import Workspace

    built = build_workspace(tmp_path_factory.mktemp("dashboard"), customers=400)
    train(built)
    refresh(built)
    with (built.path / "retain.toml").open("a") as toml:
        toml.write(TOML)
    ws = Workspace.open(built.path)
    install_playbooks(ws)
    (ws.path / "playbooks" / "call_at_risk.yaml").write_text(PLAYBOOK)
    report = run_playbooks(ws, as_of=PLAYBOOK_RUN_AT)
    assert report.playbooks[0].entered > 100  # the tests need tasks and held-out customers
    set_user(ws, *WRITER, scope="write")
    set_user(ws, *READER, scope="read")
    return Company(ws.path, create_api_key(ws, name="wall screen", scope="read").secret)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server(company: Company) -> Iterator[str]:
    """The base URL of ``retain serve``'s app over the company, under uvicorn in a background thread."""
    import uvicorn

    from retain.api import create_app
    from retain.settings import Settings

    port = _free_port()
    config = uvicorn.Config(create_app(Settings.load(company.path)), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing(f"the dashboard tests need Debian's Chromium at {CHROMIUM}; `.ci/run` installs it (apt chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Visit:
    """A browser tab on the dashboard, recording every request that left for anywhere but the server."""

    page: object
    base: str
    elsewhere: list[str]
    errors: list[str]

    def open(self, path: str) -> object:
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, username: str, password: str) -> None:
        self.open("/dashboard/sign-in")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")


def _visit(browser: object, server: str, **context: object) -> Iterator[Visit]:
    tab = browser.new_context(**context)
    elsewhere: list[str] = []
    errors: list[str] = []

    def guard(route: object) -> None:
        url = route.request.url
        if url.startswith(server + "/"):
            route.continue_()
        else:  # never let a page reach the internet: record and refuse
            elsewhere.append(url)
            route.abort()

    tab.route("**/*", guard)
    page = tab.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield Visit(page, server, elsewhere, errors)
    tab.close()


@pytest.fixture
def visit(browser: object, server: str) -> Iterator[Visit]:
    """A fresh, signed-out tab in a 1280 × 900 window."""
    yield from _visit(browser, server, viewport={"width": 1280, "height": 900}, accept_downloads=True)


@pytest.fixture
def narrow_visit(browser: object, server: str) -> Iterator[Visit]:
    """A fresh tab as on a phone: 390 px wide."""
    yield from _visit(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True)
