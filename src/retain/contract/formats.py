"""How an export writes its values: the date format, the decimal separator and the time zone of naive times.

Spreadsheets and shop back-ends export what their locale shows (``23/04/2025 10:30``, ``1.234,50``, local wall
time); ``ValueFormats`` says how to read such text, so the contract's converters (``convert``) can turn it into
UTC timestamps and numbers. The default reads ISO 8601 times as UTC and numbers with a decimal point.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from retain.errors import InputError

__all__ = ["DEFAULT_FORMATS", "DecimalSeparator", "ValueFormats"]

_SAMPLE = datetime(2025, 3, 1, 10, 22, 31, tzinfo=timezone(timedelta(hours=1)))
_TIME_DIRECTIVE = re.compile(r"%[HIMSpfzZTRXc]")
_YEAR, _MONTH, _DAY = ("%Y", "%y"), ("%m", "%b", "%B"), ("%d",)


class DecimalSeparator(StrEnum):
    POINT = "."
    """``1234.50``"""
    COMMA = ","
    """``1.234,50``, ``1 234,50`` or ``1234,5``: European exports."""


@dataclass(frozen=True)
class ValueFormats:
    """How the text of timestamp, date and number columns is written.

    Parameters
    ----------
    date_format
        A ``strptime`` format (e.g. ``%d/%m/%Y %H:%M``) every timestamp and date column is written in; ISO 8601
        when None. A value written in only the format's date part (``23/04/2025``) is accepted too: a time
        column then gets midnight, a date column takes the date of a value with a time.
    decimal
        The decimal separator of float and integer columns; with ``,`` a ``.`` or a space between groups of
        three digits is a thousands separator.
    timezone
        IANA name of the zone naive timestamps were written in (converted to UTC); UTC when None. Times with
        an offset (``+02:00``, ``Z``, or a ``%z`` in the date format) keep their offset.
    """

    date_format: str | None = None
    decimal: DecimalSeparator = DecimalSeparator.POINT
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.date_format is not None:
            _check_date_format(self.date_format)
        if self.timezone is not None:
            _check_timezone(self.timezone)
        try:
            object.__setattr__(self, "decimal", DecimalSeparator(self.decimal))
        except ValueError:
            raise InputError(f"--decimal {self.decimal!r}: expected '.' or ','.") from None

    @property
    def date_part(self) -> str | None:
        """The date format up to its first time directive (``%d/%m/%Y`` of ``%d/%m/%Y %H:%M``)."""
        if self.date_format is None:
            return None
        match = _TIME_DIRECTIVE.search(self.date_format)
        if match is None:
            return self.date_format
        return self.date_format[: match.start()].rstrip(" T,;-@") or None

    @property
    def has_offset(self) -> bool:
        """The date format reads the UTC offset of each value (``%z``), so the time zone does not apply."""
        return self.date_format is not None and "%z" in self.date_format

    def describe(self) -> dict[str, str]:
        """The options that differ from the default (part of an ingest's fingerprint: they change the result)."""
        out = {}
        if self.date_format is not None:
            out["date_format"] = self.date_format
        if self.decimal is not DecimalSeparator.POINT:
            out["decimal"] = str(self.decimal)
        if self.timezone is not None:
            out["timezone"] = self.timezone
        return out

    @staticmethod
    def example(fmt: str) -> str:
        """A value written in ``fmt``, for messages."""
        return _SAMPLE.strftime(fmt)


def _check_date_format(fmt: str) -> None:
    missing = [what for what, options in (("year", _YEAR), ("month", _MONTH), ("day", _DAY)) if not _has(fmt, options)]
    if missing:
        raise InputError(
            f"--date-format {fmt!r}: needs the {', '.join(missing)} (e.g. %d/%m/%Y %H:%M for 23/04/2025 10:30; "
            "directives as in Python's strptime)."
        )
    try:
        datetime.strptime(_SAMPLE.strftime(fmt), fmt)
    except ValueError as exc:
        raise InputError(f"--date-format {fmt!r}: not a usable strptime format ({exc}).") from None


def _has(fmt: str, directives: tuple[str, ...]) -> bool:
    return any(d in fmt for d in directives)


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"--timezone {name!r}: not a known time zone; use an IANA name such as Europe/Berlin, America/New_York "
            "or UTC."
        ) from None


DEFAULT_FORMATS = ValueFormats()
