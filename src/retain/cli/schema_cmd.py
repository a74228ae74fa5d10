"""``retain schema``: the data contract, printed."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from retain.cli._common import console, handle_errors, print_json
from retain.cli._tables import Col, Fitted, fit_table
from retain.contract import TABLES, TableSpec, table_spec
from retain.contract.profile import PROFILE
from retain.contract.tables import TableName

__all__ = ["SchemaFormat", "schema"]


class SchemaFormat(StrEnum):
    """How ``retain schema`` prints the contract: tables for people, JSON for scripts."""

    TABLE = "table"
    JSON = "json"


def _spec_table(spec: TableSpec) -> Fitted:
    columns = [
        Col("column", "column"),
        Col("type", "type"),
        Col("required", "required"),
        Col("rules", "rules", wrap=True, min_width=16),
        Col("description", "description", wrap=True, min_width=16),
    ]
    rows = []
    for col in spec.columns:
        rules = col.rules[1:] if col.required else col.rules
        rows.append([col.name, col.type.value, "yes" if col.required else "", "; ".join(rules), col.description])
    rows += [["(row)", "", "", rule.description, ""] for rule in spec.row_rules]
    return fit_table(
        columns, rows, width=console.width, title=f"{spec.name} — key: {' + '.join(spec.key)}", caption=spec.description
    )


@handle_errors
def schema(
    table: Annotated[
        TableName | None, typer.Argument(help="One table; all six when omitted.", case_sensitive=False)
    ] = None,
    format: Annotated[SchemaFormat, typer.Option("--format", help="table (for people) or json.")] = (
        SchemaFormat.TABLE
    ),
    profile: Annotated[
        bool, typer.Option("--profile", help="The customer profile (360) instead: what segments can use.")
    ] = False,
) -> None:
    """Print the canonical tables: columns, types, required, key and rules.

    Examples:
      retain schema orders
      retain schema --format json
      retain schema --profile
    """
    if profile:
        if format is SchemaFormat.JSON:
            print_json(
                [{"name": c.name, "type": c.type.name.lower(), "group": str(c.group), "description": c.description}
                 for c in PROFILE]
            )  # fmt: skip
            return
        columns = [Col("column", "column"), Col("type", "type"), Col("group", "group"),
                   Col("description", "description", wrap=True, min_width=16)]  # fmt: skip
        rows = [[c.name, c.type.name.lower(), str(c.group), c.description] for c in PROFILE]
        console.print(fit_table(columns, rows, width=console.width, title="Customer profile (the 360)"))
        return
    specs = [table_spec(table)] if table else list(TABLES.values())
    if format is SchemaFormat.JSON:
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
