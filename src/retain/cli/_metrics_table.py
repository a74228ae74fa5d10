"""``retain metrics`` as a table: one row per KPI, the newest periods as columns.

Why this layout: the metrics view has some twenty KPIs a retention manager looks at (retention and churn, MRR
movements, NRR/GRR, ARPA, AOV, repeat rate, NPS/CSAT), and a period per row with a KPI per column needs about
200 columns — in 80 every header and number was cut to ``…``. A KPI per row is how a monthly KPI report reads
anyway: each line is one KPI's trend, left (older) to right (newest), and the newest periods that fit the
terminal are shown whole (five months in 80 columns; a wider terminal shows more). Nothing is cut: periods that
do not fit are left out and the command says so; ``--format csv|json`` has every period and every KPI.

``--columns`` chooses the KPIs (the rows here): any column of the metrics view by its CSV name,
``section.column`` (``mrr.nrr``, ``support.tickets_opened``), or by the bare column name where that is unique
(``nrr``). Without it the default KPIs (:data:`retain.display.kpis.DEFAULT_KPIS`) are shown, those of the
sections the workspace has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from retain.analytics.periods import Freq
from retain.cli._tables import Col, Fitted, fit_table
from retain.display.kpis import DEFAULT_KPIS, SUBSCRIPTION_ONLY_KPIS, Kpi, kpi_named, period_label, shop_label
from retain.display.numbers import fmt_number
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


def available_kpis(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every ``section.column`` of the periods, in the view's order."""
    names: dict[str, None] = {}
    for row in rows:
        for section, values in row.items():
            if isinstance(values, Mapping):
                names.update(dict.fromkeys(f"{section}.{column}" for column in values))
    return list(names)


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
    return [kpi_named(name) for name in chosen]


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
