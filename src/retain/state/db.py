"""Engines and sessions for the state database: SQLite (embedded default) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from retain.errors import ConfigError

__all__ = [
    "SUPPORTED_BACKENDS",
    "describe_database_error",
    "make_engine",
    "make_sessionmaker",
    "normalize_url",
    "shown_url",
]

SUPPORTED_BACKENDS = ("sqlite", "postgresql")

# Bare "postgresql://" means psycopg2 to SQLAlchemy; retain ships psycopg 3, so both spellings work.
_POSTGRES_ALIASES = {"postgresql", "postgres", "postgresql+psycopg"}


def shown_url(url: str | URL) -> str:
    """``url`` as it may be shown to people: the credentials replaced by ``***``, also when the URL is malformed.

    The credentials are everything between ``://`` and the *last* ``@`` before the query string: a password with
    an unencoded ``@`` or ``:`` (``postgresql://app:p@ss:word@db/retain``) is hidden whole, where a URL parser
    would split it wrongly.
    """
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    scheme, sep, rest = text.partition("://")
    # The query string may hold an "@" of its own (options); credentials end at the last "@" before it.
    credentials_end = rest.split("?", 1)[0].rfind("@")
    if not sep or credentials_end == -1:
        return text
    credentials = rest[:credentials_end]
    if ":" not in credentials:
        return text  # a user name and no password: nothing secret
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{rest[credentials_end + 1 :]}"


def is_database_error(engine: Engine, error: BaseException) -> bool:
    """Whether ``error`` came from the database: SQLAlchemy's, or the driver's own (bulk paths use its cursor)."""
    dbapi_error = getattr(engine.dialect.dbapi, "Error", None)
    return isinstance(error, sa.exc.SQLAlchemyError) or (dbapi_error is not None and isinstance(error, dbapi_error))


def describe_database_error(error: BaseException) -> str:
    """The cause of a database error in one line: the driver's own message, without the SQL or its parameters.

    SQLAlchemy's message of a failed statement ends with the whole statement and its bound values (for a bulk
    insert, thousands of them); people need the first line of what the database said.
    """
    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    return text if len(text) <= 300 else text[:297] + "..."


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
