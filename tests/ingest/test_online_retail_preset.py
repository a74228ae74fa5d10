"""The online-retail-ii preset on the real UCI subset, against an independent pandas computation."""

from __future__ import annotations

import pandas as pd
import pytest

from retain.ingest import IngestOptions, ingest

FILES = ["online_retail_II_subset_Year_2009-2010.csv", "online_retail_II_subset_Year_2010-2011.csv"]


def expected_counts(path) -> tuple[int, dict[str, int], pd.DataFrame]:
    """Written independently of the preset: plain pandas over the raw lines."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    no_customer = raw["Customer ID"].str.strip() == ""
    with_customer = raw[~no_customer]
    duplicates = with_customer.duplicated(keep="first")
    kept = with_customer[~duplicates].copy()
    kept["value"] = kept["Quantity"].astype(float) * kept["Price"].astype(float)
    orders = kept.groupby("Invoice").agg(amount=("value", "sum"), customer=("Customer ID", "first"))
    orders["amount"] = orders["amount"].round(2)
    reasons = {"missing_customer": int(no_customer.sum()), "duplicate_line": int(duplicates.sum())}
    return len(raw), reasons, orders


@pytest.mark.parametrize("name", FILES)
def test_preset_counts_match_independent_computation(lake, lake_rows, shared_file, name):
    path = shared_file("online-retail-ii-subset", name)
    lines, reasons, orders = expected_counts(path)

    result = ingest(lake, "orders", path, IngestOptions(preset="online-retail-ii"))

    assert result.rows_read == lines
    assert result.rows_accepted == len(orders)
    assert result.rejects_by_reason == reasons
    assert result.rows_rejected == sum(reasons.values())
    got = lake_rows("orders").to_pandas().set_index("order_id").sort_index()
    assert len(got) == len(orders)
    pd.testing.assert_series_equal(got["amount"], orders["amount"], check_names=False, atol=0.005)
    assert (got["customer_id"] == orders["customer"].str.replace(r"\.0$", "", regex=True)).all()
    cancelled = got.index.str.startswith("C")
    assert (got.loc[cancelled, "status"] == "refunded").all()
    assert (got.loc[~cancelled, "status"] == "completed").all()
    assert (got.loc[cancelled, "amount"] <= 0).all()


def test_rejects_file_lists_every_rejected_line_with_its_row(lake, shared_file):
    path = shared_file("online-retail-ii-subset", FILES[0])
    result = ingest(lake, "orders", path, IngestOptions(preset="online-retail-ii"))
    rejects = pd.read_csv(result.rejects_path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing_rows = set((raw.index[raw["Customer ID"] == ""] + 2).tolist())  # header is row 1
    assert set(rejects.loc[rejects["reason"] == "missing_customer", "source_row"]) == missing_rows
    assert rejects["source_row"].is_unique
    assert set(rejects.columns) == {"source_row", "column", "value", "reason", "message"}


def test_both_years_together_keep_latest_version_of_overlapping_invoices(lake, lake_rows, shared_file):
    first, second = (shared_file("online-retail-ii-subset", n) for n in FILES)
    a = ingest(lake, "orders", first, IngestOptions(preset="online-retail-ii"))
    b = ingest(lake, "orders", second, IngestOptions(preset="online-retail-ii"))
    ids_a = set(expected_counts(first)[2].index)
    ids_b = set(expected_counts(second)[2].index)
    assert a.rows_accepted == len(ids_a) and b.rows_accepted == len(ids_b)
    assert lake_rows("orders").num_rows == len(ids_a | ids_b)
