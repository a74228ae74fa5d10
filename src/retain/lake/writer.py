"""Write one batch atomically: rows stream into a hidden temporary file that is renamed when complete.

A process killed at any moment leaves either the whole batch or nothing visible, because readers only list
``batch-*.parquet`` and the batch is published with :func:`retain.lake.atomic.publish` (fsync, then rename).
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from retain.contract.csv_safe import neutralise_table
from retain.contract.tables import TableSpec
from retain.contract.validate import REJECTS_SCHEMA, ROW_COLUMN
from retain.lake.atomic import publish
from retain.lake.layout import BATCH_COLUMN, Lake

__all__ = ["BatchWriter"]


class BatchWriter:
    """Collects valid rows and rejects of one batch; ``commit`` publishes them, ``abort`` discards them."""

    def __init__(self, lake: Lake, spec: TableSpec, batch_id: str):
        self.lake, self.spec, self.batch_id = lake, spec, batch_id
        self.schema = spec.arrow_schema.append(pa.field(ROW_COLUMN, pa.int64())).append(
            pa.field(BATCH_COLUMN, pa.string())
        )
        self.temp = lake.temp_path(spec.name, batch_id)
        self.temp_rejects = self.temp.with_suffix(".rejects.csv")
        self.temp.parent.mkdir(parents=True, exist_ok=True)
        self._rows: pq.ParquetWriter | None = None
        # Parquet encoding runs on a background thread (Arrow releases the GIL) so that it overlaps with reading
        # and validating the next chunk; at most one chunk waits, which keeps memory bounded.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retain-batch-writer")
        self._pending: Future | None = None
        self._rejects: pv.CSVWriter | None = None
        self.rows_written = 0
        self.rejects_written = 0

    def write(self, valid: pa.Table) -> None:
        if valid.num_rows == 0:
            return
        if self._rows is None:
            self._rows = pq.ParquetWriter(
                self.temp,
                self.schema,
                compression="snappy",
                use_dictionary=[f.name for f in self.schema if pa.types.is_string(f.type)],
                # Min/max statistics on long text keys cost more than they save; times and numbers keep theirs.
                write_statistics=[f.name for f in self.schema if not pa.types.is_string(f.type)],
            )
        table = valid.append_column(BATCH_COLUMN, pa.repeat(pa.scalar(self.batch_id), valid.num_rows))
        self._wait()
        self._pending = self._pool.submit(self._rows.write_table, table.cast(self.schema))
        self.rows_written += valid.num_rows

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def write_rejects(self, rejects: pa.Table) -> None:
        if rejects.num_rows == 0:
            return
        if self._rejects is None:
            self._rejects = pv.CSVWriter(self.temp_rejects, REJECTS_SCHEMA)
        # People open this file in a spreadsheet: a value such as =HYPERLINK(...) from the input must stay text.
        self._rejects.write_table(neutralise_table(rejects))
        self.rejects_written += rejects.num_rows

    def commit(self, metadata: dict[str, object]) -> tuple[Path | None, Path | None]:
        """Publish the batch; returns (batch path or None if no valid row, rejects path or None)."""
        rejects_path = None
        if self._rejects is not None:
            self._rejects.close()
            rejects_path = self.lake.rejects_path(self.spec.name, self.batch_id)
            rejects_path.parent.mkdir(parents=True, exist_ok=True)
            publish(self.temp_rejects, rejects_path, replace=True)
        batch_path = None
        self._wait()
        self._pool.shutdown()
        if self._rows is not None:
            self._rows.add_key_value_metadata({"retain.batch": json.dumps(metadata, default=str)})
            self._rows.close()
            batch_path = publish(self.temp, self.lake.batch_path(self.spec.name, self.batch_id), replace=True)
        return batch_path, rejects_path

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for writer in (self._rows, self._rejects):
            if writer is not None:
                writer.close()
        self.temp.unlink(missing_ok=True)
        self.temp_rejects.unlink(missing_ok=True)
