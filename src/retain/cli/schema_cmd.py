"""``retain schema``: the data contract, printed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from retain.cli._common import console, handle_errors, print_json
from retain.contract import TABLES, TableSpec, table_spec

__all__ = ["schema"]


def _spec_table(spec: TableSpec) -> Table:
    table = Table(title=f"{spec.name} — key: {' + '.join(spec.key)}", caption=spec.description, title_justify="left")
    for header in ("column", "type", "required", "rules", "description"):
        table.add_column(header)
    for col in spec.columns:
        rules = col.rules[1:] if col.required else col.rules
        table.add_row(col.name, col.type.value, "yes" if col.required else "", "; ".join(rules), col.description)
    for rule in spec.row_rules:
        table.add_row("(row)", "", "", rule.description, "")
    return table


@handle_errors
def schema(
    table: Annotated[str | None, typer.Argument(help="One table; all six when omitted.")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Print the canonical tables: columns, types, required, key and rules."""
    specs = [table_spec(table)] if table else list(TABLES.values())
    if format == "json":
        print_json(
            [
                {
                    "table": str(s.name),
                    "key": list(s.key),
                    "columns": [
                        {"name": c.name, "type": c.type.value, "required": c.required, "rules": c.rules}
                        for c in s.columns
                    ],
                    "row_rules": [r.description for r in s.row_rules],
                }
                for s in specs
            ]
        )
        return
    for spec in specs:
        console.print(_spec_table(spec))
