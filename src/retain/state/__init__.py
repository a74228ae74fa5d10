"""State database: SQLAlchemy tables, engines, Alembic migrations, locks and repository functions.

Everything retain itself writes transactionally lives here; SQLite by default, PostgreSQL in production.
Repository functions take an open ``Connection``; the caller (a service) owns the transaction.
"""

from retain.state.db import make_engine, make_sessionmaker, normalize_url
from retain.state.locks import AdvisoryLocks, FileLocks, LockName, Locks
from retain.state.migrate import current_revision, head_revision, upgrade
from retain.state.runs import (
    IngestRun,
    find_committed,
    finish_run,
    get_run,
    list_runs,
    mark_interrupted,
    start_run,
)
from retain.state.tables import RunStatus, customer_profiles, ingest_runs, metadata, workspace

__all__ = [
    "AdvisoryLocks",
    "FileLocks",
    "IngestRun",
    "LockName",
    "Locks",
    "RunStatus",
    "current_revision",
    "customer_profiles",
    "find_committed",
    "finish_run",
    "get_run",
    "head_revision",
    "ingest_runs",
    "list_runs",
    "make_engine",
    "make_sessionmaker",
    "mark_interrupted",
    "metadata",
    "normalize_url",
    "start_run",
    "upgrade",
    "workspace",
]
