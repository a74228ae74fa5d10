"""Ingestion: read files and in-memory tables, validate them against the contract, commit lake batches."""

from retain.ingest.mapping import ColumnPlan, parse_assignments, plan_columns
from retain.ingest.pipeline import IngestOptions, IngestResult, IngestStatus, ingest
from retain.ingest.sources import open_source

__all__ = [
    "ColumnPlan",
    "IngestOptions",
    "IngestResult",
    "IngestStatus",
    "ingest",
    "open_source",
    "parse_assignments",
    "plan_columns",
]
