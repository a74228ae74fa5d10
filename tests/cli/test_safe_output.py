"""Values from data print literally: no markup, no hyperlinks, no terminal control (retain.cli._safe)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from retain.cli._safe import safe_markup, safe_text, visible_controls

HOSTILE = [
    "[/]",
    "[/bold]",
    "[link=https://evil.example]click[/link]",
    "[red]alarm[/red]",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    "back\bspace and\rreturn",
    "right\u202eto left",
    "trailing backslash \\",
    ":warning: emoji code",
]


def _terminal() -> tuple[Console, io.StringIO]:
    """A console that believes it is a colour terminal: it would emit styles and OSC-8 hyperlinks."""
    out = io.StringIO()
    return Console(file=out, force_terminal=True, color_system="truecolor", width=200, emoji=False), out


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_text_renders_every_character_of_the_value_and_no_control_sequence(value):
    console, out = _terminal()
    console.print(safe_text(value), end="")
    printed = out.getvalue()
    assert printed == visible_controls(value)  # exactly the value, control characters spelled out
    assert "\x1b" not in printed and "\x07" not in printed and "\r" not in printed


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_markup_inside_cli_markup_keeps_the_cli_style_and_the_literal_value(value):
    console, out = _terminal()
    console.print(f"[bold]id: {safe_markup(value)}[/] next", end="", highlight=False)
    printed = out.getvalue()
    # The CLI's own bold around exactly the value (control characters spelled out), then plain text.
    assert printed == f"\x1b[1mid: {visible_controls(value)}\x1b[0m next"
    assert "\x1b]8;" not in printed  # no OSC-8 hyperlink


def test_control_characters_are_spelled_out():
    assert visible_controls("a\x1b[31mb") == "a\\x1b[31mb"
    assert visible_controls("osc\x1b]8;;http://x\x1b\\") == "osc\\x1b]8;;http://x\\x1b\\"
    assert visible_controls("tab\tnl\ncr\rdel\x7fc1\x9b") == "tab\\x09nl\\x0acr\\x0ddel\\x7fc1\\x9b"
    assert visible_controls("bidi\u202e\u2066 sep\u2028") == "bidi\\u202e\\u2066 sep\\u2028"
    assert visible_controls("multi\nline", keep_newlines=True) == "multi\nline"
    assert visible_controls("plain text, Zürich, 東京 — 100 %") == "plain text, Zürich, 東京 — 100 %"


def test_none_is_the_empty_text_and_other_values_are_str():
    assert safe_text(None).plain == "" and safe_markup(None) == ""
    assert safe_text(12.5).plain == "12.5"
