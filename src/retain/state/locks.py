"""Named locks that guard a workspace: a file lock with SQLite, ``pg_advisory_lock`` with PostgreSQL.

A lock is what lets one process at a time do a thing to a workspace — ingest a batch (``ingest``), compute a
snapshot (``refresh``), save a model version (``models``). With the embedded SQLite state the workspace lives on
one machine, and an ``flock`` on a file in the workspace is enough. With PostgreSQL several hosts may share one
state database (and a lake on shared storage), and a file lock on one host means nothing to another, so the lock
is a PostgreSQL session-level advisory lock keyed by the workspace id and the lock name, held on a connection of
its own for as long as the work lasts (and released by the server if the process dies).

Both kinds either take the lock within ``wait`` seconds or raise :class:`~retain.errors.ConflictError` with the
message the caller gives ("Another `retain refresh` is running on …").
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from retain.errors import ConflictError

__all__ = ["AdvisoryLocks", "FileLocks", "LockName", "Locks", "advisory_key"]

_POLL_SECONDS = 0.05


class LockName:
    """Names of the workspace locks (one string each; a registry would be overkill for three)."""

    INGEST = "ingest"
    REFRESH = "refresh"
    MODELS = "models"


class Locks(Protocol):
    """Named locks of one workspace."""

    def hold(self, name: str, *, busy: str, wait: float = 0.0) -> AbstractContextManager[None]:
        """Hold lock ``name`` for the ``with`` block; ``ConflictError(busy)`` if not free within ``wait`` s."""
        ...


def _retry(try_once: Callable[[], bool], *, wait: float, busy: str) -> None:
    deadline = time.monotonic() + max(0.0, wait)
    while not try_once():
        if time.monotonic() >= deadline:
            raise ConflictError(busy)
        time.sleep(_POLL_SECONDS)


class FileLocks:
    """``flock`` on ``<folder>/.<name>.lock`` (SQLite workspaces: one machine)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @contextmanager
    def hold(self, name: str, *, busy: str, wait: float = 0.0) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f".{name}.lock", "a+") as handle:

            def try_once() -> bool:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                return True

            _retry(try_once, wait=wait, busy=busy)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_key(namespace: str, name: str) -> int:
    """The signed 64-bit advisory-lock key of lock ``name`` of workspace ``namespace``."""
    digest = hashlib.blake2b(f"retain:{namespace}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLocks:
    """PostgreSQL session advisory locks, keyed by workspace id and lock name (several hosts, one database)."""

    def __init__(self, engine: sa.Engine, namespace: str):
        self.engine = engine
        self.namespace = namespace

    @contextmanager
    def hold(self, name: str, *, busy: str, wait: float = 0.0) -> Iterator[None]:
        key = advisory_key(self.namespace, name)
        # A connection of its own, in autocommit: the lock belongs to the session, not to a transaction, and
        # must outlive the transactions the work commits meanwhile.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:

            def try_once() -> bool:
                return bool(connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())

            _retry(try_once, wait=wait, busy=busy)
            try:
                yield
            finally:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
