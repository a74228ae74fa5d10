"""Neutralise spreadsheet formulas in text that retain writes to CSV files for people (OWASP "CSV injection").

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (tab and
carriage return can hide such a start), so a value taken from an input file, e.g. ``=HYPERLINK("http://x")``,
could act when someone opens a rejects file. As OWASP recommends, such a cell gets a leading single quote,
which spreadsheets show as text. Numbers written as text (``-12.50``) are prefixed too: these files are read by
people, not parsed back.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FORMULA_STARTS", "neutralise", "neutralise_table", "neutralise_value"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula."""

_STARTS_WITH_FORMULA = "^([=+\\-@\t\r])"
_PYTHON_PATTERN = re.compile(_STARTS_WITH_FORMULA)


def neutralise(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Prefix every text value that starts like a formula with ``'``; other values and nulls are unchanged.

    Parameters
    ----------
    array
        A string array (other types are returned as they are: they are not text a spreadsheet evaluates).

    Returns
    -------
    pyarrow.Array or pyarrow.ChunkedArray
        The same values, formula starts neutralised.
    """
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return array
    return pc.replace_substring_regex(array, pattern=_STARTS_WITH_FORMULA, replacement="'\\1")


def neutralise_value(value: str | None) -> str | None:
    """``neutralise`` for one Python string (rows written with the ``csv`` module)."""
    if value is None:
        return None
    return _PYTHON_PATTERN.sub("'\\1", value, count=1)


def neutralise_table(table: pa.Table) -> pa.Table:
    """``neutralise`` applied to every text column of ``table``."""
    for i, column in enumerate(table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            table = table.set_column(i, table.field(i), neutralise(column))
    return table
