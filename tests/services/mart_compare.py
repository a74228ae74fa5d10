"""Comparing two marts snapshots: every mart identical, floating-point columns to the last bits of a sum."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from retain.marts.snapshot import Snapshot

__all__ = ["assert_same_mart", "assert_same_marts"]


def assert_same_mart(name: str, left: pa.Table, right: pa.Table) -> None:
    """Equal schema, rows and values; floating-point columns to 1e-12 relative, NaN and null in the same places.

    Exact equality of floats is not what ``refresh`` gives even for one workspace: DuckDB sums in parallel, so
    ``mrr_summary`` of the same facts refreshed twice differs in the last bits (837.15 vs 837.1500000000001).
    """
    assert left.schema == right.schema and left.num_rows == right.num_rows, name
    for column in left.column_names:
        x, y = left.column(column), right.column(column)
        if pa.types.is_floating(x.type):
            assert x.is_null().equals(y.is_null()), (name, column)
            xs, ys = x.to_numpy(zero_copy_only=False), y.to_numpy(zero_copy_only=False)
            assert np.array_equal(np.isnan(xs), np.isnan(ys)), (name, column)
            assert np.allclose(xs, ys, rtol=1e-12, atol=0, equal_nan=True), (name, column)
        else:
            assert x.equals(y), (name, column)


def assert_same_marts(left: Snapshot, right: Snapshot, *, at_least: int) -> None:
    """The two snapshots hold the same marts (``at_least`` of them), each equal by :func:`assert_same_mart`."""
    assert left.as_of == right.as_of
    assert left.marts == right.marts and len(left.marts) >= at_least, (left.marts, right.marts)
    for name in left.marts:
        assert_same_mart(name, left.read(name), right.read(name))
