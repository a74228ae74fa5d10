"""The workspace: one folder holding settings, the lake, the marts, models and the state database.

``Workspace`` is the façade the services (``retain.services``) take: it wires settings, lake, state database,
locks and engine together. Interfaces (CLI, API, report, notebooks) open a workspace and call a service with it.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from retain.clock import Clock, SystemClock
from retain.contract.formats import DEFAULT_FORMATS, ValueFormats
from retain.contract.tables import TableName
from retain.errors import InputError, WorkspaceError
from retain.facts import Facts
from retain.ingest.pipeline import IngestOptions, IngestResult, IngestStatus, Progress, ingest
from retain.lake import Lake, read_table
from retain.settings import CONFIG_FILE_NAME, Settings, default_toml
from retain.state import (
    AdvisoryLocks,
    FileLocks,
    IngestRun,
    LockName,
    Locks,
    RunStatus,
    finish_run,
    list_runs,
    make_engine,
    mark_interrupted,
    start_run,
    upgrade,
)
from retain.state.connect_errors import check_credentials, is_connection_failure, unavailable
from retain.state.db import shown_url
from retain.state.workspace_row import claim_database

__all__ = ["WORKSPACE_ID_FILE", "Workspace"]

_FOLDERS = ("data", "marts", "models", "playbooks")
WORKSPACE_ID_FILE = "workspace.id"
"""File in the workspace folder holding its id (a UUID): what the state database and the locks know it by."""


class Workspace:
    """An opened workspace. Create one with :meth:`init` or :meth:`open`."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None):
        self.settings = settings
        self.path = settings.workspace
        self.clock = clock or SystemClock()
        self.lake = Lake(self.path / "data")
        self._thread_backends: dict[int, ibis.BaseBackend] = {}
        self._thread_backends_lock = threading.Lock()

    @classmethod
    def init(cls, path: str | Path, *, clock: Clock | None = None, **overrides: object) -> Workspace:
        """Create the folders, a commented ``retain.toml`` and the migrated state database (idempotent)."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise WorkspaceError(f"{path} exists and is not a folder; choose another path for the workspace.")
        for folder in _FOLDERS:
            (path / folder).mkdir(parents=True, exist_ok=True)
        config = path / CONFIG_FILE_NAME
        if not config.exists():
            config.write_text(default_toml())
        return cls.open(path, clock=clock, **overrides)

    @classmethod
    def open(cls, path: str | Path, *, clock: Clock | None = None, **overrides: object) -> Workspace:
        """Open an existing workspace and bring its state database up to the current schema."""
        path = Path(path)
        if not (path / CONFIG_FILE_NAME).is_file():
            raise WorkspaceError(
                f"{path.resolve()} is not a retain workspace (no {CONFIG_FILE_NAME}). "
                f"Create one with `retain init {path}` or point --workspace / RETAIN_WORKSPACE at one."
            )
        return cls.from_settings(Settings.load(path, **overrides), clock=clock)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> Workspace:
        """Open the workspace ``settings`` describe (already loaded, e.g. by the server) and bring its state
        database up to the current schema."""
        workspace = cls(settings, clock=clock)
        url = workspace.settings.resolved_database_url
        check_credentials(url)
        try:
            upgrade(url)
            with workspace.transaction() as connection:
                claim_database(
                    connection,
                    workspace_id=workspace.id,
                    path=str(workspace.path.resolve()),
                    now=workspace.clock.now(),
                    database=shown_url(url),
                )
        except Exception as error:
            if not is_connection_failure(error):
                raise
            raise unavailable(url, error) from None
        return workspace

    @cached_property
    def id(self) -> str:
        """The workspace's id (``workspace.id``, created on first use): how the state database knows it."""
        file = self.path / WORKSPACE_ID_FILE
        if not file.is_file():
            temp = file.with_name(f".{file.name}.{os.getpid()}")
            temp.write_text(str(uuid.uuid4()) + "\n")
            try:
                os.link(temp, file)  # atomic and never overwrites: two first opens agree on one id
            except FileExistsError:
                pass
            finally:
                temp.unlink(missing_ok=True)
        value = file.read_text().strip()
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise WorkspaceError(
                f"{file} does not hold a workspace id (found {value[:40]!r}); restore it from a backup, or delete it "
                "if this workspace has its own state database (a new id is then created)."
            ) from None

    @cached_property
    def state(self) -> sa.Engine:
        """SQLAlchemy engine of the state database."""
        return make_engine(self.settings.resolved_database_url)

    def transaction(self) -> AbstractContextManager[sa.Connection]:
        """One unit of work on the state database: everything done on the connection commits together or not at
        all (rolled back on an exception)."""
        return self.state.begin()

    def connect(self) -> AbstractContextManager[sa.Connection]:
        """A connection for reading the state database."""
        return self.state.connect()

    @cached_property
    def locks(self) -> Locks:
        """The workspace's named locks: file locks with SQLite, advisory locks with PostgreSQL (several hosts)."""
        if self.state.dialect.name == "postgresql":
            return AdvisoryLocks(self.state, self.id)
        return FileLocks(self.path)

    def facts(self) -> Facts:
        """The lake as it is now, fixed: every table a job reads comes from this one list of batches."""
        return Facts(self.backend, self.lake.view())

    @cached_property
    def _root_backend(self) -> ibis.BaseBackend:
        from retain.engine import connect

        return connect(self.settings.engine)

    @property
    def backend(self) -> ibis.BaseBackend:
        """The analytics engine (DuckDB by default) that reads the lake, one per thread.

        The API serves requests from a thread pool and a DuckDB connection takes one call at a time: each thread
        gets its own connection to the same in-memory database (:func:`retain.engine.sibling`).
        """
        root = self._root_backend
        if threading.current_thread() is threading.main_thread():
            return root
        # Kept by thread id, not in a threading.local: a thread-local connection would be destroyed as its thread
        # exits, which for a server's daemon threads can be during interpreter shutdown, where DuckDB's destructor
        # aborts the process. A new thread reusing a dead one's id reuses its connection (never two at once).
        ident = threading.get_ident()
        with self._thread_backends_lock:
            backend = self._thread_backends.get(ident)
            if backend is None:
                from retain.engine import sibling

                backend = self._thread_backends[ident] = sibling(root)
        return backend

    def table(self, name: TableName | str) -> ibis.Table:
        """The latest version of every row of a canonical table, as an unexecuted Ibis expression."""
        return read_table(self.backend, self.lake, name)

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time per workspace; a second one fails fast instead of interleaving batches."""
        with self.locks.hold(
            LockName.INGEST, busy=f"Another retain process is writing to {self.path}; wait for it to finish and retry."
        ):
            yield

    def recover(self) -> list[IngestRun]:
        """Close the run log of ingests killed mid-way and delete their invisible leftovers (under the lock)."""
        self.lake.remove_stale_temp_files(older_than_seconds=0)
        with self.transaction() as connection:
            return mark_interrupted(
                connection,
                lambda run: self.lake.find_batch(run.table_name, run.fingerprint) is not None,
                clock=self.clock,
            )

    def ingest(
        self,
        table: TableName | str,
        source: str | Path | pd.DataFrame | pa.Table,
        *,
        mapping: dict[str, str] | None = None,
        constants: dict[str, str] | None = None,
        preset: str | None = None,
        keep_extra: bool = False,
        delimiter: str | None = None,
        sheet: str | None = None,
        skip_rows: int = 0,
        formats: ValueFormats | None = None,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Validate ``source`` and commit its valid rows to ``table`` as one batch; see :func:`retain.ingest.ingest`.

        ``source`` is a file path (CSV, Parquet, JSON Lines, XLSX), a pandas DataFrame or an Arrow table;
        ``sheet``, ``skip_rows`` and ``formats`` (date format, decimal separator, time zone) say how to read it.
        """
        options = IngestOptions(
            mapping=dict(mapping or {}),
            constants=dict(constants or {}),
            preset=preset,
            keep_extra=keep_extra,
            delimiter=delimiter,
            sheet=sheet,
            skip_rows=skip_rows,
            formats=formats or DEFAULT_FORMATS,
            chunk_rows=self.settings.ingest.chunk_rows,
        )
        with self._writer_lock():
            self.recover()
            run_id: str | None = None

            def on_start(fingerprint: str, batch_id: str) -> None:
                nonlocal run_id
                with self.transaction() as connection:
                    run_id = start_run(
                        connection,
                        table=str(table),
                        source=_describe(source),
                        fingerprint=fingerprint,
                        clock=self.clock,
                    )

            try:
                result = ingest(
                    self.lake, str(table), source, options, clock=self.clock, progress=progress, on_start=on_start
                )
            except Exception as exc:
                if run_id is not None:
                    self._finish(
                        run_id,
                        status=RunStatus.FAILED,
                        rows_read=0,
                        rows_accepted=0,
                        rows_rejected=0,
                        batch_path=None,
                        rejects_path=None,
                        error=str(exc)[:2000],
                    )
                raise
            if run_id is not None:
                status = RunStatus.COMMITTED if result.status is IngestStatus.COMMITTED else RunStatus.FAILED
                self._finish(
                    run_id,
                    status=status,
                    rows_read=result.rows_read,
                    rows_accepted=result.rows_accepted,
                    rows_rejected=result.rows_rejected,
                    batch_path=_str(result.batch_path),
                    rejects_path=_str(result.rejects_path),
                    error=None if result.ok else "no row could be accepted; see the rejects file",
                )
            return result

    def _finish(self, run_id: str, **outcome: object) -> None:
        with self.transaction() as connection:
            finish_run(connection, run_id, clock=self.clock, **outcome)  # type: ignore[arg-type]

    def runs(self, table: str | None = None, limit: int = 50) -> list[IngestRun]:
        """The latest ingest runs, newest first (of one table when given)."""
        with self.connect() as connection:
            return list_runs(connection, table=table, limit=limit)


def _describe(source: object) -> str:
    if isinstance(source, str | Path):
        return str(Path(source).resolve())
    if isinstance(source, pd.DataFrame):
        return f"<DataFrame {len(source)} rows>"
    if isinstance(source, pa.Table):
        return f"<Arrow table {source.num_rows} rows>"
    raise InputError(
        f"Cannot ingest a {type(source).__name__}; pass a file path, a pandas DataFrame or an Arrow table."
    )


def _str(path: Path | None) -> str | None:
    return None if path is None else os.fspath(path)
