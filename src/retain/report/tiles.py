"""Headline KPI tiles of the report: the latest value of the main metrics, with the previous period's beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retain.services import Snapshot, metrics_view, segments_view

__all__ = ["Tile", "headline_tiles"]

# label, section, column, format ("int", "pct", "money", "num")
_TILES = (
    ("Active customers", "retention", "end_customers", "int"),
    ("Retention (last full month)", "retention", "retention_rate", "pct"),
    ("Churn (last full month)", "retention", "churn_rate", "pct"),
    ("MRR", "mrr", "ending_mrr", "money"),
    ("NRR", "mrr", "nrr", "pct"),
    ("ARPA", "mrr", "arpa", "money"),
    ("Revenue (last full month)", "commerce", "revenue", "money"),
    ("AOV", "commerce", "aov", "money"),
    ("Repeat-purchase rate", "commerce", "repeat_purchase_rate", "pct"),
    ("NPS", "satisfaction", "nps", "num"),
    ("CSAT", "satisfaction", "csat", "pct"),
)


@dataclass(frozen=True)
class Tile:
    """One headline number: ``value`` formatted, ``previous`` the month before (formatted), ``delta`` signed."""

    label: str
    value: str
    previous: str | None
    delta: float | None


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:.1f}"


def headline_tiles(snapshot: Snapshot) -> list[Tile]:
    """The tiles that apply to the snapshot, from its last complete month (and the month before it)."""
    months = [r for r in metrics_view(snapshot, freq="month") if r["complete"]]
    tiles = []
    if months:
        last, before = months[-1], (months[-2] if len(months) > 1 else None)
        for label, section, column, kind in _TILES:
            if section not in last:
                continue
            value = last[section].get(column)
            prev = before.get(section, {}).get(column) if before else None
            delta = value - prev if value is not None and prev is not None else None
            tiles.append(Tile(label, _format(value, kind), None if prev is None else _format(prev, kind), delta))
    rfm = segments_view(snapshot).get("rfm")
    if rfm:
        top = next((r for r in rfm if r["segment"] == "Champions"), None)
        if top is not None:
            tiles.append(Tile("Champions", f"{top['customers']:,}", None, None))
    return tiles
