"""Run a generated SQL query against an in-memory database of one engine (tests, ``verify``).

Each engine module exposes ``run(query, table, columns, rows) -> list[dict]`` over already
typed columns; this module maps IR types to the engine's column types and orders results.

The input table gets a hidden integer column :data:`ROW_KEY` (0, 1, ...). Compile the query
with ``keys=(ROW_KEY, ...)`` and the rows come back in input order whatever the engine's
plan does (the key is removed from the returned dicts); without it they come back in the
engine's own order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from modelgen.engines import duckdb_engine, postgres_engine, spark_engine, sqlite_engine
from modelgen.errors import ModelgenError
from modelgen.ir.types import DOUBLE, STRING, DType

ROW_KEY = "__modelgen_row"
"""Hidden input-order column every table gets; pass it as the first ``--key`` to keep row order."""

Runner = Callable[[str, str, list[tuple[str, str]], list[list[Any]]], list[dict[str, Any]]]

ENGINES: dict[str, tuple[Runner, dict[DType, str]]] = {
    "duckdb": (duckdb_engine.run, {DOUBLE: "DOUBLE", STRING: "VARCHAR"}),
    "sqlite": (sqlite_engine.run, {DOUBLE: "REAL", STRING: "TEXT"}),
    "postgres": (postgres_engine.run, {DOUBLE: "DOUBLE PRECISION", STRING: "TEXT"}),
    "spark": (spark_engine.run, {DOUBLE: "DOUBLE", STRING: "STRING"}),
}
"""dialect -> (runner, column type per input dtype). PostgreSQL etc. add one line here."""

_KEY_TYPE = "VARCHAR"


def _cell(value: Any, dtype: DType) -> Any:
    # NaN is the IR's missing number: stored as NULL everywhere (SQLite cannot store NaN)
    if dtype is DOUBLE and isinstance(value, float) and math.isnan(value):
        return None
    return value


def run_query(
    dialect: str,
    query: str,
    table: str,
    inputs: list[tuple[str, DType]],
    rows: list[dict[str, Any]],
    keys: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Create ``table`` (inputs, ``keys`` columns as text, hidden ``ROW_KEY``) in a fresh
    in-memory database of ``dialect``, insert ``rows`` (None = missing), run ``query`` and
    return its rows as dicts (NULL -> None).

    >>> run_query("sqlite", 'SELECT "x" * 2 AS "y" FROM "input"', "input", [("x", DOUBLE)], [{"x": 1.5}])
    [{'y': 3.0}]
    """
    if dialect not in ENGINES:
        raise ModelgenError(f"no engine for SQL dialect {dialect!r}; known: {', '.join(ENGINES)}")
    runner, types = ENGINES[dialect]
    keys = keys or {}
    for name, values in keys.items():
        if len(values) != len(rows):
            raise ModelgenError(f"key column {name!r} has {len(values)} values for {len(rows)} rows")
    columns = [(ROW_KEY, "BIGINT")]
    columns += [(name, types[dtype]) for name, dtype in inputs]
    columns += [(name, _KEY_TYPE) for name in keys]
    values = [
        [index, *(_cell(row.get(name), dtype) for name, dtype in inputs), *(keys[k][index] for k in keys)]
        for index, row in enumerate(rows)
    ]
    result = runner(query, table, columns, values)
    if result and ROW_KEY in result[0]:
        result.sort(key=lambda r: int(r[ROW_KEY]))
        for r in result:
            del r[ROW_KEY]
    return result
