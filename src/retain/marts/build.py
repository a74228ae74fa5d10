"""Compute every registered mart of one refresh into a snapshot being written.

The loop the refresh service runs between opening a snapshot writer and publishing it: each builder of
:data:`~retain.marts.registry.MARTS`, in order, writes ``<mart>.parquet`` (or records why it was skipped).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from retain.marts import builders_customers, builders_kpis, builders_risk  # noqa: F401  (register the builders)
from retain.marts.context import RefreshContext
from retain.marts.registry import MARTS, builders_in_order
from retain.marts.snapshot import SnapshotWriter

__all__ = ["BuiltMarts", "MartProgress", "build_marts"]

MartProgress = Callable[[str, int, int], None]
"""``progress(mart, finished, total)``: called before each mart (``finished`` done so far)."""


@dataclass(frozen=True)
class BuiltMarts:
    """Rows and seconds of each mart written, and why the others were skipped."""

    rows: dict[str, int]
    seconds: dict[str, float]
    skipped: dict[str, str]


def build_marts(ctx: RefreshContext, writer: SnapshotWriter, progress: MartProgress | None = None) -> BuiltMarts:
    """Run every builder on ``ctx`` and write each mart with ``writer``."""
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    builders = builders_in_order()
    for done, builder in enumerate(builders):
        if progress is not None:
            progress(str(builder.name), done, len(builders))
        started = time.perf_counter()
        table = builder.build(ctx)
        if table is not None:
            name = str(builder.name)
            ctx.paths[name] = writer.write(builder.name, table)
            ctx.built[name] = table
            rows[name] = table.num_rows
            seconds[name] = round(time.perf_counter() - started, 3)
    marts = set(map(str, MARTS))
    skipped = {name: reason for name, reason in ctx.skip_reasons.items() if name in marts}
    return BuiltMarts(rows, seconds, skipped)
