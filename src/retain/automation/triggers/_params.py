"""Checks of trigger parameter values: each error names the trigger, the parameter and what is expected."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from retain.errors import InputError

__all__ = ["choice", "count", "days", "probability", "text"]

E = TypeVar("E", bound=StrEnum)


def days(kind: str, name: str, value: object, *, minimum: int = 1) -> int:
    """A whole number of days ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(
            f"Trigger {kind}: {name} must be a whole number of days >= {minimum}, got {value!r} (e.g. {name}: 30)."
        )
    return value


def count(kind: str, name: str, value: object, *, minimum: int = 1) -> int:
    """A whole number ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"Trigger {kind}: {name} must be a whole number >= {minimum}, got {value!r}.")
    return value


def probability(kind: str, name: str, value: object) -> float:
    """A number in ``[0, 1]``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InputError(f"Trigger {kind}: {name} must be a number from 0 to 1, got {value!r} (e.g. {name}: 0.3).")
    return float(value)


def text(kind: str, name: str, value: object) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"Trigger {kind}: {name} must be a non-empty text, got {value!r}.")
    return value


def choice(kind: str, name: str, value: object, options: type[E], *, exclude: tuple[str, ...] = ()) -> E:
    """One of the values of ``options`` (except ``exclude``); an unknown one lists the valid values."""
    valid = [option for option in options if option.value not in exclude]
    for option in valid:
        if value == option.value:
            return option
    listed = ", ".join(option.value for option in valid)
    raise InputError(f"Trigger {kind}: unknown {name} {value!r}. Valid values: {listed}.")
