"""``retain cohorts`` as a table: one row per signup month, the ages that fit as columns.

Why this layout: a cohort triangle has one column per month of age — two years of data is 24 columns, which
in 80 columns left every cell ``…``. The rows (cohorts) stay, because every cohort matters; the ages are
chosen: all of them when they fit, otherwise the milestones a retention manager compares cohorts at (+0, +1,
+2, +3, +6, +9, +12, +18, +24, +36 … months after signup), as many as fit, the earliest first. The command
says which ages are shown; ``--format csv|json`` has every age.
"""

from __future__ import annotations

from collections.abc import Sequence

from retain.cli._tables import Col, Fitted, fit_table
from retain.display.numbers import fmt_number
from retain.services import CohortView

__all__ = ["MILESTONES", "cohorts_table", "shown_ages"]

MILESTONES = (0, 1, 2, 3, 6, 9, 12, 18, 24, 36, 48, 60)
"""Ages (months after signup) kept longest when not every age fits."""


def cohorts_table(view: CohortView, *, title: str, width: int) -> Fitted:
    """The cohort matrix of ``view`` no wider than ``width``.

    Returns
    -------
    Fitted
        ``hidden`` names the ages left out (``+4``, ``+5`` …); ages between milestones go first, then the
        latest milestones.
    """
    ages = [f"+{age}" for age in view.ages]
    columns = [Col("cohort", "cohort"), Col("size", "size", "right"), *(Col(a, a, "right") for a in ages)]
    rows = []
    for r in view.rows:
        values = [
            fmt_number(v * 100, 0, "%") if view.shares and v is not None else fmt_number(v, 0) for v in r["values"]
        ]
        rows.append([f"{r['cohort']:%Y-%m}", fmt_number(r["cohort_size"], 0), *values])
    between = [f"+{age}" for age in reversed(view.ages) if age not in MILESTONES]
    milestones = [f"+{age}" for age in reversed(view.ages) if age in MILESTONES and age != 0]
    return fit_table(columns, rows, width=width, optional=[*between, *milestones], title=title)


def shown_ages(all_ages: Sequence[int], hidden: Sequence[str]) -> str:
    """``0, 1, 2, 3, 6, 9`` — the ages a fitted table shows."""
    return ", ".join(str(age) for age in all_ages if f"+{age}" not in hidden)
