"""Versioned model artifacts in a workspace: save a fitted churn model, list the versions, load one back.

Layout of ``<workspace>/models/churn/``::

    CURRENT              the version in use (one line), replaced atomically
    v1/                  one trained model:
        model.joblib     the fitted ChurnModel (LightGBM boosters + calibrators), joblib format
        booster_<i>.txt  each LightGBM booster as text (``Booster.model_to_string()``), for inspection and
                         for loading the trees without retain
        metadata.json    version, created_at, features, data range, metrics, library versions …
    .tmp-v2/             a version being written (invisible to readers)

A version is written into ``.tmp-<version>/`` and published as ``<version>/`` when complete, then ``CURRENT`` is
replaced (:mod:`retain.lake.atomic`: fsync, rename). A crash at any moment leaves the previous version current
and readable. Saving holds the workspace's ``models`` lock, so two trainings that finish together save one after
the other: each gets its own version, and ``CURRENT`` names the last one saved, complete.

``model.joblib`` is a pickle of retain's, scikit-learn's and LightGBM's own classes. Unpickling runs code, so
:meth:`ModelRegistry.load` first checks the file's SHA-256 against the one recorded in ``metadata.json`` at
save time (it refuses a file that changed) — still, only load artifacts that your own workspace wrote.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
from pydantic import ValidationError

from retain.errors import InputError, NotFittedError, WorkspaceError
from retain.lake.atomic import TEMP_PREFIX, Pointer, publish, remove_temporaries
from retain.models.metadata import Artifact, ModelMetadata, TrainingRecord
from retain.state.locks import LockName, Locks

__all__ = ["CURRENT_FILE", "METADATA_FILE", "MODEL_FILE", "ModelRegistry", "ModelVersion", "library_versions"]

CURRENT_FILE = "CURRENT"
METADATA_FILE = "metadata.json"
MODEL_FILE = "model.joblib"
_SAVE_WAIT_SECONDS = 600.0  # another training saving: wait for it rather than fail after minutes of training
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
    metadata: ModelMetadata


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
    locks : Locks, optional
        The workspace's locks; saving holds its ``models`` lock (none: the caller serialises saves).
    """

    def __init__(self, root: str | Path, *, locks: Locks | None = None) -> None:
        self.root = Path(root)
        self.locks = locks
        self._pointer = Pointer(self.root / CURRENT_FILE)

    # ------------------------------------------------------------------ read
    def versions(self) -> list[str]:
        """Complete versions, oldest first (``v1``, ``v2``, …)."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda name: int(name[1:]))

    def current(self) -> str | None:
        """The version ``CURRENT`` points at, or ``None`` when nothing was saved yet."""
        return self._pointer.read()

    def metadata(self, version: str | None = None) -> ModelMetadata:
        """The metadata of ``version`` (default: the current one)."""
        return _read_metadata(self._folder(version))

    def list(self) -> list[ModelVersion]:
        """Every complete version with its metadata, oldest first."""
        return [ModelVersion(v, self.root / v, _read_metadata(self.root / v)) for v in self.versions()]

    def load(self, version: str | None = None) -> tuple[Any, ModelMetadata]:
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
            When the model file does not match the checksum recorded at save time, or the metadata is damaged.
        """
        folder = self._folder(version)
        metadata = _read_metadata(folder)
        model_path = folder / metadata.artifact.model_file
        if _sha256(model_path) != metadata.artifact.sha256:
            raise WorkspaceError(
                f"{model_path} does not match the checksum in its metadata.json (it was changed or damaged); "
                "retrain with `retain model train` instead of loading it."
            )
        return joblib.load(model_path), metadata

    # ----------------------------------------------------------------- write
    def save(self, model: Any, record: TrainingRecord, *, created_at: datetime) -> ModelVersion:
        """Save a fitted model as the next version and make it current.

        Parameters
        ----------
        model : ChurnModel
            A fitted model (it needs ``boosters_``).
        record : TrainingRecord
            What training knows about the model; the registry adds ``version``, ``created_at``, ``libraries``
            and ``artifact``.
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
        with self._save_lock():
            self.root.mkdir(parents=True, exist_ok=True)
            remove_temporaries(self.root)
            number = max((int(v[1:]) for v in self.versions()), default=0) + 1
            while True:
                version = f"v{number}"
                temp = self.root / f"{TEMP_PREFIX}{version}"
                shutil.rmtree(temp, ignore_errors=True)
                temp.mkdir()
                joblib.dump(model, temp / MODEL_FILE)
                for i, booster in enumerate(boosters):
                    (temp / f"booster_{i}.txt").write_text(booster.model_to_string())
                metadata = ModelMetadata(
                    **record.model_dump(),
                    version=version,
                    created_at=created_at,
                    libraries=library_versions(),
                    artifact=Artifact(
                        model_file=MODEL_FILE,
                        sha256=_sha256(temp / MODEL_FILE),
                        boosters=[f"booster_{i}.txt" for i in range(len(boosters))],
                    ),
                )
                (temp / METADATA_FILE).write_text(metadata.model_dump_json(indent=2))
                try:
                    publish(temp, self.root / version)
                    break
                except (FileExistsError, OSError):  # a saver without the lock took the number meanwhile
                    shutil.rmtree(temp, ignore_errors=True)
                    number += 1
            self._pointer.write(version)
        return ModelVersion(version, self.root / version, metadata)

    def set_current(self, version: str) -> None:
        """Point ``CURRENT`` at ``version`` (atomic replace)."""
        if version not in self.versions():
            raise InputError(f"no model version {version!r}; saved versions: {self.versions() or 'none'}.")
        self._pointer.write(version)

    # --------------------------------------------------------------- helpers
    def _save_lock(self) -> AbstractContextManager[None]:
        if self.locks is None:
            return nullcontext()
        return self.locks.hold(
            LockName.MODELS,
            busy=f"Another retain process has been saving a model to {self.root} for {_SAVE_WAIT_SECONDS:.0f} s; "
            "retry when it is done.",
            wait=_SAVE_WAIT_SECONDS,
        )

    def _folder(self, version: str | None) -> Path:
        if version is None:
            version = self.current()
            if version is None:
                raise NotFittedError(f"no churn model trained yet in {self.root}; run `retain model train` first.")
        if version not in self.versions():
            raise InputError(f"no model version {version!r}; saved versions: {self.versions() or 'none'}.")
        return self.root / version


def _read_metadata(folder: Path) -> ModelMetadata:
    path = folder / METADATA_FILE
    try:
        return ModelMetadata.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkspaceError(
            f"{path} is missing or not the metadata of a retain model ({first}); retrain with `retain model train`."
        ) from None
