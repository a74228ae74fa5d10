from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from retain.lake import Lake, read_table

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


def _shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not present (expected ../shared/data beside the repository)")
    return path


@pytest.fixture
def shared_file():
    """Path of a file in ../shared/data; the test is skipped with a clear message when it is absent."""
    return _shared_file


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "data")


@pytest.fixture(scope="session")
def duck() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


@pytest.fixture
def lake_rows(duck, lake):
    """The table as readers see it (latest version of each key)."""

    def read(table: str) -> pa.Table:
        return duck.to_pyarrow(read_table(duck, lake, table))

    return read
