"""Import presets: known export layouts turned into canonical rows (``retain ingest --preset NAME``)."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Protocol

from retain.contract.chunks import SourceChunk
from retain.contract.tables import TableName
from retain.errors import InputError

__all__ = ["Preset", "PresetName", "get_preset"]


class PresetName(StrEnum):
    ONLINE_RETAIL_II = "online-retail-ii"


class Preset(Protocol):
    name: PresetName
    table: TableName
    description: str
    input_columns: tuple[str, ...]

    def transform(self, chunks: Iterator[SourceChunk]) -> Iterator[SourceChunk]:
        """Turn chunks in the export's layout into chunks with canonical column names (and line rejects)."""
        ...


def _registry() -> dict[PresetName, Preset]:
    from retain.contract.presets.online_retail_ii import OnlineRetailII

    return {p.name: p for p in (OnlineRetailII(),)}


def get_preset(name: str, table: TableName | str) -> Preset:
    try:
        preset = _registry()[PresetName(name)]
    except ValueError:
        raise InputError(f"Unknown preset {name!r}. Valid presets: {', '.join(PresetName)}.") from None
    if preset.table != table:
        raise InputError(
            f"Preset {name} produces table {preset.table}, not {table}: use `retain ingest {preset.table}`."
        )
    return preset
