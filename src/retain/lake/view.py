"""A view of the lake fixed at one moment: the committed batches of every table, listed once.

Everything that must describe one consistent state of the data — a refresh computing a dozen marts, a training
building its dataset, a scoring — reads through one ``LakeView``. Batches are immutable and only ever added, so a
batch committed by an ingest after the view was taken is simply not in it: the marts of one snapshot all see the
same facts, whatever is ingested meanwhile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retain.contract.tables import TABLES, TableName

__all__ = ["LakeView"]


@dataclass(frozen=True)
class LakeView:
    """The committed batch files of each canonical table at the moment the view was taken.

    Parameters
    ----------
    root
        The lake folder (``<workspace>/data``).
    files
        Canonical table name → its committed batch files, oldest first (tables without data map to ``()``).
    """

    root: Path
    files: Mapping[str, tuple[Path, ...]]

    def batch_files(self, table: TableName | str) -> list[Path]:
        """Batches of ``table`` in this view, oldest first."""
        return list(self.files.get(str(table), ()))

    @property
    def tables_with_data(self) -> list[str]:
        """Canonical tables holding at least one batch, in contract order."""
        return [str(name) for name in TABLES if self.files.get(str(name))]

    @property
    def fingerprint(self) -> str:
        """A short hash of the batch names: equal views hold exactly the same facts."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            for path in self.files[name]:
                digest.update(f"{name}/{path.name}\n".encode())
        return digest.hexdigest()[:16]

    def describe(self) -> dict[str, list[str]]:
        """Table → batch file names (for manifests)."""
        return {name: [p.name for p in files] for name, files in self.files.items() if files}
