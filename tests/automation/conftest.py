"""Fixtures of the automation tests: a migrated state database on each backend, real receivers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from receivers import WEBHOOK_SECRET, HttpReceiver, SmtpReceiver

from retain.state import make_engine, upgrade


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on a freshly migrated state database (SQLite, then PostgreSQL)."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(WEBHOOK_SECRET).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
