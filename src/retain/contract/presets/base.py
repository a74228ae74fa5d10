"""What an import preset is: a named transformation from a known export layout to canonical rows."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Protocol

from retain.contract.chunks import SourceChunk
from retain.contract.formats import ValueFormats
from retain.contract.tables import TableName

__all__ = ["Preset", "PresetName"]


class PresetName(StrEnum):
    ONLINE_RETAIL_II = "online-retail-ii"
    STRIPE_SUBSCRIPTIONS = "stripe-subscriptions"
    STRIPE_INVOICES = "stripe-invoices"
    SHOPIFY_ORDERS = "shopify-orders"


class Preset(Protocol):
    name: PresetName
    table: TableName
    description: str
    input_columns: tuple[str, ...]

    def transform(self, chunks: Iterator[SourceChunk], formats: ValueFormats) -> Iterator[SourceChunk]:
        """Turn chunks in the export's layout into chunks with canonical column names (and line rejects).

        ``formats`` (``--date-format``, ``--decimal``, ``--timezone``) applies to the export's own time and number
        columns; the canonical chunks it yields are then validated with the same formats.
        """
        ...
