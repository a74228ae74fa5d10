"""Where the lake keeps things: one folder of immutable Parquet batches per canonical table.

``data/<table>/batch-<batch id>.parquet``  committed batches (readers see only these)
``data/<table>/.tmp-<batch id>.parquet``   a batch being written; renamed when complete, never read
``data/_rejects/<table>/<batch id>.csv``   the rows each batch rejected, with row, column, value and reason
``data/<table>/batch-<batch id>.parquet.keys.json``  whether the batch's keys are distinct (cached by readers)

A batch id is ``<UTC time>-<first 16 hex digits of the batch fingerprint>``: sorting ids sorts batches by ingest
time, which is the order in which a newer version of a key replaces an older one.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from retain.contract.system_tables import SystemTableName
from retain.contract.tables import TableName
from retain.lake.atomic import TEMP_PREFIX
from retain.lake.view import LakeView

__all__ = ["BATCH_COLUMN", "Lake", "make_batch_id"]

BATCH_COLUMN = "_batch"
_BATCH_PREFIX = "batch-"


def make_batch_id(at: datetime, fingerprint: str) -> str:
    return f"{at.strftime('%Y%m%dT%H%M%S%f')}-{fingerprint[:16]}"


class Lake:
    def __init__(self, root: Path):
        self.root = Path(root)

    def table_dir(self, table: TableName | str) -> Path:
        return self.root / str(table)

    def batch_path(self, table: TableName | str, batch_id: str) -> Path:
        return self.table_dir(table) / f"{_BATCH_PREFIX}{batch_id}.parquet"

    def temp_path(self, table: TableName | str, batch_id: str) -> Path:
        return self.table_dir(table) / f"{TEMP_PREFIX}{batch_id}.parquet"

    def rejects_path(self, table: TableName | str, batch_id: str) -> Path:
        return self.root / "_rejects" / str(table) / f"{batch_id}.csv"

    def batch_files(self, table: TableName | str) -> list[Path]:
        """Committed batches of ``table``, oldest first."""
        folder = self.table_dir(table)
        return sorted(folder.glob(f"{_BATCH_PREFIX}*.parquet")) if folder.is_dir() else []

    def view(self) -> LakeView:
        """The committed batches of every canonical and system table, listed now (see
        :class:`~retain.lake.view.LakeView`)."""
        names = [*TableName, *SystemTableName]
        return LakeView(self.root, {str(name): tuple(self.batch_files(name)) for name in names})

    def find_batch(self, table: TableName | str, fingerprint: str) -> Path | None:
        """The committed batch made from exactly this input, if any."""
        for path in self.batch_files(table):
            if path.stem.endswith("-" + fingerprint[:16]):
                return path
        return None

    def batch_id_of(self, path: Path) -> str:
        return path.stem.removeprefix(_BATCH_PREFIX)

    def remove_stale_temp_files(self, older_than_seconds: float = 3600) -> list[Path]:
        """Delete leftovers of batches whose writer died (they were never visible to readers)."""
        removed = []
        cutoff = time.time() - older_than_seconds
        for path in self.root.glob(f"*/{TEMP_PREFIX}*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed
