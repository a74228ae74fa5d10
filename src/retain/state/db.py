"""Engines and sessions for the state database: SQLite (embedded default) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from retain.errors import ConfigError

__all__ = ["SUPPORTED_BACKENDS", "make_engine", "make_sessionmaker", "normalize_url"]

SUPPORTED_BACKENDS = ("sqlite", "postgresql")

# Bare "postgresql://" means psycopg2 to SQLAlchemy; retain ships psycopg 3, so both spellings work.
_POSTGRES_ALIASES = {"postgresql", "postgres", "postgresql+psycopg"}


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL and pick retain's driver for PostgreSQL (psycopg 3).

    Parameters
    ----------
    url : str or URL
        ``sqlite:///path/state.db``, ``sqlite://`` (memory), ``postgresql://...`` or ``postgresql+psycopg://...``.

    Returns
    -------
    URL

    Raises
    ------
    ConfigError
        The URL does not parse, or names a backend other than SQLite or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "The state database URL is not a valid SQLAlchemy URL; expected e.g. sqlite:////abs/path/state.db or "
            "postgresql+psycopg://user:password@host:5432/dbname. Fix RETAIN_DATABASE_URL or database_url."
        ) from None
    if parsed.drivername in _POSTGRES_ALIASES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"Unsupported state database backend {parsed.get_backend_name()!r} in "
            f"{parsed.render_as_string(hide_password=True)}; supported: {', '.join(SUPPORTED_BACKENDS)}. "
            "Use a sqlite:/// or postgresql+psycopg:// URL."
        )
    return parsed


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while an ingest writes; SQLite leaves foreign keys off unless asked, per connection.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create the engine of the state database.

    Parameters
    ----------
    url : str or URL
        Database URL (see :func:`normalize_url`); usually ``Settings.resolved_database_url``.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine` (e.g. ``echo=True``).

    Returns
    -------
    Engine
        SQLite connections have WAL journaling, foreign keys and a 5 s busy timeout; PostgreSQL connections
        are checked before use (``pool_pre_ping``).
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay readable after commit (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
