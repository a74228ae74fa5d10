"""The workspace: one folder holding settings, the lake, the marts, models and the state database.

``Workspace`` is the façade the CLI, the API and notebooks call; it wires settings, lake, state and engine
together and keeps the interfaces thin.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from retain.clock import Clock, SystemClock
from retain.contract.tables import TABLES, TableName
from retain.errors import InputError, WorkspaceError
from retain.ingest.pipeline import IngestOptions, IngestResult, IngestStatus, Progress, ingest
from retain.lake import Lake, read_table
from retain.settings import CONFIG_FILE_NAME, Settings, default_toml
from retain.state import (
    IngestRun,
    RunStatus,
    finish_run,
    list_runs,
    make_engine,
    mark_interrupted,
    start_run,
    upgrade,
)

__all__ = ["TableSummary", "Workspace"]

_FOLDERS = ("data", "marts", "models", "playbooks")
_LOCK_FILE = ".retain.lock"


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int
    first: datetime | None
    last: datetime | None
    batches: int
    rejected_rows: int


class Workspace:
    """An opened workspace. Create one with :meth:`init` or :meth:`open`."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None):
        self.settings = settings
        self.path = settings.workspace
        self.clock = clock or SystemClock()
        self.lake = Lake(self.path / "data")

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
        workspace = cls(Settings.load(path, **overrides), clock=clock)
        upgrade(workspace.settings.resolved_database_url)
        return workspace

    @cached_property
    def state(self) -> sa.Engine:
        """SQLAlchemy engine of the state database."""
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def backend(self) -> ibis.BaseBackend:
        """The analytics engine (DuckDB by default) that reads the lake."""
        from retain.engine import connect

        return connect(self.settings.engine)

    def table(self, name: TableName | str) -> ibis.Table:
        """The latest version of every row of a canonical table, as an unexecuted Ibis expression."""
        return read_table(self.backend, self.lake, name)

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time per workspace; a second one fails fast instead of interleaving batches."""
        with open(self.path / _LOCK_FILE, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceError(
                    f"Another retain process is writing to {self.path}; wait for it to finish and retry."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> list[IngestRun]:
        """Close the run log of ingests killed mid-way and delete their invisible leftovers."""
        self.lake.remove_stale_temp_files(older_than_seconds=0)
        return mark_interrupted(
            self.state,
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
        progress: Progress | None = None,
    ) -> IngestResult:
        """Validate ``source`` and commit its valid rows to ``table`` as one batch; see :func:`retain.ingest.ingest`.

        ``source`` is a file path (CSV, Parquet, JSON Lines, XLSX), a pandas DataFrame or an Arrow table.
        """
        options = IngestOptions(
            mapping=dict(mapping or {}),
            constants=dict(constants or {}),
            preset=preset,
            keep_extra=keep_extra,
            delimiter=delimiter,
            chunk_rows=self.settings.ingest.chunk_rows,
        )
        with self._writer_lock():
            self.recover()
            run_id: str | None = None

            def on_start(fingerprint: str, batch_id: str) -> None:
                nonlocal run_id
                run_id = start_run(
                    self.state, table=str(table), source=_describe(source), fingerprint=fingerprint, clock=self.clock
                )

            try:
                result = ingest(
                    self.lake, str(table), source, options, clock=self.clock, progress=progress, on_start=on_start
                )
            except Exception as exc:
                if run_id is not None:
                    finish_run(
                        self.state,
                        run_id,
                        status=RunStatus.FAILED,
                        rows_read=0,
                        rows_accepted=0,
                        rows_rejected=0,
                        batch_path=None,
                        rejects_path=None,
                        error=str(exc)[:2000],
                        clock=self.clock,
                    )
                raise
            if run_id is not None:
                status = RunStatus.COMMITTED if result.status is IngestStatus.COMMITTED else RunStatus.FAILED
                finish_run(
                    self.state,
                    run_id,
                    status=status,
                    rows_read=result.rows_read,
                    rows_accepted=result.rows_accepted,
                    rows_rejected=result.rows_rejected,
                    batch_path=_str(result.batch_path),
                    rejects_path=_str(result.rejects_path),
                    error=None if result.ok else "no row could be accepted; see the rejects file",
                    clock=self.clock,
                )
            return result

    def runs(self, table: str | None = None, limit: int = 50) -> list[IngestRun]:
        return list_runs(self.state, table=table, limit=limit)

    def summary(self) -> list[TableSummary]:
        """Rows, time range, batches and rejected rows per canonical table."""
        rejected: dict[str, int] = {}
        for run in list_runs(self.state, limit=100_000):
            if run.status in (RunStatus.COMMITTED, RunStatus.FAILED):
                rejected[run.table_name] = rejected.get(run.table_name, 0) + run.rows_rejected
        out = []
        for name, spec in TABLES.items():
            files = self.lake.batch_files(name)
            rows, first, last = 0, None, None
            if files:
                t = self.table(name)
                stats = self.backend.to_pyarrow(
                    t.aggregate(rows=t.count(), first=t[spec.time_column].min(), last=t[spec.time_column].max())
                ).to_pylist()[0]
                rows, first, last = stats["rows"], stats["first"], stats["last"]
            out.append(TableSummary(str(name), rows, first, last, len(files), rejected.get(str(name), 0)))
        return out


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
