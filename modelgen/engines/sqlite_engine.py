"""SQLite (Python's sqlite3): a fresh in-memory database per call."""

from __future__ import annotations

import sqlite3
from typing import Any

from modelgen.engines.dbapi import run_in_fresh_database


def run(query: str, table: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Create ``table`` with ``columns`` (name, SQL type), insert ``rows``, return ``query``'s rows."""
    return run_in_fresh_database(
        lambda: sqlite3.connect(":memory:"), query, table, columns, rows, type_names={"BIGINT": "INTEGER"}
    )
