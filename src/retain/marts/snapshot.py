"""Marts snapshots on disk: a folder of Parquet files per refresh.

Layout of ``<workspace>/marts/``::

    <snapshot id>/                  a complete snapshot: <mart>.parquet files and manifest.json
    .tmp-<snapshot id>/             a snapshot being written (invisible to readers; removed if left by a crash)

A snapshot is written into ``.tmp-<id>/`` and published under ``<id>/`` when every file is there
(:func:`retain.lake.atomic.publish`: fsync, rename). Which snapshot is *current* is not recorded here but in the
state database, switched in the same transaction that writes the snapshot's profiles
(:mod:`retain.state.workspace_row`), so the marts and the profiles always agree on it. A process killed at any
moment leaves the previous snapshot current; a published snapshot that never became current is pruned later.

The id is ``<as-of>_<created>`` with both instants in UTC, e.g. ``20251231T235959Z_20260102T030405123456Z``: ids
sort by the instant they describe, then by creation time.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from retain.errors import InputError, WorkspaceError
from retain.lake.atomic import TEMP_PREFIX, publish, remove_temporaries, write_durably
from retain.lake.view import LakeView

__all__ = [
    "MANIFEST_FILE",
    "MartsStore",
    "Snapshot",
    "SnapshotWriter",
    "make_snapshot_id",
    "parse_snapshot_id",
]

MANIFEST_FILE = "manifest.json"
_AS_OF_FORMAT = "%Y%m%dT%H%M%SZ"
_CREATED_FORMAT = "%Y%m%dT%H%M%S%fZ"


def make_snapshot_id(as_of: datetime, created_at: datetime) -> str:
    """The id of a snapshot describing ``as_of``, created at ``created_at`` (both timezone-aware)."""
    for name, value in (("as_of", as_of), ("created_at", created_at)):
        if value.tzinfo is None:
            raise InputError(f"{name} {value!r} has no time zone; pass a timezone-aware UTC datetime.")
    return f"{as_of.astimezone(UTC):{_AS_OF_FORMAT}}_{created_at.astimezone(UTC):{_CREATED_FORMAT}}"


def parse_snapshot_id(snapshot_id: str) -> tuple[datetime, datetime]:
    """``(as_of, created_at)`` of a snapshot id made by :func:`make_snapshot_id`.

    Raises
    ------
    InputError
        If ``snapshot_id`` does not have the ``<as-of>_<created>`` form.
    """
    try:
        as_of, created = snapshot_id.split("_")
        return (
            datetime.strptime(as_of, _AS_OF_FORMAT).replace(tzinfo=UTC),
            datetime.strptime(created, _CREATED_FORMAT).replace(tzinfo=UTC),
        )
    except ValueError:
        raise InputError(
            f"{snapshot_id!r} is not a marts snapshot id; expected <as-of>_<created>, "
            "e.g. 20251231T235959Z_20260102T030405123456Z."
        ) from None


class Snapshot:
    """A complete marts snapshot (read-only): its manifest and one Parquet file per mart."""

    def __init__(self, path: Path):
        self.path = path
        self.id = path.name

    def __repr__(self) -> str:
        return f"Snapshot({self.id!r})"

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The snapshot's ``manifest.json`` (as-of, creation time, engine, rows and duration per mart...)."""
        return json.loads((self.path / MANIFEST_FILE).read_text(encoding="utf-8"))

    @property
    def as_of(self) -> datetime:
        return datetime.fromisoformat(self.manifest["as_of"])

    @property
    def marts(self) -> list[str]:
        """Names of the marts this snapshot holds."""
        return sorted(self.manifest["marts"])

    def has(self, name: str) -> bool:
        return str(name) in self.manifest["marts"]

    def read(self, name: str, *, columns: list[str] | None = None) -> pa.Table:
        """One mart as an Arrow table.

        Raises
        ------
        WorkspaceError
            If the snapshot has no such mart (the manifest says why it was skipped, when it was).
        """
        name = str(name)
        if not self.has(name):
            reason = self.manifest.get("skipped", {}).get(name)
            why = f" It was skipped: {reason}." if reason else ""
            raise WorkspaceError(
                f"Marts snapshot {self.id} has no {name!r} mart.{why} Marts available: {', '.join(self.marts)}."
            )
        return pq.read_table(self.path / self.manifest["marts"][name]["file"], columns=columns)

    def lake_view(self, lake_root: Path) -> LakeView:
        """The lake batches this snapshot was computed from (its manifest lists them), to read the same facts."""
        batches = self.manifest.get("lake", {}).get("batches", {})
        return LakeView(
            lake_root, {name: tuple(lake_root / name / file for file in files) for name, files in batches.items()}
        )


