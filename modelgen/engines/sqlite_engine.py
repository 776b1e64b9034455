"""SQLite (Python's sqlite3): a fresh in-memory database per call."""

from __future__ import annotations

import sqlite3
from typing import Any

_TYPES = {"BIGINT": "INTEGER"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run(query: str, table: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Create ``table`` with ``columns`` (name, SQL type), insert ``rows``, return ``query``'s rows."""
    connection = sqlite3.connect(":memory:")
    try:
        definition = ", ".join(f"{_quote(name)} {_TYPES.get(sql_type, sql_type)}" for name, sql_type in columns)
        connection.execute(f"CREATE TABLE {_quote(table)} ({definition})")
        if rows:
            placeholders = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO {_quote(table)} VALUES ({placeholders})", rows)
        cursor = connection.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        connection.close()
