"""UCI "Online Retail II" invoice lines -> one order per invoice.

The export has one line per invoice line: ``Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
Customer ID, Country``. Rules, in this order:

1. a line without ``Customer ID`` is rejected (``missing_customer``): the order cannot be attributed;
2. a line whose Quantity, Price or InvoiceDate does not parse (read with ``--date-format``, ``--decimal`` and
   ``--timezone`` when given) is rejected with that column's reason; every failing column of a line is reported;
3. an exact duplicate of an earlier kept line is rejected (``duplicate_line``): it is kept once;
4. the remaining lines are summed per invoice: amount = Σ Quantity × Price (rounded to cents), items = Σ |Quantity|,
   ordered_at = earliest line time; invoices starting with ``C`` are cancellations of earlier sales and become
   ``refunded`` orders with a negative amount, the others ``completed``.

The order's source row is its invoice's first line. Aggregation needs every line of an invoice, so the preset
reads the whole file before it emits orders (fine for exports up to a few million lines).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from retain.contract.chunks import SourceChunk
from retain.contract.convert import convert
from retain.contract.formats import ValueFormats
from retain.contract.presets.base import PresetName
from retain.contract.reasons import RejectReason
from retain.contract.tables import ColumnType, TableName
from retain.contract.validate import REJECTS_SCHEMA, rejects_table

__all__ = ["OnlineRetailII"]

_COLUMNS = ("Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country")
_ROW = "__row"


class OnlineRetailII:
    name = PresetName.ONLINE_RETAIL_II
    table = TableName.ORDERS
    description = "UCI Online Retail II invoice lines (one order per invoice; C-invoices become refunds)"
    input_columns = _COLUMNS

    def transform(self, chunks: Iterator[SourceChunk], formats: ValueFormats) -> Iterator[SourceChunk]:
        kept, reject_parts, rejected_rows = [], [], 0
        for chunk in chunks:
            reject_parts.append(chunk.rejects)
            rejected_rows += chunk.rejected_rows
            lines, rejects, n_rejected = self._check_lines(chunk, formats)
            kept.append(lines)
            reject_parts.append(rejects)
            rejected_rows += n_rejected
        lines = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=[*_COLUMNS, _ROW])
        duplicated = lines.duplicated(subset=list(_COLUMNS), keep="first").to_numpy()
        if duplicated.any():
            dup_rows = lines[_ROW].to_numpy()[duplicated]
            reject_parts.append(
                rejects_table(
                    dup_rows,
                    "*",
                    pa.array(lines.loc[duplicated, "Invoice"].astype(str)),
                    RejectReason.DUPLICATE_LINE,
                    "same Invoice, StockCode, Quantity, time, price, customer",
                )
            )
            rejected_rows += int(duplicated.sum())
            lines = lines.loc[~duplicated]
        orders = self._orders(lines)
        rejects = pa.concat_tables([REJECTS_SCHEMA.empty_table(), *reject_parts]).sort_by("source_row")
        yield SourceChunk(
            pa.Table.from_pandas(orders.drop(columns=[_ROW]), preserve_index=False),
            orders[_ROW].to_numpy(np.int64),
            rejects,
            rejected_rows,
        )

    def _check_lines(self, chunk: SourceChunk, formats: ValueFormats) -> tuple[pd.DataFrame, pa.Table, int]:
        table, rows = chunk.table, chunk.rows
        customer = convert(table.column("Customer ID"), ColumnType.STRING).values
        bad = customer.is_null().to_numpy(zero_copy_only=False)
        parts = []
        if bad.any():
            where = np.flatnonzero(bad)
            parts.append(
                rejects_table(
                    rows[where], "Customer ID", pa.nulls(len(where), pa.string()), RejectReason.MISSING_CUSTOMER, ""
                )
            )
        parsed = {}
        for name, kind in (
            ("Quantity", ColumnType.INTEGER),
            ("Price", ColumnType.FLOAT),
            ("InvoiceDate", ColumnType.TIMESTAMP),
        ):
            result = convert(table.column(name), kind, formats)
            missing = result.values.is_null().to_numpy(zero_copy_only=False)
            if missing.any():
                where = np.flatnonzero(missing)
                raw = table.column(name).take(pa.array(where))
                parts.append(rejects_table(rows[where], name, raw, result.reason, result.detail))
            bad |= missing
            parsed[name] = result.values
        frame = table.select(list(_COLUMNS)).to_pandas()
        frame["Customer ID"] = customer.to_pandas()
        frame["_quantity"] = parsed["Quantity"].to_pandas()
        frame["_price"] = parsed["Price"].to_pandas()
        frame["_time"] = parsed["InvoiceDate"].to_pandas()
        frame[_ROW] = rows
        rejects = pa.concat_tables([REJECTS_SCHEMA.empty_table(), *parts]).sort_by("source_row")
        return frame.loc[~bad].reset_index(drop=True), rejects, int(bad.sum())

    @staticmethod
    def _orders(lines: pd.DataFrame) -> pd.DataFrame:
        invoice = lines["Invoice"].astype(str).str.strip()
        lines = lines.assign(
            _invoice=invoice,
            _value=lines["_quantity"].astype("float64") * lines["_price"].astype("float64"),
            _items=lines["_quantity"].abs(),
        )
        grouped = lines.groupby("_invoice", sort=False).agg(
            customer_id=("Customer ID", "first"),
            ordered_at=("_time", "min"),
            amount=("_value", "sum"),
            items=("_items", "sum"),
            **{_ROW: (_ROW, "min")},
        )
        grouped = grouped.reset_index(names="order_id")
        refunded = grouped["order_id"].str.upper().str.startswith("C")
        return pd.DataFrame(
            {
                "order_id": grouped["order_id"],
                "customer_id": grouped["customer_id"],
                "ordered_at": grouped["ordered_at"],
                "amount": grouped["amount"].round(2),
                "status": np.where(refunded, "refunded", "completed"),
                "items": grouped["items"].astype("int64"),
                _ROW: grouped[_ROW],
            }
        ).sort_values(_ROW, kind="stable")
