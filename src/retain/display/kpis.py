"""The KPIs of the metrics view as people read them: label, decimals, unit, and which KPI one breaks down."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from retain.analytics.periods import Freq

__all__ = ["DEFAULT_KPIS", "SUBSCRIPTION_ONLY_KPIS", "Kpi", "kpi_named", "period_label", "shop_label"]


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


def kpi_named(name: str) -> Kpi:
    """The default KPI of that ``section.column``, else one shown as a percentage (rates) or with 2 decimals."""
    for kpi in DEFAULT_KPIS:
        if kpi.name == name:
            return kpi
    column = name.split(".", 1)[1]
    if column.endswith("_rate") or column in _PERCENT_COLUMNS:
        return Kpi(name, name, 1, "%")
    return Kpi(name, name, 2)  # integers show without decimals whatever the digits
