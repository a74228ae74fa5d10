"""``retain metrics`` as a table: one row per KPI, the newest periods as columns.

Why this layout: the metrics view has some twenty KPIs a retention manager looks at (retention and churn, MRR
movements, NRR/GRR, ARPA, AOV, repeat rate, NPS/CSAT), and a period per row with a KPI per column needs about
200 columns — in 80 every header and number was cut to ``…``. A KPI per row is how a monthly KPI report reads
anyway: each line is one KPI's trend, left (older) to right (newest), and the newest periods that fit the
terminal are shown whole (five months in 80 columns; a wider terminal shows more). Nothing is cut: periods that
do not fit are left out and the command says so; ``--format csv|json`` has every period and every KPI.

``--columns`` chooses the KPIs (the rows here): any column of the metrics view by its CSV name,
``section.column`` (``mrr.nrr``, ``support.tickets_opened``), or by the bare column name where that is unique
(``nrr``). Without it the default KPIs below are shown, those of the sections the workspace has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from retain.analytics.periods import Freq
from retain.cli._numbers import fmt_number
from retain.cli._tables import Col, Fitted, fit_table
from retain.errors import InputError

__all__ = [
    "DEFAULT_KPIS",
    "SUBSCRIPTION_ONLY_KPIS",
    "Kpi",
    "available_kpis",
    "choose_kpis",
    "metrics_table",
    "period_label",
    "shop_label",
]


@dataclass(frozen=True)
class Kpi:
    """A KPI row: the metrics view's ``section.column``, its label and how its numbers are shown.

    A KPI that breaks another one down (voluntary churn under churn) has that one as ``parent`` and a short
    ``label`` shown indented under it; ``alone`` is its label anywhere else (``--columns voluntary_churn_rate``).
    """

    name: str
    label: str
    digits: int = 0
    suffix: str = ""
    parent: str | None = None
    alone: str | None = None

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def column(self) -> str:
        return self.name.split(".", 1)[1]


DEFAULT_KPIS = (
    Kpi("retention.start_customers", "customers at start"),
    Kpi("retention.end_customers", "customers at end"),
    Kpi("retention.retention_rate", "retention", 1, "%"),
    Kpi("retention.churn_rate", "churn", 1, "%"),
    Kpi("retention.voluntary_churn_rate", "voluntary", 1, "%", "retention.churn_rate", "voluntary churn"),
    Kpi("retention.involuntary_churn_rate", "involuntary", 1, "%", "retention.churn_rate", "involuntary churn"),
    Kpi("mrr.ending_mrr", "MRR at end"),
    Kpi("mrr.new_mrr", "new", parent="mrr.ending_mrr", alone="new MRR"),
    Kpi("mrr.expansion_mrr", "expansion", parent="mrr.ending_mrr", alone="expansion MRR"),
    Kpi("mrr.contraction_mrr", "contraction", parent="mrr.ending_mrr", alone="contraction MRR"),
    Kpi("mrr.churned_mrr", "churned", parent="mrr.ending_mrr", alone="churned MRR"),
    Kpi("mrr.reactivation_mrr", "reactivation", parent="mrr.ending_mrr", alone="reactivation MRR"),
    Kpi("mrr.nrr", "NRR", 1, "%"),
    Kpi("mrr.grr", "GRR", 1, "%"),
    Kpi("mrr.arpa", "ARPA", 2),
    Kpi("commerce.revenue", "revenue"),
    Kpi("commerce.aov", "AOV", 2),
    Kpi("commerce.repeat_purchase_rate", "repeat purchase rate", 1, "%"),
    Kpi("satisfaction.nps", "NPS", 1),
    Kpi("satisfaction.csat", "CSAT", 1, "%"),
)
"""The KPIs shown without ``--columns``, in order (each only when the workspace has its section)."""

SUBSCRIPTION_ONLY_KPIS = ("retention.voluntary_churn_rate", "retention.involuntary_churn_rate")
"""Default KPIs that mean nothing for a shop (a shop customer never cancels, nor fails a payment): hidden there."""

_SHOP_LABELS = {"retention.start_customers": "active at start", "retention.end_customers": "active at end"}


def shop_label(kpi: Kpi, window_days: int) -> Kpi:
    """``kpi`` as a shop reads it: customers are the *active* ones (an order within the window)."""
    label = _SHOP_LABELS.get(kpi.name)
    return kpi if label is None else Kpi(kpi.name, label, kpi.digits, kpi.suffix, kpi.parent, kpi.alone)


_PERCENT_COLUMNS = ("nrr", "grr", "csat")


def period_label(start: datetime, freq: Freq, complete: bool) -> str:
    """``2024-03``, ``2024-Q1`` or ``2024``; a ``*`` marks a period cut at the snapshot's as-of time."""
    if freq is Freq.MONTH:
        label = f"{start:%Y-%m}"
    elif freq is Freq.QUARTER:
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    else:
        label = f"{start.year}"
    return label if complete else label + "*"


