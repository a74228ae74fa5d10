"""Printing values that come from data: never markup, never terminal control.

Ids, names, ticket categories, reasons, plan and segment names, file paths and error messages that quote input
are written by whoever produced the data. Through Rich they could do two kinds of harm:

- **markup**: ``[/]`` or ``[/bold]`` raises ``MarkupError`` (the command crashes); ``[link=https://…]x[/link]``
  becomes a clickable hyperlink; ``[red]`` restyles the output;
- **control characters**: ``\\x1b[31m`` recolours the terminal, ``\\x1b]8;;http://…\\x1b\\\\`` makes an OSC-8
  hyperlink, ``\\r`` and backspace overwrite what was printed, bidirectional overrides (U+202E) make text read
  backwards.

:func:`safe_text` turns such a value into a :class:`rich.text.Text` (which Rich never parses for markup) with
every control character shown as its escape (``\\x1b``, ``\\u202e``), so a person sees exactly what the data
holds. :func:`safe_markup` does the same for the rare place that needs a markup string (a value inside a
``console.print(f"[bold]…[/] {value}")``). Every data value the CLI prints goes through one of the two.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape
from rich.text import Text

__all__ = ["safe_markup", "safe_text", "visible_controls"]

_OTHER_CONTROLS = (
    "\x7f-\x9f"  # DEL and C1 (with the 8-bit CSI and OSC introducers)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators: line breaks some terminals honour
)
_CONTROLS = re.compile(f"[\x00-\x1f{_OTHER_CONTROLS}]")  # C0 with tab, newline and carriage return
_CONTROLS_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHER_CONTROLS}]")


def _escape_sequence(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character replaced by its visible escape.

    Parameters
    ----------
    text : str
        Any text.
    keep_newlines : bool, default False
        Keep ``\\n`` as a line break (multi-line messages); otherwise it is shown as ``\\x0a`` like any other
        control character, so one value stays on one line of a table.

    Returns
    -------
    str
        ``text`` with C0 and C1 control characters, DEL, bidirectional controls and the Unicode line separators
        written as ``\\xNN`` / ``\\uNNNN``; every other character unchanged.
    """
    return (_CONTROLS_BUT_NEWLINE if keep_newlines else _CONTROLS).sub(_escape_sequence, text)


def _as_str(value: Any) -> str:
    return "" if value is None else str(value)


def safe_text(value: Any, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A data value as Rich text that is shown literally: no markup, no terminal control.

    Parameters
    ----------
    value : Any
        The value (``None`` becomes the empty text); anything else is printed as ``str(value)``.
    style : str, optional
        A style for the whole text, chosen by the CLI (never by the data).
    keep_newlines : bool, default False
        See :func:`visible_controls`.

    Returns
    -------
    rich.text.Text
        Text Rich renders character for character.
    """
    return Text(visible_controls(_as_str(value), keep_newlines=keep_newlines), style=style)


def safe_markup(value: Any, *, keep_newlines: bool = False) -> str:
    """A data value as a Rich markup string that renders literally, for use inside CLI-written markup.

    Parameters
    ----------
    value : Any
        The value (``None`` becomes ``""``).
    keep_newlines : bool, default False
        See :func:`visible_controls`.

    Returns
    -------
    str
        The value with control characters made visible and every ``[`` that could open a tag escaped. As
        with :func:`rich.markup.escape`, a trailing backslash is doubled so that it cannot escape the CLI's
        closing tag after the value (``f"[bold]{safe_markup(v)}[/]"``); put the value before a tag, or use
        :func:`safe_text`, where that matters.
    """
    return escape(visible_controls(_as_str(value), keep_newlines=keep_newlines))
