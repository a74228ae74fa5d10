"""A folder of table files laid out as ``retain synth`` writes them: ``customers.csv``, ``orders.parquet`` …

A file is a table's when its name is the table's name with a supported suffix (``orders.csv``, ``events.jsonl``);
everything else (``manifest.json``, ``ground_truth/``, notes) is listed as skipped. Tables come in dependency
order, the order of ``retain schema``: customers first, then the facts about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retain.contract.tables import TableName
from retain.errors import InputError
from retain.ingest.sources import SUPPORTED_SUFFIXES

__all__ = ["FolderLayout", "folder_layout"]


@dataclass(frozen=True)
class FolderLayout:
    files: list[tuple[TableName, Path]]
    """The table files, in dependency order."""
    skipped: list[str]
    """Names of the other entries (folders end in ``/``), sorted."""


def folder_layout(folder: Path) -> FolderLayout:
    """The table files of ``folder`` and the names of what is not one.

    Raises
    ------
    InputError
        ``folder`` is not a folder, holds two files for one table, or holds no table file at all.
    """
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder. Give a folder of table files, or a TABLE and a FILE.")
    found: dict[TableName, list[Path]] = {}
    skipped = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        table = _table_of(entry)
        if table is None:
            skipped.append(entry.name + ("/" if entry.is_dir() else ""))
        else:
            found.setdefault(table, []).append(entry)
    repeated = {t: paths for t, paths in found.items() if len(paths) > 1}
    if repeated:
        table, paths = next(iter(repeated.items()))
        raise InputError(
            f"{folder}: {len(paths)} files for table {table} ({', '.join(p.name for p in paths)}); keep one of them "
            "in the folder, or ingest each with `retain ingest TABLE FILE`."
        )
    if not found:
        names = ", ".join(str(t) for t in TableName)
        raise InputError(
            f"{folder}: no table file found; expected files named after the tables ({names}) with a suffix of "
            f"{', '.join(SUPPORTED_SUFFIXES)}, e.g. customers.csv, as `retain synth` writes them."
        )
    return FolderLayout([(t, found[t][0]) for t in TableName if t in found], skipped)


def _table_of(entry: Path) -> TableName | None:
    if not entry.is_file() or entry.suffix.lower() not in SUPPORTED_SUFFIXES:
        return None
    try:
        return TableName(entry.stem.lower())
    except ValueError:
        return None
