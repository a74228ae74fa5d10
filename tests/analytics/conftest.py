"""Analytics tests use the engine fixtures of tests/conftest.py (``backend``: DuckDB, then PySpark)."""
