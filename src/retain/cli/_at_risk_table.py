"""``retain at-risk`` as a table: who to act on, then why, each readable in 80 columns.

Why this layout: the list is read to decide whom to call first and with which playbook. Those are short
values — rank, customer id, churn risk, value if retained, expected loss, health, playbook — and fit one line per
customer in 80 columns, ids and numbers whole. The reasons are a sentence each ("on the business plan;
renewal in 8 days and usage falling; based in US"); squeezed into a table column they became a 40-line cell
of broken words. They get their own table underneath, one customer per entry, wrapped at the terminal's width,
with the reason code in front.

``--columns`` chooses the table's columns by their JSON/CSV names (any of :data:`AT_RISK_COLUMNS` the scores
have); ``reasons`` among them puts the reasons in the table (wrapped) instead of underneath. Columns that do
not fit the terminal are left out, the last chosen first, and the command says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text

from retain.cli._safe import safe_text
from retain.cli._tables import Col, Fitted, fit_table
from retain.display.numbers import MISSING, fmt_number

__all__ = ["AT_RISK_TABLE_COLUMNS", "DEFAULT_AT_RISK_COLUMNS", "DEFAULT_SHOP_COLUMNS", "at_risk_table", "reasons_table"]

AT_RISK_TABLE_COLUMNS = {
    "rank": Col("rank", "#", "right"),
    "customer_id": Col("customer_id", "customer"),
    "expected_loss": Col("expected_loss", "exp. loss", "right"),
    "p_churn": Col("p_churn", "risk", "right"),
    "value_if_retained": Col("value_if_retained", "value", "right"),
    "p_alive": Col("p_alive", "alive", "right"),
    "expected_orders": Col("expected_orders", "orders 12m", "right"),
    "health": Col("health", "health"),
    "band": Col("band", "band"),
    "health_components": Col("health_components", "health from", wrap=True),
    "reasons": Col("reasons", "reasons", wrap=True, min_width=24),
    "reason_code": Col("reason_code", "reason"),
    "playbook": Col("playbook", "playbook"),
    "context": Col("context", "context", wrap=True),
    "name": Col("name", "name", wrap=True),
    "email": Col("email", "email"),
}
"""How each column of the at-risk list shows in the table (header, alignment, whether it wraps)."""

DEFAULT_AT_RISK_COLUMNS = (
    "rank",
    "customer_id",
    "p_churn",
    "value_if_retained",
    "expected_loss",
    "health",
    "playbook",
)
"""The table's columns without ``--columns``, subscriptions; the reasons follow underneath."""

DEFAULT_SHOP_COLUMNS = ("rank", "customer_id", "p_churn", "p_alive", "value_if_retained", "expected_loss", "playbook")
"""The same for shops: P(alive) instead of the health score (health is still available with --columns)."""

_BAND_STYLES = {"green": "green", "yellow": "yellow", "red": "red"}
_LAST_TO_GO = ("rank", "customer_id")


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(value != value)
    except TypeError:  # pandas.NA
        return True


def _cell(column: str, row: Mapping[str, Any]) -> Text | str:
    value = row.get(column)
    if _missing(value):
        return MISSING
    if column in ("p_churn", "p_alive"):
        return f"{float(value):.0%}"
    if column in ("value_if_retained", "expected_loss"):
        return fmt_number(float(value), 0)
    if column == "expected_orders":
        return fmt_number(float(value), 1)
    if column in ("health", "band"):
        band = str(row.get("band"))
        shown = f"{fmt_number(value, 0)} {band}" if column == "health" and not _missing(row.get("band")) else value
        return safe_text(shown, _BAND_STYLES.get(band, ""))
    if column == "rank":
        return fmt_number(value, 0)
    return safe_text(value)


def at_risk_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, title: str, width: int) -> Fitted:
    """The at-risk list with ``columns`` (names of :data:`AT_RISK_TABLE_COLUMNS`), no wider than ``width``.

    Returns
    -------
    Fitted
        ``hidden`` names the columns left out to fit (never the rank or the customer id).
    """
    cols = [AT_RISK_TABLE_COLUMNS[name] for name in columns]
    body = [[_cell(name, row) for name in columns] for row in rows]
    optional = [name for name in reversed(columns) if name not in _LAST_TO_GO]
    return fit_table(cols, body, width=width, optional=optional, title=title)


def reasons_table(rows: Sequence[Mapping[str, Any]], *, with_code: bool, width: int) -> Fitted:
    """Each customer's reasons on lines of their own: rank, customer id, then ``reason code: reasons``."""
    body = []
    for row in rows:
        text = row.get("reasons")
        # Explained, but no single feature of theirs is on its risky side: say so rather than leave a blank.
        why = safe_text(MISSING if _missing(text) else text or "no single clear reason: the risk comes from the mix")
        if with_code and not _missing(row.get("reason_code")):
            why = Text.assemble(safe_text(row["reason_code"], "bold"), ": ", why)
        body.append([fmt_number(row.get("rank"), 0), safe_text(row.get("customer_id")), why])
    columns = [Col("rank", "#", "right"), Col("customer_id", "customer"), Col("reasons", "why", wrap=True)]
    return fit_table(columns, body, width=width, title="Why (strongest reason first)", box=None, show_header=False)
