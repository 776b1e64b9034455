"""Load rows into a fresh in-memory database and run a query: the part every DB-API engine shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def quote_identifier(name: str) -> str:
    """A double-quoted SQL identifier (standard quoting, ``"`` doubled)."""
    return '"' + name.replace('"', '""') + '"'


def run_in_fresh_database(
    connect: Callable[[], Any],
    query: str,
    table: str,
    columns: list[tuple[str, str]],
    rows: list[list[Any]],
    *,
    type_names: Mapping[str, str] | None = None,
    placeholder: str = "?",
) -> list[dict[str, Any]]:
    """Create ``table`` with ``columns`` (name, SQL type), insert ``rows``, return ``query``'s rows as dicts.

    ``type_names`` renames column types the engine spells differently; ``placeholder`` is the
    driver's parameter marker.
    """
    type_names = type_names or {}
    connection = connect()
    try:
        definition = ", ".join(f"{quote_identifier(name)} {type_names.get(t, t)}" for name, t in columns)
        connection.execute(f"CREATE TABLE {quote_identifier(table)} ({definition})")
        if rows:
            placeholders = ", ".join(placeholder for _ in columns)
            connection.executemany(f"INSERT INTO {quote_identifier(table)} VALUES ({placeholders})", rows)
        cursor = connection.execute(query)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        connection.close()
