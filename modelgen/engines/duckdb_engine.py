"""DuckDB: a fresh in-memory database per call."""

from __future__ import annotations

from typing import Any

import duckdb

from modelgen.engines.dbapi import run_in_fresh_database


def run(query: str, table: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Create ``table`` with ``columns`` (name, SQL type), insert ``rows``, return ``query``'s rows."""
    return run_in_fresh_database(lambda: duckdb.connect(":memory:"), query, table, columns, rows)
