"""Fixtures of the synth tests: one 20k-customer dataset per business model, generated once per session."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retain.synth import generate

N_CUSTOMERS = 20_000


class Dataset:
    """A generated folder with helpers to read its tables and to query them with DuckDB (UTC)."""

    def __init__(self, path: Path, summary) -> None:
        self.path = path
        self.summary = summary
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        for f in path.glob("*.parquet"):
            self.con.execute(f"CREATE VIEW {f.stem} AS SELECT * FROM read_parquet('{f}')")
        truth = path / "ground_truth" / "churn_probability.parquet"
        self.con.execute(f"CREATE VIEW truth AS SELECT * FROM read_parquet('{truth}')")

    def table(self, name: str) -> pa.Table:
        return pq.read_table(self.path / f"{name}.parquet")

    def truth(self) -> pa.Table:
        return pq.read_table(self.path / "ground_truth" / "churn_probability.parquet")

    def sql(self, query: str) -> list[tuple]:
        return self.con.execute(query).fetchall()


@pytest.fixture(scope="session")
def subscription_data(tmp_path_factory) -> Dataset:
    out = tmp_path_factory.mktemp("synth_subscription")
    return Dataset(out, generate(out, customers=N_CUSTOMERS, model="subscription", seed=11))


@pytest.fixture(scope="session")
def commerce_data(tmp_path_factory) -> Dataset:
    out = tmp_path_factory.mktemp("synth_commerce")
    return Dataset(out, generate(out, customers=N_CUSTOMERS, model="commerce", seed=12))


@pytest.fixture(params=["subscription", "commerce"])
def dataset(request) -> Dataset:
    return request.getfixturevalue(f"{request.param}_data")
