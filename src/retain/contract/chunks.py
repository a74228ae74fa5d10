"""A chunk of input rows as read from a source, with the source row number of each row.

Sources (``retain.ingest.sources``) produce chunks, presets (``retain.contract.presets``) transform them and the
ingest pipeline validates them: the type lives here, in the contract, so that none of those imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from retain.contract.validate import REJECTS_SCHEMA

__all__ = ["SourceChunk"]


@dataclass
class SourceChunk:
    table: pa.Table
    """Rows as read, with the source's own column names."""
    rows: np.ndarray
    """Source row number of each row of ``table``."""
    rejects: pa.Table = field(default_factory=REJECTS_SCHEMA.empty_table)
    """Rows that could not even be read as records (e.g. wrong number of fields)."""
    rejected_rows: int = 0
