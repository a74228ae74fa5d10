"""The lake: immutable Parquet batches per canonical table, written atomically, read as latest-per-key."""

from retain.lake.layout import Lake, make_batch_id
from retain.lake.reader import batch_metadata, read_table
from retain.lake.view import LakeView
from retain.lake.writer import BatchWriter

__all__ = ["BatchWriter", "Lake", "LakeView", "batch_metadata", "make_batch_id", "read_table"]
