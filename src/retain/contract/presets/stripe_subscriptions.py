"""Stripe's subscriptions export (Dashboard → Billing → Subscriptions → Export) → one period per subscription.

The export has one line per subscription as it is now: ``id, Customer ID, Customer Description, Customer Email,
Plan, Product, Quantity, Currency, Interval, Amount, Status, Created (UTC), Start (UTC), Current Period Start
(UTC), Current Period End (UTC), Trial Start (UTC), Trial End (UTC), …, Canceled At (UTC), Cancel At Period End,
Ended At (UTC)``; amounts are in currency units. It holds no price history, so each subscription becomes one
period: started_at = ``Start (UTC)``, ended_at = ``Ended At (UTC)``, mrr = Amount × Quantity normalised to a
month by ``Interval`` (month, year, week, day; an ``Interval Count`` column, when present, multiplies it), status
as the webhooks map it (``trialing`` → active at mrr 0, ``unpaid`` → past_due). The export has no cancellation
reason, so churn_type stays empty (retention counts an unknown type as voluntary); the ``customer.subscription``
webhooks carry it. ``incomplete`` subscriptions never started and are rejected (``not_allowed``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from retain.contract.chunks import SourceChunk
from retain.contract.formats import ValueFormats
from retain.contract.presets._frames import ROW, ExportFrame, parsers
from retain.contract.presets.base import PresetName
from retain.contract.reasons import RejectReason
from retain.contract.tables import TableName

__all__ = ["StripeSubscriptions"]

_COLUMNS = (
    "id", "Customer ID", "Plan", "Quantity", "Interval", "Amount", "Status", "Start (UTC)", "Ended At (UTC)",
)  # fmt: skip
_OPTIONAL = ("Interval Count",)
_MONTHS = {"month": 1.0, "year": 12.0, "week": 12 / 52, "day": 12 / 365}  # as the Stripe webhooks normalise
_STATUS = {"active": "active", "trialing": "active", "past_due": "past_due", "unpaid": "past_due",
           "paused": "paused", "canceled": "canceled"}  # fmt: skip


class StripeSubscriptions:
    name = PresetName.STRIPE_SUBSCRIPTIONS
    table = TableName.SUBSCRIPTIONS
    description = "Stripe subscriptions export (one period per subscription, mrr from Amount × Quantity / Interval)"
    input_columns = _COLUMNS

    def transform(self, chunks: Iterator[SourceChunk], formats: ValueFormats) -> Iterator[SourceChunk]:
        parse_number, parse_time = parsers(formats)
        export = ExportFrame(chunks, _COLUMNS + _OPTIONAL)
        f = export.frame
        export.reject(f["Customer ID"].isna(), "Customer ID", RejectReason.MISSING_CUSTOMER, "")
        f = export.frame
        status = f["Status"].str.lower().map(_STATUS)
        export.reject(
            status.isna(), "Status", RejectReason.NOT_ALLOWED,
            f"a subscription that ran: one of {', '.join(_STATUS)} (incomplete ones never started)",
        )  # fmt: skip
        f = export.frame
        months = f["Interval"].str.lower().map(_MONTHS)
        export.reject(months.isna(), "Interval", RejectReason.NOT_ALLOWED, "one of month, year, week, day")
        for column in ("Amount", "Quantity"):
            f = export.frame
            export.reject(parse_number(f[column]).isna(), column, RejectReason.BAD_NUMBER, "")
        for column in ("Start (UTC)",):
            f = export.frame
            export.reject(parse_time(f[column]).isna(), column, RejectReason.BAD_TIMESTAMP, "")
        f = export.frame
        count = parse_number(f["Interval Count"]).fillna(1.0)
        interval_months = f["Interval"].str.lower().map(_MONTHS) * count
        status = f["Status"].str.lower().map(_STATUS)
        mrr = parse_number(f["Amount"]) * parse_number(f["Quantity"]) / interval_months
        whole = interval_months.where((interval_months >= 1) & (interval_months % 1 == 0))
        rows = pd.DataFrame(
            {
                "subscription_id": f["id"],
                "customer_id": f["Customer ID"],
                "plan": f["Plan"],
                "mrr": np.where(f["Status"].str.lower() == "trialing", 0.0, mrr.round(2)),
                "started_at": parse_time(f["Start (UTC)"]),
                "ended_at": parse_time(f["Ended At (UTC)"]),  # empty (NaT) while running
                "status": status,
                "billing_period_months": whole.astype("Int64"),
                ROW: f[ROW],
            }
        )
        yield export.chunk(rows)
