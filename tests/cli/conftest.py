from __future__ import annotations

import pytest

from retain.cli import _common


@pytest.fixture(autouse=True)
def wide_console():
    """Rich pins the console width when it is created (from COLUMNS, which differs between runners and xdist
    workers); give the CLI tests one fixed, wide terminal so that table cells are never truncated."""
    saved = [(c, c.width) for c in (_common.console, _common.err_console)]
    for console, _ in saved:
        console.width = 200
    yield
    for console, width in saved:
        console.width = width
