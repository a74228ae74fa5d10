"""The rule for tests that need something outside the repository: skipped on a developer's machine, failed
under CI — checked by running a test that needs a missing dataset both ways."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NEEDS_MISSING_DATA = """
from _ci import shared_path

def test_needs_a_dataset():
    shared_path("no-such-dataset", "table.csv")
"""


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_needs_data.py").write_text(NEEDS_MISSING_DATA)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_missing_shared_data_is_skipped_without_ci_and_fails_under_ci(tmp_path):
    skipped = _run(tmp_path, None)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout
    assert "no-such-dataset/table.csv is not present (expected ../shared/data beside the repository)" in skipped.stdout
    failed = _run(tmp_path, "true")
    assert failed.returncode == 1 and "1 failed" in failed.stdout
    assert "(CI is set: nothing may be skipped)" in failed.stdout
    assert _run(tmp_path, "0").returncode == 0  # CI=0 / false means "not CI"
