"""Import presets: known export layouts turned into canonical rows (``retain ingest --preset NAME``)."""

from __future__ import annotations

from collections.abc import Iterable

from retain.contract.presets.base import Preset, PresetName
from retain.contract.presets.online_retail_ii import OnlineRetailII
from retain.contract.presets.shopify_orders import ShopifyOrders
from retain.contract.presets.stripe_invoices import StripeInvoices
from retain.contract.presets.stripe_subscriptions import StripeSubscriptions
from retain.contract.tables import TableName
from retain.errors import InputError

__all__ = ["Preset", "PresetName", "get_preset", "matching_presets"]

_PRESETS: dict[PresetName, Preset] = {
    p.name: p for p in (OnlineRetailII(), StripeSubscriptions(), StripeInvoices(), ShopifyOrders())
}


def get_preset(name: str, table: TableName | str) -> Preset:
    try:
        preset = _PRESETS[PresetName(name)]
    except ValueError:
        raise InputError(f"Unknown preset {name!r}. Valid presets: {', '.join(PresetName)}.") from None
    if preset.table != table:
        raise InputError(
            f"Preset {name} produces table {preset.table}, not {table}: use `retain ingest {preset.table}`."
        )
    return preset


def matching_presets(columns: Iterable[str]) -> list[Preset]:
    """The presets whose every input column is among ``columns`` (a header that is a known export's)."""
    have = set(columns)
    return [p for p in _PRESETS.values() if set(p.input_columns) <= have]
