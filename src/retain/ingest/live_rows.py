"""Facts posted live (JSON objects) checked by the same contract as a file: one chunk through ``validate_chunk``.

Each posted object becomes one text row exactly as a JSON Lines line would (:func:`value_text`), so a fact is
accepted live if and only if the same object is accepted from a file, with the same normalised values and the
same derived event id. What a file ingest settles for the whole file is settled per object here, because one
request may mix good and bad objects:

- something that is not an object is rejected (``bad_json``);
- keys that are not columns of the table are kept in the table's extras column (``attributes``, ``properties``)
  when it has one and the object does not set it itself, as ``retain ingest --keep-extra`` does; otherwise the
  object is rejected (``unknown_column``) naming each key and listing the valid columns;
- a missing required key is a ``missing_value`` like an empty cell.

Every problem of an object is reported, not only the first. Row numbers are the objects' 0-based positions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.reasons import RejectReason
from retain.contract.strict_json import value_text
from retain.contract.tables import TableSpec
from retain.contract.validate import REJECTS_SCHEMA, ROW_COLUMN, rejects_table, validate_chunk

__all__ = ["CheckedFacts", "check_posted"]

_SHOWN_KEY_CHARS = 64


@dataclass(frozen=True)
class CheckedFacts:
    valid: pa.Table
    """Accepted objects in the contract's schema plus ``_row`` (the object's position)."""
    rejects: pa.Table
    """Every problem found, one row per (position, column), in ``REJECTS_SCHEMA``, sorted by position."""


def _shown(key: str) -> str:
    return key if len(key) <= _SHOWN_KEY_CHARS else key[: _SHOWN_KEY_CHARS - 1] + "…"


def _reject(index: int, column: str, value: object, reason: RejectReason, detail: str) -> pa.Table:
    text = pa.array([value_text(value)], pa.string())
    return rejects_table(np.array([index], np.int64), column, text, reason, detail)


def _with_extras(
    spec: TableSpec, index: int, obj: dict, unknown: list[str], *, keep_extra: bool
) -> tuple[dict, list[pa.Table]]:
    """``obj`` with its unknown keys packed into the extras column; else without them, and the problems why."""
    column = spec.extras_column if keep_extra else None
    known = {k: v for k, v in obj.items() if k not in unknown}
    if column is not None and obj.get(column) is None:
        kept = {k: obj[k] for k in unknown if obj[k] is not None}
        try:
            return {**known, column: json.dumps(kept, sort_keys=True, ensure_ascii=False, allow_nan=False)}, []
        except ValueError:
            detail = "extra keys are kept as JSON, which has no NaN or Infinity"
            return known, [_reject(index, column, str(kept), RejectReason.BAD_JSON, detail)]
    if spec.extras_column is None:
        hint = f"{spec.name} has no JSON column for other fields; use its columns or leave them out"
    elif keep_extra:
        hint = f"other fields go into {spec.extras_column} only when the object does not set it itself"
    else:
        hint = f"put other fields into {spec.extras_column} as a JSON object"
    detail = f"columns of {spec.name}: {', '.join(spec.column_names)}; {hint}"
    return known, [_reject(index, _shown(k), obj[k], RejectReason.UNKNOWN_COLUMN, detail) for k in unknown]


def check_posted(spec: TableSpec, objects: Sequence[object], *, keep_extra: bool = True) -> CheckedFacts:
    """Validate posted ``objects`` against ``spec``; ``keep_extra=False`` rejects unknown keys even where the
    table has an extras column. An object with a key that cannot be kept is still validated on its other keys, so
    that every problem it has is reported."""
    known = set(spec.column_names)
    rows: list[dict] = []
    positions: list[int] = []
    problems: list[pa.Table] = []
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict):
            detail = f"each fact must be one JSON object with the columns of {spec.name}"
            problems.append(_reject(index, "*", obj, RejectReason.BAD_JSON, detail))
            continue
        unknown = [k for k in obj if k not in known]
        if unknown:
            obj, why = _with_extras(spec, index, obj, unknown, keep_extra=keep_extra)
            problems.extend(why)
        rows.append(obj)
        positions.append(index)
    chunk = pa.table({c: pa.array([value_text(r.get(c)) for r in rows], pa.string()) for c in spec.column_names})
    checked = validate_chunk(spec, chunk, np.array(positions, dtype=np.int64))
    problems.append(checked.rejects)
    rejects = pa.concat_tables([p for p in problems if p.num_rows] or [REJECTS_SCHEMA.empty_table()])
    rejects = rejects.sort_by([("source_row", "ascending")])
    # Objects with a problem found before validation (a key that cannot be kept) are not valid either.
    refused = pa.array(sorted(set(rejects.column("source_row").to_pylist())), pa.int64())
    valid = checked.valid.filter(pc.invert(pc.is_in(checked.valid.column(ROW_COLUMN), value_set=refused)))
    return CheckedFacts(valid, rejects)
