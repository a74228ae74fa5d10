"""Shopify's orders export (Admin → Orders → Export, CSV for Excel or plain CSV) → orders and refunds.

The export has one line per line item; the order's own fields (``Email, Financial Status, Paid at, Total,
Refunded Amount, Cancelled at, Created at, Id`` …) are filled on its first line only, ``Name`` (``#1001``) and
``Lineitem quantity`` on every line. Per order, as the webhooks map it (so live and batch use the same keys):

- order_id = ``Id`` (the numeric id the webhooks carry), customer_id = ``Email`` in lower case, ordered_at =
  ``Created at``, amount = ``Total``, items = Σ ``Lineitem quantity``, discount_code = ``Discount Code``, channel =
  ``Source``; status ``canceled`` when ``Cancelled at`` is set, else ``completed`` for a Financial Status of paid,
  partially_refunded or refunded; other orders (pending, authorized, voided) were never paid and are rejected
  (``not_allowed``);
- a ``Refunded Amount`` above 0 on an order that is not cancelled adds a refund row ``<Id>-refunded`` with the
  negative amount. The export has no refund date, so it is dated at the order's time, and it is the total of
  the order's refunds (the webhooks record each refund as ``<Id>-refund-<refund id>``).

An order is rejected at its first line: no Email (``missing_customer``), no Id (``missing_value``), a Total or
time that does not parse. Aggregation needs every line of an order, so the preset reads the whole file first.
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

__all__ = ["ShopifyOrders"]

_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Total",
    "Refunded Amount",
    "Cancelled at",
    "Created at",
    "Id",
)
_OPTIONAL = ("Lineitem quantity", "Discount Code", "Source")
_PAID = ("paid", "partially_refunded", "refunded")


class ShopifyOrders:
    name = PresetName.SHOPIFY_ORDERS
    table = TableName.ORDERS
    description = "Shopify orders export (lines grouped per order; refunded amounts become refund rows)"
    input_columns = _COLUMNS

    def transform(self, chunks: Iterator[SourceChunk], formats: ValueFormats) -> Iterator[SourceChunk]:
        parse_number, parse_time = parsers(formats)
        export = ExportFrame(chunks, _COLUMNS + _OPTIONAL)
        lines = export.frame
        export.reject(lines["Name"].isna(), "Name", RejectReason.MISSING_VALUE, "every line names its order")
        lines = export.frame.assign(_quantity=parse_number(export.frame["Lineitem quantity"]).fillna(0))
        grouped = lines.groupby("Name", sort=False)
        orders = grouped.first()  # the first non-empty value of each column: the order's own fields
        orders[ROW] = grouped[ROW].min()
        orders["_items"] = grouped["_quantity"].sum().astype("int64")
        export.frame = orders.reset_index()

        f = export.frame
        export.reject(f["Email"].isna(), "Email", RejectReason.MISSING_CUSTOMER, "")
        export.reject(export.frame["Id"].isna(), "Id", RejectReason.MISSING_VALUE, "the order's numeric id")
        f = export.frame
        cancelled = f["Cancelled at"].notna()
        unpaid = ~cancelled & ~f["Financial Status"].str.lower().isin(_PAID)
        export.reject(unpaid, "Financial Status", RejectReason.NOT_ALLOWED, f"one of {', '.join(_PAID)} (a paid order)")
        export.reject(parse_number(export.frame["Total"]).isna(), "Total", RejectReason.BAD_NUMBER, "")
        export.reject(parse_time(export.frame["Created at"]).isna(), "Created at", RejectReason.BAD_TIMESTAMP, "")

        f = export.frame
        cancelled = f["Cancelled at"].notna()
        sales = pd.DataFrame(
            {
                "order_id": f["Id"],
                "customer_id": f["Email"].str.lower(),
                "ordered_at": parse_time(f["Created at"]),
                "amount": parse_number(f["Total"]).round(2),
                "status": cancelled.map({True: "canceled", False: "completed"}),
                "items": f["_items"],
                "discount_code": f["Discount Code"],
                "channel": f["Source"],
                ROW: f[ROW],
            }
        )
        refunded = parse_number(f["Refunded Amount"]).fillna(0.0)
        has_refund = (refunded > 0) & ~cancelled
        refunds = sales.loc[has_refund].assign(
            order_id=lambda r: r["order_id"] + "-refunded",
            amount=-refunded[has_refund].round(2),
            status="refunded",
            items=None,
            discount_code=None,
        )
        rows = pd.concat([sales, refunds], ignore_index=True)
        rows["items"] = rows["items"].astype("Int64")
        yield export.chunk(rows)
