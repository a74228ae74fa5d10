"""The query parameters every list takes: ``limit`` and ``offset`` (the answer carries ``total``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

__all__ = ["MAX_LIMIT", "Limit", "Offset"]

MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000  # far beyond any list, and within every database's integer range

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1 to {MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip before the page.")]
