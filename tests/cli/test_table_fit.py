"""Tables sized for the terminal (retain.cli._tables) and the wide views built on them, at 80 columns.

Each table is rendered on an 80-column console and read back: no line is wider than 80, ids and numbers
appear whole on one line and never as ``…``, long text wraps at spaces, and what was left out is named.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from terminal80 import WIDTH, cells, too_long

from retain.cli._tables import Col, choose_columns, fit_table
from retain.errors import InputError


def _render(renderable, width: int = WIDTH) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(renderable)
    return out.getvalue()


def _assert_readable(output: str) -> None:
    assert too_long(output) == []
    assert "…" not in output


LONG_REASON = "on the business plan; renewal in 8 days and usage falling; based in US; no login for 103 days"


def test_ids_and_numbers_stay_whole_and_long_text_wraps_at_spaces():
    columns = [Col("id", "customer"), Col("amount", "revenue at risk", "right"), Col("why", "why", wrap=True)]
    rows = [["C0000000153", "1,234,567", LONG_REASON], ["C2", "3", "short"]]
    output = _render(fit_table(columns, rows, width=WIDTH))
    _assert_readable(output)
    table = cells(output)
    assert ["C0000000153", "1,234,567"] in [row[:2] for row in table]  # one line each, whole
    assert ["C2", "3", "short"] in table
    start = [row[0] for row in table].index("C0000000153")
    first = [row[2] for row in table[start : table.index(["C2", "3", "short"])]]
    assert " ".join(first) == LONG_REASON  # wrapped at spaces, nothing lost


def test_optional_columns_are_left_out_in_order_and_named():
    columns = [Col(f"c{i}", f"column {i}", "right") for i in range(12)]
    rows = [[f"{1_000_000 + i:,}" for i in range(12)]]
    fitted = fit_table(columns, rows, width=WIDTH, optional=[f"c{i}" for i in range(11, 0, -1)])
    output = _render(fitted)
    _assert_readable(output)
    shown = 12 - len(fitted.hidden)
    assert fitted.hidden == [f"c{i}" for i in range(shown, 12)]  # the last ones went first
    assert cells(output)[-1] == [f"{1_000_000 + i:,}" for i in range(shown)]


def test_required_columns_wider_than_the_terminal_fold_but_are_never_cut():
    columns = [Col("id", "id"), Col("n", "n", "right")]
    rows = [["X" * 100, "12345"]]
    output = _render(fit_table(columns, rows, width=WIDTH))
    assert "…" not in output
    assert "".join(row[0] for row in cells(output)[1:]) == "X" * 100  # folded over lines, every character there
    assert "".join(row[1] for row in cells(output)[1:]) == "12345"


def test_cells_are_never_read_as_markup():
    output = _render(fit_table([Col("a", "a")], [["[/bold]"], ["[link=https://evil.example]x[/link]"]], width=WIDTH))
    assert "[/bold]" in output and "[link=https://evil.example]x[/link]" in output


def test_choose_columns_keeps_the_order_given_and_refuses_unknown_names_listing_the_valid_ones():
    valid = ["rank", "customer_id", "reasons"]
    assert choose_columns(None, valid, ["rank"]) == ["rank"]
    assert choose_columns(" reasons, rank ,reasons", valid, ["rank"]) == ["reasons", "rank"]
    with pytest.raises(InputError, match=r"Unknown column\(s\) 'nope' for --columns\. Valid: rank, customer_id"):
        choose_columns("rank,nope", valid, ["rank"])