class SnapshotWriter:
    """Writes one snapshot into its temporary folder; :meth:`commit` publishes it."""

    def __init__(self, store: MartsStore, snapshot_id: str):
        self.store = store
        self.id = snapshot_id
        self.temp_path = store.root / f"{TEMP_PREFIX}{snapshot_id}"
        self.temp_path.mkdir(parents=True)
        self.files: dict[str, str] = {}

    def write(self, name: str, table: pa.Table) -> Path:
        """Write one mart as ``<name>.parquet`` into the temporary folder."""
        file = f"{name}.parquet"
        pq.write_table(table, self.temp_path / file)
        self.files[str(name)] = file
        return self.temp_path / file

    def commit(self, manifest: dict[str, Any]) -> Snapshot:
        """Write the manifest and publish the folder under its final name (it is not current yet)."""
        write_durably(self.temp_path / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True, default=str))
        return Snapshot(publish(self.temp_path, self.store.root / self.id))

    def abort(self) -> None:
        """Delete the temporary folder (after an error)."""
        shutil.rmtree(self.temp_path, ignore_errors=True)


class MartsStore:
    """The ``marts/`` folder of a workspace: complete snapshots and the ones being written."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def get(self, snapshot_id: str) -> Snapshot:
        """The complete snapshot ``snapshot_id``.

        Raises
        ------
        WorkspaceError
            If its folder is missing or incomplete (the message says to refresh).
        """
        path = self.root / snapshot_id
        if not snapshot_id or not (path / MANIFEST_FILE).is_file():
            raise WorkspaceError(
                f"The current marts snapshot {snapshot_id!r} is missing or incomplete in {self.root}. "
                "Run `retain refresh` to write a new one."
            )
        return Snapshot(path)

    def snapshots(self) -> list[Snapshot]:
        """Every complete snapshot folder, oldest created first."""
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            if path.is_dir() and not path.name.startswith(".") and (path / MANIFEST_FILE).is_file():
                try:
                    created = parse_snapshot_id(path.name)[1]
                except InputError:
                    continue  # not ours: leave it alone
                found.append((created, path.name, Snapshot(path)))
        return [snapshot for _, _, snapshot in sorted(found, key=lambda item: item[:2])]

    def new_id(self, as_of: datetime, created_at: datetime) -> str:
        """A fresh snapshot id; a clash (same clock reading) moves the creation time by 1 µs."""
        while True:
            snapshot_id = make_snapshot_id(as_of, created_at)
            if not (self.root / snapshot_id).exists() and not (self.root / f"{TEMP_PREFIX}{snapshot_id}").exists():
                return snapshot_id
            created_at += timedelta(microseconds=1)

    def begin(self, snapshot_id: str) -> SnapshotWriter:
        """Start writing snapshot ``snapshot_id`` (call under the workspace's refresh lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return SnapshotWriter(self, snapshot_id)

    def remove_temporary(self) -> list[Path]:
        """Delete what killed refreshes left behind (``.tmp-*``); call under the refresh lock."""
        return remove_temporaries(self.root)

    def prune(self, keep: int, *, current: str | None, previous: str | None = None) -> list[str]:
        """Delete all but the ``keep`` newest-created snapshots; ``current`` and ``previous`` (what ``retain
        changes`` compares it with) always stay.

        Returns
        -------
        list of str
            Ids of the deleted snapshots.
        """
        if keep < 1:
            raise InputError(f"keep must be at least 1 (the current snapshot), got {keep}.")
        snapshots = self.snapshots()
        kept = {s.id for s in snapshots[-keep:]} | {name for name in (current, previous) if name}
        deleted = []
        for snapshot in snapshots:
            if snapshot.id not in kept:
                shutil.rmtree(snapshot.path, ignore_errors=True)
                deleted.append(snapshot.id)
        return deleted
