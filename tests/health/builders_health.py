"""Builders for the health tests: feature rows with only the columns the health score reads."""

from __future__ import annotations

import math

import pandas as pd

#: A healthy baseline customer; tests override a few inputs.
BASE = {
    "events_30d": 20,
    "events_trend": 1.0,
    "open_tickets": 0,
    "open_complaints": 0,
    "nps_latest": math.nan,
    "csat_latest": math.nan,
    "failed_payments_90d": 0,
    "features_used": 5,
    "features_never_used": 0,
}


def feature_rows(*rows: dict) -> pd.DataFrame:
    """A feature table: one row per dict (``customer_id`` = c1, c2, ...), missing inputs from ``BASE``."""
    records = [{"customer_id": f"c{i}", **BASE, **row} for i, row in enumerate(rows, start=1)]
    return pd.DataFrame.from_records(records)
