"""Atomic, durable publication of files and folders: temporary name → fsync → rename → (pointer).

The one way retain makes something visible on disk. The lake writer publishes each batch file, the marts store
each snapshot folder and the model registry each version folder and its ``CURRENT`` pointer with these helpers:

1. everything is written under a hidden temporary name (``.tmp-…``) that readers never look at;
2. the contents are flushed to disk (``fsync`` of every file, then of the folder);
3. one ``rename`` makes it visible under its final name — atomic within a file system on POSIX;
4. the parent folder is fsynced, so that the rename itself survives a power loss;
5. where a "current version" is kept in a file, :class:`Pointer` replaces it the same way.

A process killed at any moment therefore leaves either the old state or the new one, never a half-written file
under a final name; leftovers under temporary names are removed by the next writer.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["TEMP_PREFIX", "Pointer", "fsync", "fsync_tree", "publish", "remove_temporaries", "write_durably"]

TEMP_PREFIX = ".tmp-"
"""Prefix of everything being written; readers skip such names."""


def fsync(path: Path) -> None:
    """Flush a file's contents, or a folder's entries (a rename or a new file in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """Flush a file, or every file and folder under a folder, to disk."""
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file():
                fsync(child)
        for folder in [*sorted({p.parent for p in path.rglob("*")}, reverse=True), path]:
            fsync(folder)
    else:
        fsync(path)


def write_durably(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` and flush it to disk (not atomic by itself: write to a temporary name)."""
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def publish(temp: Path, final: Path, *, replace: bool = False) -> Path:
    """Make the fully written ``temp`` (file or folder) visible as ``final``, durably.

    Parameters
    ----------
    temp
        The temporary file or folder, complete.
    final
        Its final name, in the same folder (a rename across file systems is not atomic).
    replace
        Replace an existing file at ``final``. Without it an existing ``final`` raises ``FileExistsError``
        (two writers that picked the same name: the loser retries under another one).

    Returns
    -------
    Path
        ``final``.
    """
    fsync_tree(temp)
    if replace:
        os.replace(temp, final)
    else:
        if final.exists():
            raise FileExistsError(final)
        os.rename(temp, final)  # a folder onto an existing non-empty folder fails too: never merged
    fsync(final.parent)
    return final


def remove_temporaries(folder: Path, pattern: str = f"{TEMP_PREFIX}*") -> list[Path]:
    """Delete what killed writers left under temporary names in ``folder`` (call while holding its lock)."""
    removed = []
    if folder.is_dir():
        for path in folder.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class Pointer:
    """A one-line file naming the current version of something (``models/churn/CURRENT``).

    Replaced atomically and durably, so a reader always finds either the old name or the new one.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def read(self) -> str | None:
        """The name it points at, or ``None`` when it was never written (or is empty)."""
        if not self.path.is_file():
            return None
        return self.path.read_text(encoding="utf-8").strip() or None

    def write(self, value: str) -> None:
        """Point at ``value``."""
        temp = self.path.with_name(f"{TEMP_PREFIX}{self.path.name}.{os.getpid()}")
        write_durably(temp, value + "\n")
        publish(temp, self.path, replace=True)
