"""Engine factory: SQLite pragmas, PostgreSQL driver choice, unsupported URLs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from retain.errors import ConfigError
from retain.state import make_engine, make_sessionmaker, normalize_url


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(sa.text("PRAGMA busy_timeout")).scalar_one() == 5000
    finally:
        engine.dispose()
    assert (tmp_path / "state.db").exists()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg"),
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
        ("sqlite://", "sqlite"),
    ],
)
def test_normalize_url_picks_psycopg3_for_postgres(url, driver):
    assert normalize_url(url).drivername == driver


def test_unsupported_backend_lists_supported_ones():
    with pytest.raises(ConfigError, match=r"Unsupported state database backend 'mysql'.*supported: sqlite, postgresql"):
        normalize_url("mysql://u:secret@h/db")


def test_unsupported_backend_message_hides_password():
    with pytest.raises(ConfigError) as info:
        normalize_url("mysql://u:secret@h/db")
    assert "secret" not in str(info.value)


def test_garbage_url_is_a_config_error():
    with pytest.raises(ConfigError, match="not a valid SQLAlchemy URL"):
        normalize_url("not a url")


def test_sessionmaker_keeps_objects_readable_after_commit(database_url):
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            assert session.execute(sa.text("SELECT 1 + 1")).scalar_one() == 2
            assert session.bind is engine
            assert session.expire_on_commit is False
    finally:
        engine.dispose()
