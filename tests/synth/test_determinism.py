"""Same seed and parameters give byte-identical files; another seed gives other data."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from retain.errors import InputError
from retain.synth import generate


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("model", ["subscription", "commerce"])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_gives_identical_bytes(tmp_path, model, fmt):
    a = _files_of(tmp_path / "a", model, fmt, seed=5)
    b = _files_of(tmp_path / "b", model, fmt, seed=5)
    c = _files_of(tmp_path / "c", model, fmt, seed=6)
    assert a.keys() == b.keys() == c.keys()
    assert a == b
    changed = [name for name in a if name != "manifest.json" and a[name] != c[name]]
    assert sorted(changed) == sorted(name for name in a if name != "manifest.json")


def _files_of(root, model, fmt, seed):
    generate(root, customers=1_200, model=model, seed=seed, fmt=fmt, chunk_customers=500)
    return _files(root)


def test_layout_manifest_summary_and_progress(tmp_path):
    seen = []
    s = generate(tmp_path, customers=1_200, model="subscription", seed=1, chunk_customers=500, progress=seen.append)
    assert seen == [500, 1_000, 1_200]  # cumulative customers finished after each chunk
    expected = {
        "customers.parquet",
        "subscriptions.parquet",
        "events.parquet",
        "tickets.parquet",
        "feedback.parquet",
        "orders.parquet",
        "ground_truth/churn_probability.parquet",
        "manifest.json",
    }
    assert set(_files(tmp_path)) == expected
    assert {p.relative_to(tmp_path).as_posix() for p in s.files} == expected
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model"] == "subscription" and manifest["seed"] == 1 and manifest["customers"] == 1_200
    assert manifest["start"] == "2024-01-01" and manifest["end"] == "2025-12-31" and manifest["months"] == 24
    assert manifest["counts"] == s.rows
    assert s.rows["customers"] == 1_200
    for name, n in s.rows.items():
        path = tmp_path / ("ground_truth/churn_probability.parquet" if name == "ground_truth" else f"{name}.parquet")
        assert pq.read_metadata(path).num_rows == n


def test_commerce_writes_no_subscriptions(tmp_path):
    s = generate(tmp_path, customers=300, model="commerce", seed=1, fmt="csv")
    assert sorted(s.rows) == ["customers", "events", "feedback", "ground_truth", "orders", "tickets"]
    assert not (tmp_path / "subscriptions.csv").exists()


def test_ids_are_unique_across_chunks(tmp_path):
    generate(tmp_path, customers=1_000, model="subscription", seed=2, chunk_customers=300)
    for table, key in [("customers", "customer_id"), ("events", "event_id"), ("tickets", "ticket_id")]:
        ids = pq.read_table(tmp_path / f"{table}.parquet", columns=[key])[key].to_pylist()
        assert len(ids) == len(set(ids))
    customers = pq.read_table(tmp_path / "customers.parquet")["customer_id"].to_pylist()
    assert customers[:2] == ["C0000001", "C0000002"] and customers[-1] == "C0001000"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, "customers must be at least 1"),
        ({"customers": 10, "model": "retail"}, "Valid models: commerce, subscription"),
        ({"customers": 10, "fmt": "xlsx"}, "Valid formats: csv, parquet"),
        ({"customers": 10, "months": 0}, "months must be at least 1"),
        ({"customers": 10, "chunk_customers": 0}, "chunk_customers must be at least 1"),
    ],
)
def test_bad_parameters_raise_input_error(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        generate(tmp_path, **kwargs)
