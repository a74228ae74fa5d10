"""User-defined segments: named, safe predicates over the customer profile columns.

A segment is a name and a condition written like SQL, e.g.::

    [segments]
    high_value_lapsing = "days_since_last_order > 30 AND total_revenue >= 500"
    french_trials = "country = 'FR' AND plan IS NULL"

(in ``retain.toml``) or ``Segment("high_value_lapsing", "days_since_last_order > 30 AND total_revenue >= 500")``
in Python. The condition is parsed with sqlglot and accepted only if every part is on the allow-list:

* column references to the profile columns (bare or ``"double-quoted"`` names);
* comparisons ``= != <> < <= > >=`` between values of the same type, ``AND``, ``OR``, ``NOT``, parentheses;
* ``IN (literal, ...)``, ``BETWEEN a AND b``, ``IS NULL`` / ``IS NOT NULL``, ``[NOT] LIKE`` / ``ILIKE`` on strings;
* literals: numbers, ``'strings'``, ``TRUE`` / ``FALSE``, ``NULL`` (only in ``coalesce``); a string literal
  compared with a timestamp or date column is read as an ISO date/time;
* functions ``lower``, ``upper``, ``length`` (strings), ``abs`` (numbers), ``coalesce``.

Anything else — a second statement (``;``), comments, subqueries, ``*``, casts, arithmetic, unknown functions
(``read_csv``, ``pg_sleep``...), unknown columns, comparing a number with a string — raises ``InputError`` naming
the offending token and listing the allowed columns and functions. The validated tree is compiled to Ibis by
walking it (never formatted into SQL), so it runs on any engine.

A row belongs to a segment when the predicate is true; ``NULL`` (unknown, e.g. ``nps > 8`` for a customer
without an NPS answer) means "not a member", as in SQL ``WHERE``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
from pydantic import RootModel, field_validator

from retain.analytics._segment_compile import (
    ALLOWED_FUNCTIONS,
    ALLOWED_OPERATORS,
    CompiledPredicate,
    compile_predicate,
)
from retain.errors import InputError

__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALLOWED_OPERATORS",
    "MEMBERSHIP_COLUMNS",
    "CompiledPredicate",
    "Segment",
    "SegmentSettings",
    "add_segment_columns",
    "compile_segment",
    "evaluate_segments",
    "segments_from_mapping",
]

MEMBERSHIP_COLUMNS = ("customer_id", "segment")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"Invalid segment name {name!r}: use 1-64 letters, digits and underscores, starting with a letter or "
            "underscore (e.g. high_value_lapsing)."
        )
    return name


@dataclass(frozen=True)
class Segment:
    """A named segment: customers of the profile table for which ``predicate`` is true.

    Parameters
    ----------
    name
        1-64 letters, digits and underscores, starting with a letter or underscore.
    predicate
        The condition, e.g. ``"days_since_last_order > 30 AND total_revenue >= 500"`` (see the module docstring
        for what is allowed). It is validated against the profile columns when compiled or evaluated.
    """

    name: str
    predicate: str

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.predicate, str) or not self.predicate.strip():
            raise InputError(f"Segment {self.name!r} has an empty predicate; write e.g. 'total_revenue >= 500'.")

    def compile(self, columns: Mapping[str, dt.DataType | str]) -> CompiledPredicate:
        """Validate against ``columns`` and compile; see :func:`compile_segment`."""
        try:
            return compile_segment(self.predicate, columns)
        except InputError as exc:
            raise InputError(f"Segment {self.name!r}: {exc}") from None


def compile_segment(predicate: str, columns: Mapping[str, dt.DataType | str]) -> CompiledPredicate:
    """Parse, validate and compile a segment predicate.

    Parameters
    ----------
    predicate
        The condition text (DuckDB SQL syntax, restricted to the allow-list of the module docstring).
    columns
        The profile columns it may read and their Ibis types, e.g. ``profile.schema()`` or
        ``{"total_revenue": "float64", "country": "string"}``.

    Returns
    -------
    CompiledPredicate
        A callable: ``compiled(table)`` returns an Ibis boolean expression over ``table``'s columns.

    Raises
    ------
    InputError
        Naming the offending token (column, function, operator, comment, ``;``...) and listing the allowed
        columns, functions and operators.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"customer_id": ["a", "b"], "total_revenue": [10.0, 900.0]})
    >>> is_big = compile_segment("total_revenue >= 500", t.schema())
    >>> t.filter(is_big(t)).customer_id.to_list()  # doctest: +SKIP
    ['b']
    """
    return compile_predicate(predicate, columns)


def _segments(segments: Iterable[Segment] | Mapping[str, str]) -> list[Segment]:
    items = segments_from_mapping(segments) if isinstance(segments, Mapping) else list(segments)
    for item in items:
        if not isinstance(item, Segment):
            raise InputError(f"Expected Segment objects (or a name -> predicate mapping), got {item!r}.")
    names = [s.name for s in items]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"Segment name(s) {', '.join(dupes)} defined more than once; give each segment one name.")
    return items


def evaluate_segments(
    profile: ibis.Table,
    segments: Iterable[Segment] | Mapping[str, str],
    *,
    key: str = "customer_id",
) -> ibis.Table:
    """Segment membership as a long table: one row per (customer, segment) the customer belongs to.

    Parameters
    ----------
    profile
        One row per customer (e.g. the customer 360 profile), with the key column and the columns the
        predicates read.
    segments
        :class:`Segment` objects, or a ``{name: predicate}`` mapping (the ``[segments]`` table of ``retain.toml``).
    key
        The customer key column, output as ``customer_id``.

    Returns
    -------
    ibis.Table
        Columns ``customer_id``, ``segment``, sorted by ``customer_id`` then ``segment``. A customer in no
        segment has no row; with no segments the table is empty.

    Raises
    ------
    InputError
        If a predicate is not allowed (see :func:`compile_segment`), names repeat or ``key`` is missing.
    """
    items = _segments(segments)
    if key not in profile.columns:
        raise InputError(f"The profile table has no key column {key!r}; its columns are {', '.join(profile.columns)}.")
    schema = profile.schema()
    parts = []
    for seg in items:
        condition = seg.compile(schema)(profile)
        member = profile.filter(condition)
        parts.append(member.select(customer_id=member[key].cast("string"), segment=ibis.literal(seg.name, "string")))
    if not parts:
        empty = pa.table({c: pa.array([], pa.string()) for c in MEMBERSHIP_COLUMNS})
        return ibis.memtable(empty)
    out = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return out.order_by(list(MEMBERSHIP_COLUMNS))


def add_segment_columns(
    profile: ibis.Table,
    segments: Iterable[Segment] | Mapping[str, str],
    *,
    prefix: str = "segment_",
) -> ibis.Table:
    """Add one boolean column ``<prefix><name>`` per segment to ``profile`` (true = member; never null).

    Raises
    ------
    InputError
        If a predicate is not allowed or a new column name already exists in ``profile``.
    """
    items = _segments(segments)
    schema = profile.schema()
    new = {}
    for seg in items:
        column = f"{prefix}{seg.name}"
        if column in profile.columns:
            raise InputError(
                f"Column {column!r} for segment {seg.name!r} already exists in the profile table; "
                "rename the segment or pass another prefix=."
            )
        new[column] = seg.compile(schema)(profile).fill_null(False)
    return profile.mutate(**new)


def segments_from_mapping(mapping: Mapping[str, str]) -> list[Segment]:
    """``{name: predicate}`` (the ``[segments]`` table of ``retain.toml``) as :class:`Segment` objects, in order."""
    if not isinstance(mapping, Mapping):
        raise InputError(f"Expected a mapping of segment name to predicate, got {type(mapping).__name__}.")
    return [Segment(name, predicate) for name, predicate in mapping.items()]


class SegmentSettings(RootModel[dict[str, str]]):
    """The ``[segments]`` table of ``retain.toml``: segment name = predicate.

    Names and non-empty predicates are checked when the settings load; the predicates themselves are validated
    against the profile columns when segments are evaluated (the columns are only known then).

    Examples
    --------
    >>> SegmentSettings({"big": "total_revenue >= 500"}).segments()
    [Segment(name='big', predicate='total_revenue >= 500')]
    """

    root: dict[str, str] = {}

    @field_validator("root")
    @classmethod
    def _check(cls, value: dict[str, str]) -> dict[str, str]:
        for name, predicate in value.items():
            if not _NAME.match(name):
                raise ValueError(
                    f"invalid segment name {name!r}: use 1-64 letters, digits and underscores, starting with a "
                    "letter or underscore"
                )
            if not predicate.strip():
                raise ValueError(f"segment {name!r} has an empty predicate")
        return value

    def segments(self) -> list[Segment]:
        """The configured segments, in file order."""
        return segments_from_mapping(self.root)
