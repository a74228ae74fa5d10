"""How ``retain … --help`` reads: flags shown as flags, prose reflowed to the terminal, examples kept as written.

Typer renders every option's type next to its name, so a flag reads ``--markdown <bool>`` as if it took a
value. A flag takes none: :class:`RetainCommand` and :class:`RetainGroup` show no type for it (Typer shows an
option's ``metavar`` instead of its type, and an empty one is nothing). Choice options keep Typer's list of
their values (``<month|quarter|year>``); a long list is shown with spaces between the choices, so that it wraps
between them in a narrow terminal instead of inside a word (``subscripti`` / ``ons``).

Help text comes from the command's docstring, wrapped at 120 columns in the source. Typer keeps those line
breaks, so in an 80-column terminal every source line ends in a short ragged line. The classes join each
paragraph into one line that Rich wraps at the terminal's width — except a paragraph that starts with
``Example``, whose lines are commands to copy and stay as written.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer.core

__all__ = ["RetainCommand", "RetainGroup", "reflow_help"]


def reflow_help(text: str | None) -> str | None:
    """``text`` with each paragraph on one line, except ``Example``/``Examples`` paragraphs.

    Parameters
    ----------
    text : str or None
        A docstring (already dedented or not).

    Returns
    -------
    str or None
        Paragraphs separated by a blank line; ``None`` stays ``None``.
    """
    if text is None:
        return None
    paragraphs = [p.strip("\n") for p in inspect.cleandoc(text).split("\n\n") if p.strip()]
    return "\n\n".join(
        p if p.lstrip().startswith("Example") else " ".join(line.strip() for line in p.splitlines()) for p in paragraphs
    )


_LONG_TYPE = 24
"""A type label longer than this (a long list of choices) is given spaces to wrap at."""


def _readable_types(params: list[Any], ctx: Any) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # shown instead of the type: a flag takes no value
            continue
        display_type = getattr(param, "display_type", None)  # Typer's type label, e.g. <month|quarter|year>
        label = display_type(ctx) if callable(display_type) else None
        if isinstance(label, str) and len(label) > _LONG_TYPE and "|" in label and param.metavar is None:
            spaced = label.replace("|", " | ")  # wraps between choices, not inside one
            # Not the metavar: an argument's metavar is also its name.
            param.display_type_rich = lambda ctx=None, spaced=spaced, **_: spaced
    return params


class RetainCommand(typer.core.TyperCommand):
    """A ``retain`` command: flags without a type and reflowed help (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = reflow_help(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _readable_types(super().get_params(ctx), ctx)


class RetainGroup(typer.core.TyperGroup):
    """A ``retain`` command group (``retain``, ``retain model``, ``retain bench``), shown like its commands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = reflow_help(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _readable_types(super().get_params(ctx), ctx)
