"""Versioned model artifacts in a workspace: save a fitted churn model, list the versions, load one back.

Layout of ``<workspace>/models/churn/``::

    CURRENT              the version in use (one line), replaced atomically
    v1/                  one trained model:
        model.joblib     the fitted ChurnModel (LightGBM boosters + calibrators), joblib format
        booster_<i>.txt  each LightGBM booster as text (``Booster.model_to_string()``), for inspection and
                         for loading the trees without retain
        metadata.json    version, created_at, features, data range, metrics, library versions …
    .tmp-v2/             a version being written (invisible to readers)

A version is written into ``.tmp-<version>/`` and renamed to ``<version>/`` when complete; ``CURRENT`` is then
written to a temporary file and ``os.replace``-d over the old one. A crash at any moment leaves the previous
version current and readable.

``model.joblib`` is a pickle of retain's, scikit-learn's and LightGBM's own classes. Unpickling runs code, so
:meth:`ModelRegistry.load` first checks the file's SHA-256 against the one recorded in ``metadata.json`` at
save time (it refuses a file that changed) — still, only load artifacts that your own workspace wrote.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib

from retain.errors import InputError, NotFittedError, WorkspaceError

__all__ = ["CURRENT_FILE", "METADATA_FILE", "MODEL_FILE", "ModelRegistry", "ModelVersion", "library_versions"]

CURRENT_FILE = "CURRENT"
METADATA_FILE = "metadata.json"
MODEL_FILE = "model.joblib"
_TEMP_PREFIX = ".tmp-"
_VERSION = re.compile(r"^v(\d+)$")
_LIBRARIES = ("retain", "lightgbm", "scikit-learn", "numpy", "pandas", "scipy", "joblib")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model artifact depends on (``"not installed"`` when absent)."""
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass(frozen=True)
class ModelVersion:
    """A saved model version: its name, folder and metadata."""

    version: str
    path: Path
    metadata: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelRegistry:
    """The versions of one kind of model in a folder (``<workspace>/models/churn``).

    Parameters
    ----------
    root : Path
        The folder; created on the first save.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ read
    def versions(self) -> list[str]:
        """Complete versions, oldest first (``v1``, ``v2``, …)."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda name: int(name[1:]))

    def current(self) -> str | None:
        """The version ``CURRENT`` points at, or ``None`` when nothing was saved yet."""
        pointer = self.root / CURRENT_FILE
        if not pointer.is_file():
            return None
        return pointer.read_text().strip() or None

    def metadata(self, version: str | None = None) -> dict[str, Any]:
        """The ``metadata.json`` of ``version`` (default: the current one)."""
        folder = self._folder(version)
        return json.loads((folder / METADATA_FILE).read_text())

    def list(self) -> list[ModelVersion]:
        """Every complete version with its metadata, oldest first."""
        return [ModelVersion(v, self.root / v, self.metadata(v)) for v in self.versions()]

    def load(self, version: str | None = None) -> tuple[Any, dict[str, Any]]:
        """Load a saved model and its metadata.

        Parameters
        ----------
        version : str, optional
            Default: the current version.

        Returns
        -------
        (model, metadata)

        Raises
        ------
        NotFittedError
            When no model was saved yet.
        InputError
            For an unknown version.
        WorkspaceError
            When the model file does not match the checksum recorded at save time.
        """
        folder = self._folder(version)
        metadata = json.loads((folder / METADATA_FILE).read_text())
        model_path = folder / MODEL_FILE
        expected = metadata.get("artifact", {}).get("sha256")
        if expected is None or _sha256(model_path) != expected:
            raise WorkspaceError(
                f"{model_path} does not match the checksum in its metadata.json (it was changed or damaged); "
                "retrain with `retain model train` instead of loading it."
            )
        return joblib.load(model_path), metadata

    # ----------------------------------------------------------------- write
    def save(self, model: Any, metadata: dict[str, Any], *, created_at: datetime) -> ModelVersion:
        """Save a fitted model as the next version and make it current.

        Parameters
        ----------
        model : ChurnModel
            A fitted model (it needs ``boosters_``).
        metadata : dict
            JSON-serialisable facts about the model (features, data range, metrics …). ``version``,
            ``created_at``, ``libraries`` and ``artifact`` are added.
        created_at : datetime
            When it was trained (the workspace clock), timezone-aware.

        Returns
        -------
        ModelVersion
        """
        boosters = getattr(model, "boosters_", None)
        if boosters is None:
            raise NotFittedError("only a fitted model can be saved; call fit(X, y) first.")
        if created_at.tzinfo is None:
            raise InputError(f"created_at {created_at!r} has no time zone; pass a timezone-aware UTC datetime.")
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_temporaries()
        number = max((int(v[1:]) for v in self.versions()), default=0) + 1
        while True:
            version = f"v{number}"
            temp = self.root / f"{_TEMP_PREFIX}{version}"
            temp.mkdir()
            joblib.dump(model, temp / MODEL_FILE)
            for i, booster in enumerate(boosters):
                (temp / f"booster_{i}.txt").write_text(booster.model_to_string())
            full = {
                **metadata,
                "version": version,
                "created_at": created_at.isoformat(),
                "libraries": library_versions(),
                "artifact": {
                    "model_file": MODEL_FILE,
                    "format": "joblib",
                    "sha256": _sha256(temp / MODEL_FILE),
                    "boosters": [f"booster_{i}.txt" for i in range(len(boosters))],
                },
            }
            (temp / METADATA_FILE).write_text(json.dumps(full, indent=2, default=str))
            try:
                os.rename(temp, self.root / version)  # fails if another process took the number meanwhile
                break
            except OSError:
                shutil.rmtree(temp, ignore_errors=True)
                number += 1
        self.set_current(version)
        return ModelVersion(version, self.root / version, full)

    def set_current(self, version: str) -> None:
        """Point ``CURRENT`` at ``version`` (atomic replace)."""
        if version not in self.versions():
            raise InputError(f"no model version {version!r}; saved versions: {self.versions() or 'none'}.")
        temp = self.root / f"{_TEMP_PREFIX}{CURRENT_FILE}"
        temp.write_text(version + "\n")
        os.replace(temp, self.root / CURRENT_FILE)

    # --------------------------------------------------------------- helpers
    def _folder(self, version: str | None) -> Path:
        if version is None:
            version = self.current()
            if version is None:
                raise NotFittedError(f"no churn model trained yet in {self.root}; run `retain model train` first.")
        if version not in self.versions():
            raise InputError(f"no model version {version!r}; saved versions: {self.versions() or 'none'}.")
        return self.root / version

    def _remove_temporaries(self) -> None:
        for path in self.root.glob(f"{_TEMP_PREFIX}*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