def available_kpis(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every ``section.column`` of the periods, in the view's order."""
    names: dict[str, None] = {}
    for row in rows:
        for section, values in row.items():
            if isinstance(values, Mapping):
                names.update(dict.fromkeys(f"{section}.{column}" for column in values))
    return list(names)


def _kpi(name: str) -> Kpi:
    for kpi in DEFAULT_KPIS:
        if kpi.name == name:
            return kpi
    column = name.split(".", 1)[1]
    if column.endswith("_rate") or column in _PERCENT_COLUMNS:
        return Kpi(name, name, 1, "%")
    return Kpi(name, name, 2)  # integers show without decimals whatever the digits


def choose_kpis(spec: str | None, rows: Sequence[Mapping[str, Any]]) -> list[Kpi]:
    """The KPIs of ``--columns`` (``None``: the defaults present).

    Raises
    ------
    InputError
        On a name that is no column of the view (or a bare name that two sections share); the message lists
        the valid names.
    """
    available = available_kpis(rows)
    if spec is None or not spec.strip():
        return [kpi for kpi in DEFAULT_KPIS if kpi.name in available]
    by_column: dict[str, list[str]] = {}
    for name in available:
        by_column.setdefault(name.split(".", 1)[1], []).append(name)
    chosen: list[str] = []
    problems: list[str] = []
    for wanted in (part.strip() for part in spec.split(",")):
        matches = [wanted] if wanted in available else by_column.get(wanted, [])
        if len(matches) == 1:
            chosen += [m for m in matches if m not in chosen]
        elif matches:
            problems.append(f"{wanted!r} is in several sections ({' or '.join(matches)})")
        elif wanted:
            problems.append(f"{wanted!r} is no column")
    if problems or not chosen:
        raise InputError(
            f"--columns: {'; '.join(problems) or 'no column named'}. Valid (section.column, or the column alone "
            f"where it is unique): {', '.join(available)}."
        )
    return [_kpi(name) for name in chosen]


def metrics_table(
    rows: Sequence[Mapping[str, Any]], kpis: Sequence[Kpi], *, freq: Freq, title: str, width: int
) -> Fitted:
    """One row per KPI, one column per period (oldest left), as many of the newest periods as fit ``width``.

    Returns
    -------
    Fitted
        ``hidden`` names the periods left out (the oldest).
    """
    labels = [period_label(r["period_start"], freq, r["complete"]) for r in rows]
    columns = [Col("kpi", "KPI"), *(Col(label, label, justify="right") for label in labels)]
    body: list[list[str] | None] = []
    for n, kpi in enumerate(kpis):
        above = kpis[n - 1] if n else None
        if above is not None and kpi.section != above.section:
            body.append(None)  # a rule between the sections (retention, MRR, commerce …)
        if kpi.parent is None:
            label = kpi.label
        elif above is not None and kpi.parent in (above.name, above.parent):
            label = f"  {kpi.label}"  # indented under its parent (or a sibling)
        else:
            label = kpi.alone or kpi.label
        body.append(
            [label, *(fmt_number(r.get(kpi.section, {}).get(kpi.column), kpi.digits, kpi.suffix) for r in rows)]
        )
    return fit_table(columns, body, width=width, optional=labels[:-1], title=title)
