"""Stripe's invoices export (Dashboard → Billing → Invoices → Export) → one order per paid invoice.

Columns used: ``id, Customer, Amount Paid, Status, Date (UTC), Paid At (UTC)`` (the export has many more; amounts
in currency units). A ``paid`` invoice with an amount becomes an order as the ``invoice.paid`` webhook maps it:
order_id = invoice id, amount = Amount Paid, ordered_at = Paid At (else Date), status completed, channel
stripe. Invoices that were not paid (draft, open, void, uncollectible) are no purchase and are rejected
(``not_allowed`` on Status), as are invoices of 0.00 (``out_of_range``), so the rejects file accounts for every line.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from retain.contract.chunks import SourceChunk
from retain.contract.formats import ValueFormats
from retain.contract.presets._frames import ROW, ExportFrame, parsers
from retain.contract.presets.base import PresetName
from retain.contract.reasons import RejectReason
from retain.contract.tables import TableName

__all__ = ["StripeInvoices"]

_COLUMNS = ("id", "Customer", "Amount Paid", "Status", "Date (UTC)", "Paid At (UTC)")


class StripeInvoices:
    name = PresetName.STRIPE_INVOICES
    table = TableName.ORDERS
    description = "Stripe invoices export (one completed order per paid invoice)"
    input_columns = _COLUMNS

    def transform(self, chunks: Iterator[SourceChunk], formats: ValueFormats) -> Iterator[SourceChunk]:
        parse_number, parse_time = parsers(formats)
        export = ExportFrame(chunks, _COLUMNS)
        export.reject(export.frame["Customer"].isna(), "Customer", RejectReason.MISSING_CUSTOMER, "")
        f = export.frame
        export.reject(
            f["Status"].str.lower() != "paid",
            "Status",
            RejectReason.NOT_ALLOWED,
            "paid (only paid invoices are orders)",
        )
        f = export.frame
        export.reject(parse_number(f["Amount Paid"]).isna(), "Amount Paid", RejectReason.BAD_NUMBER, "")
        f = export.frame
        export.reject(
            parse_number(f["Amount Paid"]) <= 0,
            "Amount Paid",
            RejectReason.OUT_OF_RANGE,
            "> 0 (an invoice of 0.00 is no purchase)",
        )
        f = export.frame
        paid_at = parse_time(f["Paid At (UTC)"]).fillna(parse_time(f["Date (UTC)"]))
        export.reject(paid_at.isna(), "Paid At (UTC)", RejectReason.BAD_TIMESTAMP, "")
        f = export.frame
        rows = pd.DataFrame(
            {
                "order_id": f["id"],
                "customer_id": f["Customer"],
                "ordered_at": parse_time(f["Paid At (UTC)"]).fillna(parse_time(f["Date (UTC)"])),
                "amount": parse_number(f["Amount Paid"]).round(2),
                "status": "completed",
                "channel": "stripe",
                ROW: f[ROW],
            }
        )
        yield export.chunk(rows)
