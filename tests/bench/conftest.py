"""Fixtures of the benchmark tests: one small synthetic workspace, prepared the way the benchmark prepares it."""

from __future__ import annotations

import pytest

from retain.bench.analytics_bench import prepare_workspace


@pytest.fixture(scope="session")
def synth_workspace(tmp_path_factory):
    """A workspace holding 1,500 synthetic subscription customers (generated and ingested like the benchmark)."""
    return prepare_workspace(1_500, tmp_path_factory.mktemp("bench"), seed=7)
