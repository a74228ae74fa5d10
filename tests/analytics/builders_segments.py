"""A small profile-like table for the segment tests (the real one comes from the customer 360)."""

from __future__ import annotations

import pyarrow as pa

PROFILE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("days_since_last_order", pa.int64()),
        ("total_revenue", pa.float64()),
        ("orders", pa.int64()),
        ("country", pa.string()),
        ("plan", pa.string()),
        ("nps", pa.int64()),
        ("is_subscriber", pa.bool_()),
    ]
)

# customer_id, days_since_last_order, total_revenue, orders, country, plan, nps, is_subscriber
PROFILE_ROWS = [
    ("p1", 5, 1200.0, 12, "FR", "pro", 10, True),
    ("p2", 45, 800.0, 6, "DE", None, 7, False),
    ("p3", 120, 50.0, 1, "US", "basic", None, True),
    ("p4", 31, 500.0, 4, "fr", None, 3, False),
    ("p5", 30, 499.99, 3, "GB", "pro", 9, True),
    ("p6", 400, 0.0, 0, "US", None, None, False),
    ("p7", 2, 75.5, 2, "DE", "basic", 6, True),
    ("p8", 60, 2500.0, 20, None, "enterprise", 0, False),
]


def profile_table(rows: list[tuple] | None = None) -> pa.Table:
    """The profile rows as a pyarrow table with :data:`PROFILE_SCHEMA`."""
    rows = PROFILE_ROWS if rows is None else rows
    names = PROFILE_SCHEMA.names
    return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows], schema=PROFILE_SCHEMA)
