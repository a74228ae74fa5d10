"""Metrics on the real UCI Online Retail II subset, checked against an independent pandas computation.

Both yearly files are ingested with the ``online-retail-ii`` preset into a temporary lake and read back as Ibis
tables (DuckDB). The reference below never touches retain's code: it re-applies the preset's documented rules to
the raw CSV lines in plain pandas (drop lines without Customer ID, drop exact duplicate lines, one order per
invoice with amount = Σ Quantity × Price rounded to cents and the earliest line time, C-invoices are refunds; an
invoice present in both files is the same order) and computes each metric from its definition.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from _ci import SHARED_DATA, shared_path
from retain.analytics.commerce import commerce_summary
from retain.analytics.periods import period_grid
from retain.analytics.retention import retention_series_orders
from retain.engine import connect, to_pandas
from retain.ingest import IngestOptions, ingest
from retain.lake import Lake, read_table

DATA = SHARED_DATA / "online-retail-ii-subset"
FILES = ["online_retail_II_subset_Year_2009-2010.csv", "online_retail_II_subset_Year_2010-2011.csv"]
WINDOW = timedelta(days=90)
PERIODS = period_grid(datetime(2009, 12, 1, tzinfo=UTC), datetime(2012, 1, 1, tzinfo=UTC), "month")


def _reference_orders() -> pd.DataFrame:
    """One row per invoice, from the raw lines, with the preset's rules written out again in pandas."""
    per_file = []
    for name in FILES:
        raw = pd.read_csv(DATA / name, dtype=str, keep_default_na=False)
        raw = raw[raw["Customer ID"].str.strip() != ""]
        raw = raw[~raw.duplicated(keep="first")].copy()
        raw["value"] = raw["Quantity"].astype(float) * raw["Price"].astype(float)
        raw["time"] = pd.to_datetime(raw["InvoiceDate"]).dt.tz_localize("UTC")
        raw["customer"] = raw["Customer ID"].str.strip().str.replace(r"\.0$", "", regex=True)
        inv = raw.groupby("Invoice").agg(customer=("customer", "first"), time=("time", "min"), amount=("value", "sum"))
        inv["amount"] = inv["amount"].round(2)
        inv["refund"] = inv.index.str.upper().str.startswith("C")
        per_file.append(inv)
    # An invoice in both files (the overlap in December 2010) is one order; the later file's copy wins.
    both = pd.concat(per_file)
    return both[~both.index.duplicated(keep="last")].reset_index(names="invoice")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    shared_path("online-retail-ii-subset")
    return _reference_orders()


@pytest.fixture(scope="module")
def lake_orders(tmp_path_factory, reference):
    lake = Lake(tmp_path_factory.mktemp("retail") / "data")
    for name in FILES:
        ingest(lake, "orders", DATA / name, IngestOptions(preset="online-retail-ii"))
    backend = connect("duckdb")
    return backend, read_table(backend, lake, "orders")


def _months(frame: pd.DataFrame) -> pd.Series:
    return frame["time"].dt.tz_localize(None).dt.to_period("M")


def test_lake_holds_the_reference_orders(lake_orders, reference):
    backend, orders = lake_orders
    got = to_pandas(backend, orders).set_index("order_id").sort_index()
    ref = reference.set_index("invoice").sort_index()
    assert list(got.index) == list(ref.index)
    assert (got["status"] == np.where(ref["refund"], "refunded", "completed")).all()


def test_monthly_active_customers_aov_and_repeat_rate(lake_orders, reference):
    backend, orders = lake_orders
    got = to_pandas(backend, commerce_summary(orders, PERIODS))
    assert len(got) == len(PERIODS) == 25

    ref = reference.assign(month=_months(reference))
    sales = ref[~ref["refund"]]
    per_customer = sales.groupby(["month", "customer"]).size()
    months = pd.period_range("2009-12", "2011-12", freq="M")
    active = per_customer.groupby(level="month").size().reindex(months, fill_value=0)
    repeat = (per_customer >= 2).groupby(level="month").sum().reindex(months, fill_value=0)
    n_orders = sales.groupby("month").size().reindex(months, fill_value=0)
    revenue = ref.groupby("month")["amount"].sum().reindex(months, fill_value=0.0)

    assert got["customers"].tolist() == active.tolist()  # monthly active customers
    assert got["orders"].tolist() == n_orders.tolist()
    assert got["repeat_customers"].tolist() == repeat.tolist()
    np.testing.assert_allclose(got["repeat_purchase_rate"], 100.0 * repeat / active, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["revenue"], revenue, rtol=0, atol=0.005)
    # AOV = net revenue / completed orders, rounded to cents.
    np.testing.assert_allclose(got["aov"], revenue / n_orders, rtol=0, atol=0.005 + 1e-9)
    assert active.min() >= 20  # the check covers real activity in every month


def test_whole_window_aov_and_repeat_rate(lake_orders, reference):
    backend, orders = lake_orders
    start, end = PERIODS[0].start, PERIODS[-1].end
    got = to_pandas(backend, commerce_summary(orders, [(start, end)])).iloc[0]
    sales = reference[~reference["refund"]]
    per_customer = sales.groupby("customer").size()
    assert got["customers"] == len(per_customer)
    assert got["orders"] == len(sales)
    assert got["repeat_purchase_rate"] == pytest.approx(100.0 * (per_customer >= 2).sum() / len(per_customer), abs=1e-9)
    assert got["aov"] == pytest.approx(reference["amount"].sum() / len(sales), abs=0.005 + 1e-9)


def test_monthly_order_retention_with_90_day_window(lake_orders, reference):
    backend, orders = lake_orders
    got = to_pandas(backend, retention_series_orders(orders, PERIODS))

    sales = reference[~reference["refund"]]

    def active(t: pd.Timestamp) -> set[str]:
        inside = (sales["time"] > t - WINDOW) & (sales["time"] <= t)
        return set(sales.loc[inside, "customer"])

    rows = []
    for period in PERIODS:
        s, e = active(pd.Timestamp(period.start)), active(pd.Timestamp(period.end))
        new = e - s
        rate = 100.0 * len(e & s) / len(s) if s else np.nan
        rows.append((len(s), len(new), len(e), len(s & e), len(s - e), rate))
    ref = pd.DataFrame(rows, columns=["start", "new", "end", "retained", "lost", "rate"])

    assert got["start_customers"].tolist() == ref["start"].tolist()
    assert got["new_customers"].tolist() == ref["new"].tolist()
    assert got["end_customers"].tolist() == ref["end"].tolist()
    assert got["retained"].tolist() == ref["retained"].tolist()
    assert got["lost"].tolist() == ref["lost"].tolist()
    np.testing.assert_allclose(got["retention_rate"], ref["rate"], rtol=0, atol=1e-9, equal_nan=True)
    assert ref["start"].iloc[1:].min() >= 20 and ref["lost"].sum() > 100
