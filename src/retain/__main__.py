"""``python -m retain`` runs the CLI."""

from retain.cli.main import app

app(prog_name="retain")
