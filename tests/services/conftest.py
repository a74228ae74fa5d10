"""The services tests build their workspaces with the builders of the marts and models tests (and the
platform payloads of the ingest tests)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for folder in ("marts", "models", "ingest"):
    if str(_TESTS / folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / folder))
