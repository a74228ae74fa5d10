"""How input columns become canonical columns: explicit ``target=source`` mappings, same-name matches,
constants for columns the input lacks, and extra columns packed into the table's JSON column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.tables import TableSpec
from retain.errors import InputError, SchemaMismatchError
from retain.ingest.suggest import as_options, closest_columns, map_suggestions, preset_hint

__all__ = ["ColumnPlan", "parse_assignments", "plan_columns"]


def _normal(name: str) -> str:
    """``Customer ID`` and ``customer-id`` match ``customer_id``."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def parse_assignments(items: list[str] | None, option: str) -> dict[str, str]:
    """Parse repeated ``--map target=source`` / ``--set column=value`` options."""
    out: dict[str, str] = {}
    for item in items or []:
        target, sep, value = item.partition("=")
        if not sep or not target.strip():
            raise InputError(f"{option} {item!r}: expected TARGET=VALUE, e.g. {option} customer_id=CustomerID.")
        out[target.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class ColumnPlan:
    renames: dict[str, str]
    """source column -> canonical column"""
    constants: dict[str, str] = field(default_factory=dict)
    """canonical column -> constant text value for every row"""
    extras: tuple[str, ...] = ()
    """source columns packed into ``extras_column`` as a JSON object"""
    extras_column: str | None = None

    def apply(self, chunk: pa.Table) -> pa.Table:
        columns = {target: chunk.column(source) for source, target in self.renames.items()}
        for target, value in self.constants.items():
            columns[target] = pa.array([value] * chunk.num_rows, pa.string())
        if self.extras:
            columns[self.extras_column] = _pack_json(chunk, self.extras)
        return pa.table(columns)

    def describe(self) -> dict[str, object]:
        return {"renames": self.renames, "constants": self.constants, "extras": list(self.extras)}


def _typed_values(arr: pa.ChunkedArray) -> list:
    """Numbers stay numbers in the JSON (``"619"`` from a CSV becomes 619).

    ``nan`` and ``inf`` parse as floats but are not JSON numbers: such a column stays text, so the packed object is
    strict JSON that the contract accepts; in typed input (Parquet) they are left out like a missing value.
    """
    if pa.types.is_floating(arr.type):
        return pc.if_else(pc.is_finite(arr), arr, pa.scalar(None, arr.type)).to_pylist()
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):  # XLSX date cells: ISO text, not a number
        return [None if v is None else v.isoformat() for v in arr.to_pylist()]
    for target in (pa.int64(), pa.float64()):
        try:
            values = pc.cast(arr, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if target == pa.int64() or pc.all(pc.is_finite(values)).as_py() is not False:
            return values.to_pylist()
    return arr.to_pylist()


def _pack_json(chunk: pa.Table, names: tuple[str, ...]) -> pa.Array:
    values = {n: _typed_values(chunk.column(n)) for n in names}
    rows = ({n: values[n][i] for n in names if values[n][i] is not None} for i in range(chunk.num_rows))
    return pa.array([json.dumps(r, ensure_ascii=False, default=str, allow_nan=False) for r in rows], pa.string())


def plan_columns(
    spec: TableSpec,
    source_columns: list[str],
    *,
    mapping: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
    keep_extra: bool = False,
    where: str = "input",
    first_seen: Mapping[str, int] | None = None,
) -> ColumnPlan:
    """Decide where each input column goes; fail before anything is written when the columns do not fit.

    ``first_seen`` gives the line each column first appears on (JSON Lines), so the error can point there.
    """
    mapping, constants = dict(mapping or {}), dict(constants or {})
    expected = spec.column_names
    for target in [*mapping, *constants]:
        if not spec.has(target):
            raise InputError(
                f"{target!r} is not a column of {spec.name}. Columns of {spec.name}: {', '.join(expected)}."
            )
    for target, source in mapping.items():
        if source not in source_columns:
            close = closest_columns(source, source_columns)
            guess = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise InputError(
                f"--map {target}={source}: {where} has no column {source!r}.{guess} "
                f"Its columns are: {', '.join(source_columns)}."
            )
    both = sorted(set(mapping) & set(constants))
    if both:
        raise InputError(f"{', '.join(both)}: given both by --map and --set; use one of them.")
    renames = {source: target for target, source in mapping.items()}
    taken = set(mapping) | set(constants)
    by_normal = {_normal(c): c for c in expected}
    unknown = []
    for source in source_columns:
        if source in renames:
            continue
        target = by_normal.get(_normal(source))
        if target is not None and target not in taken:
            renames[source] = target
            taken.add(target)
        else:
            unknown.append(source)
    missing = [c for c in spec.required_names if c not in taken and not (spec.derived_key and c in spec.key)]
    extras: tuple[str, ...] = ()
    if unknown and keep_extra:
        if spec.extras_column is None or spec.extras_column in taken:
            raise InputError(
                f"--keep-extra: {spec.name} has no free JSON column for extra columns "
                f"({', '.join(unknown)}); map or remove them."
            )
        extras, unknown = tuple(unknown), []
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing required column(s): {', '.join(missing)}")
        if unknown:
            lines = first_seen or {}
            named = [f"{c} (first seen on line {lines[c]:,})" if c in lines else c for c in unknown]
            parts.append(f"unknown column(s): {', '.join(named)}")
        hint = "Rename them with --map TARGET=SOURCE, fill a constant with --set COLUMN=VALUE"
        if spec.extras_column:
            hint += f", or keep unknown columns in {spec.extras_column} with --keep-extra"
        open_targets = [*missing, *(c for c in expected if c not in taken and c not in missing)]
        suggested = map_suggestions(open_targets, unknown)
        try_this = f" Closest columns: {as_options(suggested)}." if suggested else ""
        preset = preset_hint(source_columns)
        raise SchemaMismatchError(
            f"{where} does not fit table {spec.name}: {'; '.join(parts)}. Expected columns: "
            f"{', '.join(expected)} (required: {', '.join(spec.required_names)}).{' ' + preset if preset else ''}"
            f"{try_this} {hint}. Nothing was written.",
            missing=missing,
            unknown=unknown,
            expected=expected,
            suggested_map=suggested,
        )
    return ColumnPlan(renames=renames, constants=constants, extras=extras, extras_column=spec.extras_column)
