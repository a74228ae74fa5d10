"""Alembic environment of the retain state database, run programmatically by ``retain.state.migrate``.

The caller passes an open connection in ``config.attributes["connection"]`` (or a URL in ``sqlalchemy.url``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from retain.state.db import make_engine
from retain.state.tables import metadata

# Arbitrary constant: PostgreSQL advisory lock key that serialises concurrent upgrades (several API replicas).
_PG_MIGRATION_LOCK = 7_265_331_104

config = context.config


def _run(connection: sa.Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table. Harmless on PostgreSQL.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        context.run_migrations()


def _run_offline() -> None:
    """``alembic upgrade --sql``: print the SQL for a DBA instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
