from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from _ci import shared_path
from retain.lake import Lake, read_table


@pytest.fixture
def shared_file():
    """Path of a file in ../shared/data; skipped with a clear message when it is absent (failed under CI)."""
    return shared_path


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
