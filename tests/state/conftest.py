"""Fixtures of the state database tests: a migrated engine on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from retain.state import make_engine, upgrade


@pytest.fixture
def state_engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on a freshly migrated state database (SQLite and PostgreSQL)."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db(state_engine: sa.Engine) -> Iterator[sa.Connection]:
    """An open connection on the migrated state database; repository functions run in its transaction."""
    with state_engine.connect() as connection:
        yield connection
        connection.commit()
