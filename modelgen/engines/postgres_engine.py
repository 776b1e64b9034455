"""PostgreSQL (psycopg 3) on the shared throwaway cluster: a fresh temporary table per call.

Rows are loaded with their real types (``DOUBLE PRECISION``, ``TEXT``, ``BIGINT``) as bound
parameters; psycopg sends a Python float as text with ``repr``'s shortest round-trip digits
(NaN/inf as ``'NaN'``/``'Infinity'``), which PostgreSQL's ``strtod`` reads back exactly. Results
are fetched in binary format, so every float8 comes back as its exact 64 bits.
"""

from __future__ import annotations

from typing import Any

import psycopg

from modelgen.engines.dbapi import quote_identifier
from modelgen.engines.pg_cluster import get_cluster

_TYPES = {"DOUBLE": "DOUBLE PRECISION", "VARCHAR": "TEXT", "REAL": "DOUBLE PRECISION"}


def run(query: str, table: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Create temporary ``table`` with ``columns`` (name, SQL type), insert ``rows``, return ``query``'s rows."""
    cluster = get_cluster()
    with psycopg.connect(cluster.conninfo, autocommit=True) as connection:
        definition = ", ".join(f"{quote_identifier(name)} {_TYPES.get(t, t)}" for name, t in columns)
        name = quote_identifier(table)
        # a temporary table lives in pg_temp, searched first: the query's unqualified name finds it
        connection.execute(f"CREATE TEMPORARY TABLE {name} ({definition})")
        if rows:
            with connection.cursor() as cursor, cursor.copy(f"COPY {name} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        connection.execute(f"ANALYZE {name}")
        with connection.cursor(binary=True) as cursor:
            cursor.execute(query)  # type: ignore[arg-type]
            names = [d.name for d in cursor.description or ()]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
