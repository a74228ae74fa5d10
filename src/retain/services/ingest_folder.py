"""Ingest a folder of table files (as ``retain synth`` writes them) into a workspace, one batch per table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retain.contract.formats import ValueFormats
from retain.errors import RetainError
from retain.ingest import IngestResult
from retain.ingest.folder import folder_layout
from retain.workspace import Workspace

__all__ = ["FolderIngest", "ingest_folder"]

FolderProgress = Callable[[str, int, int | None], None]
"""``(table, done, total)`` while a table's file is read."""


@dataclass(frozen=True)
class FolderIngest:
    folder: Path
    results: list[IngestResult]
    """One per table file, in dependency order."""
    skipped: list[str]
    """Entries of the folder that are no table file (folders end in ``/``)."""

    @property
    def ok(self) -> bool:
        """Every file had a row accepted now or before."""
        return all(r.ok for r in self.results)


def ingest_folder(
    ws: Workspace,
    folder: Path,
    *,
    keep_extra: bool = False,
    delimiter: str | None = None,
    sheet: str | None = None,
    skip_rows: int = 0,
    formats: ValueFormats | None = None,
    progress: FolderProgress | None = None,
) -> FolderIngest:
    """Ingest every table file of ``folder`` in dependency order (customers first), each as its own batch.

    The reading options apply to every file. A file that cannot be ingested (its columns do not fit, say) stops
    the run with its error; the tables before it stay ingested, and running again skips them as already
    ingested, so fixing the file and repeating the command completes the folder.
    """
    layout = folder_layout(folder)
    results: list[IngestResult] = []
    for table, path in layout.files:
        try:
            result = ws.ingest(
                table,
                path,
                keep_extra=keep_extra,
                delimiter=delimiter,
                sheet=sheet,
                skip_rows=skip_rows,
                formats=formats,
                progress=(lambda done, total, t=str(table): progress(t, done, total)) if progress else None,
            )
        except RetainError as exc:
            if results:  # the message keeps its type (and exit code) and says what is already in
                done = ", ".join(r.table for r in results)
                exc.args = (
                    f"{exc} Already ingested from {folder}: {done}; fix the file and run the command again "
                    "(ingested files are recognised and skipped).",
                )
            raise
        results.append(result)
    return FolderIngest(folder, results, layout.skipped)
