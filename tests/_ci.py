"""The one rule for tests that need something from outside the repository (a PostgreSQL server, Java, Chromium,
the shared datasets in ``../shared/data``): skipped with a message saying what is missing on a developer's
machine, failed under CI (``CI`` set, as ``.ci/run`` sets it), where nothing may be skipped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = ["SHARED_DATA", "in_ci", "missing", "shared_path"]

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""The workplace's public datasets, beside the repository (read from there, never copied in)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(message: str) -> NoReturn:
    """Skip the calling test because of ``message`` — or fail it under CI."""
    if in_ci():
        pytest.fail(f"{message} (CI is set: nothing may be skipped)", pytrace=False)
    pytest.skip(message)


def shared_path(*parts: str) -> Path:
    """A file or folder of ``../shared/data``; the test is skipped (failed under CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        missing(f"shared dataset {path} is not present (expected ../shared/data beside the repository)")
    return path
