from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from retain.cli import _common

TERMINAL_WIDTH = 80
"""The terminal the 80-column tests run the CLI in."""


@contextmanager
def console_width(width: int) -> Iterator[None]:
    """Pin the width of the CLI's consoles (stdout and stderr) for the duration of the block.

    Rich fixes a console's width when the console is created (from COLUMNS, which differs between runners and
    xdist workers), so ``CliRunner(env={"COLUMNS": ...})`` alone only reaches what Typer creates per call
    (the ``--help`` screens); the CLI's own consoles are pinned here.
    """
    saved = [(c, c.width) for c in (_common.console, _common.err_console)]
    for console, _ in saved:
        console.width = width
    try:
        yield
    finally:
        for console, previous in saved:
            console.width = previous


@pytest.fixture(autouse=True)
def wide_console():
    """One fixed, wide terminal by default, so that the tests reading values out of tables see whole lines."""
    with console_width(200):
        yield


@pytest.fixture
def console_80(wide_console):
    """An 80-column terminal (after the wide default, which it overrides)."""
    with console_width(TERMINAL_WIDTH):
        yield TERMINAL_WIDTH
