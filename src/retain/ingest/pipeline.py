"""Ingest one source into one canonical table as one atomic, idempotent batch."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd
import pyarrow as pa

from retain.clock import Clock, SystemClock
from retain.contract.formats import DEFAULT_FORMATS, ValueFormats
from retain.contract.presets import get_preset
from retain.contract.system_tables import fact_spec
from retain.contract.tables import TableSpec
from retain.contract.validate import validate_chunk
from retain.errors import InputError
from retain.ingest.mapping import ColumnPlan, plan_columns
from retain.ingest.prefetch import prefetch
from retain.ingest.sources import Source, SourceChunk, open_source
from retain.lake import BatchWriter, Lake, make_batch_id

__all__ = ["IngestOptions", "IngestResult", "IngestStatus", "ingest", "reasons_per_row"]

Progress = Callable[[int, int | None], None]


class IngestStatus(StrEnum):
    COMMITTED = "committed"
    """Some rows were accepted and are now visible."""
    ALREADY_INGESTED = "already_ingested"
    """The same input was ingested before; nothing was added."""
    NOTHING_ACCEPTED = "nothing_accepted"
    """Every row was rejected (or there were none); nothing was added."""


@dataclass(frozen=True)
class IngestOptions:
    """How to read one source: column mapping, preset, file layout and how its values are written."""

    mapping: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    preset: str | None = None
    keep_extra: bool = False
    chunk_rows: int = 250_000
    delimiter: str | None = None
    sheet: str | None = None
    """XLSX worksheet: a name, or a number counted from 1; the first sheet when None."""
    skip_rows: int = 0
    """Banner lines (CSV) or rows (XLSX) above the header."""
    formats: ValueFormats = DEFAULT_FORMATS
    """Date format, decimal separator and time zone of the values (``--date-format``, ``--decimal``, ``--timezone``)."""


@dataclass
class IngestResult:
    table: str
    source: str
    status: IngestStatus
    batch_id: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    """Rejected rows per reason; a row with several problems counts under each of its reasons (once per reason)."""
    batch_path: Path | None = None
    rejects_path: Path | None = None
    fingerprint: str = ""
    preset: str | None = None
    """With a preset, ``rows_read``/``rows_rejected`` count input lines and ``rows_accepted`` the rows they made."""

    @property
    def ok(self) -> bool:
        return self.status is not IngestStatus.NOTHING_ACCEPTED


def _fingerprint(spec: TableSpec, source: Source, options: IngestOptions, plan: ColumnPlan | None) -> str:
    """Same input + same interpretation = same fingerprint, so a repeated ingest is recognised.

    Reading options enter only when they differ from the default, so fingerprints made before they existed hold.
    """
    recipe: dict[str, object] = {
        "table": str(spec.name),
        "preset": options.preset,
        "plan": plan.describe() if plan else None,
    }
    if source.layout:
        recipe["layout"] = dict(source.layout)
    if options.formats.describe():
        recipe["formats"] = options.formats.describe()
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
    digest.update(source.fingerprint().encode())
    return digest.hexdigest()


class _RowCounter:
    """Counts input records (for presets, lines, not the orders they become)."""

    def __init__(self, source: Source, chunk_rows: int):
        self.source, self.chunk_rows, self.rows = source, chunk_rows, 0

    def __iter__(self) -> Iterator[SourceChunk]:
        for chunk in self.source.chunks(self.chunk_rows):
            self.rows += len(chunk.rows) + chunk.rejected_rows
            yield chunk


def _canonical_chunks(
    spec: TableSpec, source: Source, options: IngestOptions, counter: _RowCounter
) -> tuple[Iterator[SourceChunk], ColumnPlan | None]:
    if options.preset:
        preset = get_preset(options.preset, spec.name)
        absent = [c for c in preset.input_columns if c not in source.columns]
        if absent:
            raise InputError(
                f"{source.name}: preset {preset.name} needs column(s) {', '.join(absent)}; the file has "
                f"{', '.join(source.columns)}. Nothing was written."
            )
        return preset.transform(iter(counter), options.formats), None
    plan = plan_columns(
        spec,
        source.columns,
        mapping=options.mapping,
        constants=options.constants,
        keep_extra=options.keep_extra,
        where=source.name,
        first_seen=source.column_lines,
    )

    def mapped() -> Iterator[SourceChunk]:
        for chunk in counter:
            yield SourceChunk(plan.apply(chunk.table), chunk.rows, chunk.rejects, chunk.rejected_rows)

    return mapped(), plan


def ingest(
    lake: Lake,
    table: str,
    source: str | Path | pd.DataFrame | pa.Table,
    options: IngestOptions | None = None,
    *,
    clock: Clock | None = None,
    progress: Progress | None = None,
    on_start: Callable[[str, str], None] | None = None,
) -> IngestResult:
    """Validate ``source`` against ``table`` and commit its valid rows as one batch (or nothing).

    Raises
    ------
    InputError
        The source cannot be read or its columns do not fit the table; nothing was written.

    ``on_start(fingerprint, batch_id)`` is called once the input is known to be new, before anything is written.
    """
    options = options or IngestOptions()
    clock = clock or SystemClock()
    spec = fact_spec(table)  # a canonical table, or a system table the playbook runner writes
    src = open_source(
        source, delimiter=options.delimiter, sheet=options.sheet, skip_rows=options.skip_rows, formats=options.formats
    )
    counter = _RowCounter(src, options.chunk_rows)
    chunks, plan = _canonical_chunks(spec, src, options, counter)
    fingerprint = _fingerprint(spec, src, options, plan)
    existing = lake.find_batch(spec.name, fingerprint)
    if existing is not None:
        return IngestResult(
            str(spec.name),
            src.name,
            IngestStatus.ALREADY_INGESTED,
            lake.batch_id_of(existing),
            batch_path=existing,
            fingerprint=fingerprint,
            preset=options.preset,
        )
    batch_id = make_batch_id(clock.now(), fingerprint)
    if on_start:
        on_start(fingerprint, batch_id)
    writer = BatchWriter(lake, spec, batch_id)
    reasons: Counter[str] = Counter()
    accepted = rejected = 0
    try:
        for chunk in prefetch(chunks):
            checked = validate_chunk(spec, chunk.table, chunk.rows, options.formats)
            writer.write(checked.valid)
            rejects = _in_row_order(chunk.rejects, checked.rejects)
            writer.write_rejects(rejects)
            reasons.update(reasons_per_row(rejects))
            accepted += checked.valid.num_rows
            rejected += checked.rejected_rows + chunk.rejected_rows
            if progress:
                progress(src.position(), src.total)
        metadata = {
            "table": str(spec.name),
            "source": src.name,
            "fingerprint": fingerprint,
            "preset": options.preset,
            "plan": plan.describe() if plan else None,
            "layout": dict(src.layout),
            "formats": options.formats.describe(),
            "rows_accepted": accepted,
            "rows_rejected": rejected,
            "ingested_at": clock.now().isoformat(),
        }
        batch_path, rejects_path = writer.commit(metadata)
    except BaseException:
        writer.abort()
        raise
    status = IngestStatus.COMMITTED if accepted else IngestStatus.NOTHING_ACCEPTED
    return IngestResult(
        str(spec.name),
        src.name,
        status,
        batch_id,
        counter.rows,
        accepted,
        rejected,
        dict(sorted(reasons.items())),
        batch_path,
        rejects_path,
        fingerprint,
        options.preset,
    )


def _in_row_order(read: pa.Table, validated: pa.Table) -> pa.Table:
    """Rows the source could not read and rows that failed validation, as one list in source row order."""
    if read.num_rows == 0 or validated.num_rows == 0:
        return validated if read.num_rows == 0 else read
    return pa.concat_tables([read, validated]).sort_by([("source_row", "ascending")])


def reasons_per_row(rejects: pa.Table) -> Counter[str]:
    """Rows per reason: each rejected row counts once under every distinct reason found in it.

    A row with a bad date and a bad amount counts under ``bad_timestamp`` and ``bad_number``, so the counts add up
    to at least the rejected rows (more when rows have several problems).
    """
    if rejects.num_rows == 0:
        return Counter()
    pairs = rejects.select(["source_row", "reason"]).group_by(["source_row", "reason"]).aggregate([])
    return Counter(pairs.column("reason").to_pylist())
