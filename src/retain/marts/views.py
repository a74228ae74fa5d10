"""Read-side views over a marts snapshot: the rows the CLI tables, the report and (later) the API show.

Each view reads marts of one snapshot and returns plain Python rows (lists of dicts), so that the interfaces
only format them. Nothing here computes a metric: that happened in the refresh.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from retain.analytics.periods import Freq
from retain.errors import InputError
from retain.marts.registry import MartName
from retain.marts.snapshot import Snapshot

__all__ = [
    "METRIC_SECTIONS",
    "CohortView",
    "cohort_view",
    "metric_section_columns",
    "metrics_view",
    "segments_view",
]

METRIC_SECTIONS: dict[str, MartName] = {
    "retention": MartName.RETENTION,
    "mrr": MartName.MRR_SUMMARY,
    "commerce": MartName.COMMERCE,
    "satisfaction": MartName.SATISFACTION,
    "support": MartName.SUPPORT,
}
"""Sections of :func:`metrics_view` and the period-series mart each one comes from."""

_PERIOD_COLUMNS = ("period_start", "period_end", "freq", "complete")


def metric_section_columns() -> dict[str, tuple[str, ...]]:
    """The KPI columns of each section of :func:`metrics_view`, in order, from the marts' declared specs."""
    from retain.marts.build import MARTS  # importing build registers every builder

    return {
        section: tuple(c for c in MARTS[mart].spec.columns if c not in _PERIOD_COLUMNS)
        for section, mart in METRIC_SECTIONS.items()
    }


def metrics_view(snapshot: Snapshot, *, freq: Freq | str = Freq.MONTH, last: int | None = None) -> list[dict[str, Any]]:
    """KPIs per period, one row per period with a section per series mart that the snapshot holds.

    Parameters
    ----------
    snapshot
        The marts snapshot to read.
    freq
        ``month``, ``quarter`` or ``year``.
    last
        Keep only the newest ``last`` periods (``None``: all).

    Returns
    -------
    list of dict
        ``{"period_start", "period_end", "complete", "retention": {...}, "mrr": {...}, "commerce": {...},
        "satisfaction": {...}, "support": {...}}`` in time order; a section is absent when its mart is (e.g. no
        ``mrr`` for a shop). Section values are the mart's columns for that period.
    """
    freq = Freq.parse(freq)
    if last is not None and last < 1:
        raise InputError(f"--last must be at least 1, got {last}.")
    periods: dict[datetime, dict[str, Any]] = {}
    for section, mart in METRIC_SECTIONS.items():
        if not snapshot.has(mart):
            continue
        for row in snapshot.read(mart).to_pylist():
            if row["freq"] != freq.value:
                continue
            entry = periods.setdefault(
                row["period_start"],
                {"period_start": row["period_start"], "period_end": row["period_end"], "complete": row["complete"]},
            )
            entry[section] = {k: v for k, v in row.items() if k not in _PERIOD_COLUMNS}
    rows = [periods[start] for start in sorted(periods)]
    return rows[-last:] if last else rows


@dataclass(frozen=True)
class CohortView:
    """A cohort triangle: one row per cohort, ``values[k]`` = value at age ``k`` (``None`` beyond the data)."""

    measure: str
    shares: bool
    ages: list[int]
    rows: list[dict[str, Any]]
    """``{"cohort": datetime, "cohort_size": float, "values": [float | None, ...]}`` per cohort, oldest first."""


def cohort_view(snapshot: Snapshot, *, measure: str = "logo", shares: bool = False) -> CohortView:
    """The monthly cohort triangle of ``measure`` (``logo`` or ``revenue``), as values or as shares of the size."""
    measure = str(measure).lower()
    if measure not in ("logo", "revenue"):
        raise InputError(f"Unknown cohort measure {measure!r}. Valid: logo, revenue.")
    table = snapshot.read(MartName.COHORTS)
    cells: dict[datetime, dict[int, float | None]] = defaultdict(dict)
    sizes: dict[datetime, float] = {}
    for row in table.to_pylist():
        if row["measure"] != measure:
            continue
        cells[row["cohort"]][row["age"]] = row["share"] if shares else row["value"]
        sizes[row["cohort"]] = row["cohort_size"]
    ages = sorted({age for by_age in cells.values() for age in by_age})
    rows = [
        {"cohort": cohort, "cohort_size": sizes[cohort], "values": [cells[cohort].get(age) for age in ages]}
        for cohort in sorted(cells)
    ]
    return CohortView(measure, shares, ages, rows)


def segments_view(snapshot: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """Segment sizes: RFM segments (customers, revenue), lifecycle states, user-defined segments.

    Returns
    -------
    dict
        ``{"rfm": [{"segment", "customers", "revenue", "share"}...], "lifecycle": [{"state", "customers",
        "share"}...], "user": [{"segment", "customers", "share"}...]}``; a key is absent when its mart is. RFM
        rows are sorted by revenue (largest first), the others by size.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    if snapshot.has(MartName.RFM):
        groups: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        rfm = snapshot.read(MartName.RFM, columns=["segment", "monetary"]).to_pylist()
        for row in rfm:
            groups[row["segment"]][0] += 1
            groups[row["segment"]][1] += row["monetary"] or 0.0
        out["rfm"] = [
            {"segment": name, "customers": n, "revenue": round(revenue, 2), "share": _share(n, len(rfm))}
            for name, (n, revenue) in sorted(groups.items(), key=lambda item: (-item[1][1], item[0]))
        ]
    if snapshot.has(MartName.LIFECYCLE):
        states = snapshot.read(MartName.LIFECYCLE, columns=["state"]).column("state").to_pylist()
        out["lifecycle"] = _counts("state", states)
    if snapshot.has(MartName.SEGMENT_MEMBERSHIP):
        members = snapshot.read(MartName.SEGMENT_MEMBERSHIP).to_pylist()
        total = snapshot.manifest["marts"].get(str(MartName.PROFILES), {}).get("rows") or 0
        counts: dict[str, int] = defaultdict(int)
        for row in members:
            counts[row["segment"]] += 1
        for name in snapshot.manifest.get("user_segments", []):
            counts.setdefault(name, 0)
        out["user"] = [
            {"segment": name, "customers": n, "share": _share(n, total)}
            for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
    return out


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _counts(key: str, values: list[str]) -> list[dict[str, Any]]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return [
        {key: name, "customers": n, "share": _share(n, len(values))}
        for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
