"""Tables that fit the terminal: ids and numbers whole, long text wrapped, columns left out rather than cut.

Rich shrinks a table that is wider than the terminal by cutting cells (``C000015…``) or folding them
(``C000015`` / ``3``), which is the wrong thing for an id or a number. :func:`fit_table` decides the widths
itself instead:

- a column that is not ``wrap`` (ids, numbers, dates, codes) gets the width of its widest cell: it never wraps
  and is never cut; its header may wrap onto two lines at a space (``retain`` / ``peak MB``);
- a ``wrap`` column (reasons, descriptions, paths) shares what is left, at least ``min_width``, and wraps at
  spaces (folding only a single word longer than the column);
- when that does not fit the width, the ``optional`` columns are left out, in the order given, and the caller
  says which (``Fitted.hidden``); then the wrap columns narrow below ``min_width``. Only when the columns
  that must stay are wider than the terminal on their own do cells fold (never ``…``: nothing is cut).

Every cell is shown literally: a ``str`` cell becomes :class:`~rich.text.Text` without markup parsing, so a
cell can never be read as markup (values from data should still go through :func:`~retain.cli._safe.safe_text`,
which also neutralises control characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box as boxes
from rich.cells import cell_len
from rich.console import Group, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

from retain.errors import InputError

__all__ = ["Col", "Fitted", "choose_columns", "fit_table"]

Cell = Text | str


@dataclass(frozen=True)
class Col:
    """One column of a table printed for people.

    Parameters
    ----------
    name : str
        The name ``--columns`` and ``Fitted.hidden`` use (the data's column name where there is one).
    header : str
        What the header shows.
    justify : {"left", "right", "center"}, default "left"
        Numbers are right-aligned.
    wrap : bool, default False
        Long text that may wrap; everything else keeps its cells on one line.
    min_width : int, default 20
        The narrowest a ``wrap`` column may become before optional columns are left out.
    """

    name: str
    header: str
    justify: JustifyMethod = "left"
    wrap: bool = False
    min_width: int = 20


@dataclass
class Fitted:
    """A table sized for the terminal, its title and caption, and the names of the columns left out to fit.

    Print it (``console.print(fitted)``): the title and caption are lines of their own, wrapped at the
    terminal's width rather than squeezed into a narrow table's.
    """

    table: Table
    hidden: list[str] = field(default_factory=list)
    title: Text | None = None
    caption: Text | None = None

    def __rich__(self) -> Group:
        parts: list[RenderableType] = [self.table]
        if self.title is not None:
            parts.insert(0, self.title)
        if self.caption is not None:
            parts.append(self.caption)
        return Group(*parts)


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)


def _styled(cell: Cell, style: str) -> Text:
    return Text.assemble(_text(cell), style=style)  # the text's own styles over the title's


def _width(text: str) -> int:
    return max((cell_len(line) for line in text.split("\n")), default=0)


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _overhead(columns: int, *, box: boxes.Box | None, show_edge: bool, pad_edge: bool) -> int:
    """Characters a table adds around its cells: borders and one space of padding either side of each cell."""
    borders = ((2 if show_edge else 0) + columns - 1) if box is not None else 0
    padding = 2 * columns - (0 if pad_edge else 2)
    return borders + padding


def fit_table(
    columns: Sequence[Col],
    rows: Sequence[Sequence[Cell] | None],
    *,
    width: int,
    optional: Sequence[str] = (),
    title: Text | str | None = None,
    box: boxes.Box | None = boxes.HEAVY_HEAD,
    show_header: bool = True,
    show_edge: bool = True,
    pad_edge: bool = True,
    caption: Text | str | None = None,
) -> Fitted:
    """A Rich table of ``rows`` no wider than ``width``, keeping ids and numbers whole.

    Parameters
    ----------
    columns : sequence of Col
        The columns, in display order.
    rows : sequence of (sequence of Text or str) or None
        One cell per column; ``None`` ends a section (a horizontal rule between groups of rows).
    width : int
        The terminal width (``console.width``).
    optional : sequence of str
        Names of columns that may be left out when the table is too wide, the first one first. Columns not
        named here are always shown; if they alone are too wide the widest cells fold rather than being cut.
    title, caption : Text or str, optional
        Shown above and below the table (a ``str`` is taken literally, not as markup).
    box, show_header, show_edge, pad_edge
        As for :class:`rich.table.Table`; ``box=None`` draws no lines.

    Returns
    -------
    Fitted
        The table and the names of the optional columns left out (in table order).
    """
    body = [None if row is None else [_text(cell) for cell in row] for row in rows]
    cells = [[row[i].plain for row in body if row is not None] for i in range(len(columns))]
    # A header may wrap at its spaces; a cell of a column that does not wrap may not.
    headers = [_longest_word(c.header) if show_header else 0 for c in columns]
    natural = [max([headers[i], *map(_width, cells[i])]) for i in range(len(columns))]
    floor = [min(n, max(c.min_width, h)) if c.wrap else n for c, n, h in zip(columns, natural, headers, strict=True)]
    shown = list(range(len(columns)))
    drop = [i for name in optional for i, c in enumerate(columns) if c.name == name]

    def needed(indices: list[int]) -> int:
        overhead = _overhead(len(indices), box=box, show_edge=show_edge, pad_edge=pad_edge)
        return sum(floor[i] for i in indices) + overhead

    while drop and needed(shown) > width:
        victim = drop.pop(0)
        if victim in shown:
            shown.remove(victim)
    widths = {i: floor[i] for i in shown}
    spare = width - needed(shown)
    for i in shown:  # still too wide: the wrap columns go below their min_width before anything is cut
        if spare < 0 and columns[i].wrap:
            give = min(-spare, widths[i] - 1)
            widths[i] -= give
            spare += give
    # What is left goes first to the wrap columns (fewer lines of text), then to headers that wrapped.
    wants = [(i, natural[i]) for i in shown if columns[i].wrap]
    wants += [(i, _width(columns[i].header)) for i in shown if not columns[i].wrap and show_header]
    for i, want in wants:
        grow = max(0, min(spare, want - widths[i]))
        widths[i] += grow
        spare -= grow

    table = Table(
        box=box,
        show_header=show_header,
        show_edge=show_edge,
        pad_edge=pad_edge,
    )
    for i in shown:
        c = columns[i]
        table.add_column(Text(c.header), justify=c.justify, width=max(widths[i], 1), overflow="fold")
    for n, row in enumerate(body):
        if row is None:
            continue
        ends = n + 1 < len(body) and body[n + 1] is None
        table.add_row(*(row[i] for i in shown), end_section=ends)
    hidden = [columns[i].name for i in range(len(columns)) if i not in shown]
    return Fitted(
        table,
        hidden,
        title=None if title is None else _styled(title, "table.title"),
        caption=None if caption is None else _styled(caption, "table.caption"),
    )


def choose_columns(spec: str | None, valid: Sequence[str], default: Sequence[str]) -> list[str]:
    """The columns named by a ``--columns a,b,c`` option, in the order given.

    Parameters
    ----------
    spec : str or None
        Comma-separated names; ``None`` or blank for ``default``.
    valid : sequence of str
        Every name that may be chosen.
    default : sequence of str
        The columns shown without the option.

    Returns
    -------
    list of str
        The chosen names, each once.

    Raises
    ------
    InputError
        On an unknown name; the message lists the valid ones.
    """
    if spec is None or not spec.strip():
        return list(default)
    names = list(dict.fromkeys(name.strip() for name in spec.split(",") if name.strip()))
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise InputError(
            f"Unknown column(s) {', '.join(repr(n) for n in unknown)} for --columns. Valid: {', '.join(valid)}."
        )
    return names
