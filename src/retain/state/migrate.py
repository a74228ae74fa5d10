"""Run the state database migrations from code: no ``alembic.ini`` on disk, the scripts ship in the package.

To add a revision after changing ``tables.py`` (then review it, and keep it free of ``retain`` imports)::

    from alembic import command
    from retain.state.migrate import alembic_config, upgrade

    upgrade("sqlite:////tmp/dev.db")
    command.revision(alembic_config("sqlite:////tmp/dev.db"), message="what changed", autogenerate=True, rev_id="0002")
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL

from retain.errors import ConfigError
from retain.state.db import make_engine, normalize_url

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL | None = None, *, connection: sa.Connection | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` built in code, pointing at the packaged migrations.

    Parameters
    ----------
    url : str or URL, optional
        Database URL, for commands that open their own connection.
    connection : Connection, optional
        An open connection the migrations run on (takes precedence over ``url``).

    Returns
    -------
    Config
        Usable with every ``alembic.command`` function (``upgrade``, ``revision --autogenerate``, ...).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalize_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # ConfigParser interpolation
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of retain."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package always ships at least one revision
    return head


def current_revision(url: str | URL) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` when it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str | URL) -> str:
    """Upgrade the database at ``url`` to the newest revision; a no-op when it is already there.

    Parameters
    ----------
    url : str or URL
        Database URL (SQLite or PostgreSQL).

    Returns
    -------
    str
        The revision the database is at afterwards (the head).

    Raises
    ------
    ConfigError
        The database is at a revision this version of retain does not know (it was migrated by a newer retain).
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            try:
                command.upgrade(alembic_config(connection=connection), "head")
            except CommandError as exc:
                found = MigrationContext.configure(connection).get_current_revision()
                raise ConfigError(
                    f"Cannot upgrade the state database {engine.url.render_as_string(hide_password=True)}: {exc}. "
                    f"It is at revision {found!r}; this retain knows revisions up to {head_revision()!r}. "
                    "Install the retain version that created it (or newer)."
                ) from None
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    assert revision is not None
    return revision
