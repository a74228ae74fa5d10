"""Rows written for spreadsheets and scripts: CSV with spreadsheet formulas neutralised, and JSON.

Text cells that start like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) get a leading ``'``, as
OWASP recommends against CSV injection: a customer named ``=HYPERLINK(...)`` must not become a live formula in
the CRM export someone opens in a spreadsheet. Numbers stay numbers (a negative amount is not a formula).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, TextIO

from retain.contract.csv_safe import neutralise_value

__all__ = ["csv_cell", "json_value", "write_csv", "write_json"]


def json_value(value: Any) -> Any:
    """A value JSON can hold: numpy scalars as Python numbers, NaN/NA as null."""
    if value is None or value is __import__("pandas").NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def csv_cell(value: Any) -> Any:
    """One CSV cell: nulls empty, instants in ISO 8601, text neutralised."""
    value = json_value(value)
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_value(value)
    return value


def write_csv(rows: Iterable[Mapping[str, Any]], out: TextIO, *, columns: list[str] | None = None) -> None:
    """Write ``rows`` with a header (the union of their keys in order, unless ``columns`` is given)."""
    rows = list(rows)
    if columns is None:
        columns = []
        for row in rows:
            columns += [key for key in row if key not in columns]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(row.get(k)) for k in columns})


def write_json(data: Any, out: TextIO) -> None:
    """Write ``data`` as indented JSON (instants in ISO 8601)."""

    def default(value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value.isoformat()
        converted = json_value(value)
        return converted if converted is not value else str(value)

    json.dump(data, out, indent=2, default=default, allow_nan=False)
    out.write("\n")
