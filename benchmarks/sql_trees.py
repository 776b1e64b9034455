"""Measure the SQL target on tree ensembles: emit time, query size, engine plan and run time.

    python benchmarks/sql_trees.py [--trees 1000] [--depth 8] [--split-probability 1.0]
                                   [--boosting] [--rows 10000] [--dialect duckdb --dialect sqlite]

The model is built directly in IR (random splits over 20 double inputs, ``Lookup`` leaf
values, one ordered ``Sum``; a forest divides by the number of trees), as in
``tests/emitters/test_sql_trees.py``. "plan" is the time to prepare the statement (DuckDB:
``EXPLAIN``; SQLite: ``EXPLAIN`` compiles it to bytecode), "run" the time to fetch every row.
A sample of rows is checked bit for bit against ``modelgen.ir.evaluate``.
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import struct
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "emitters"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers_sql import compile_query, ensemble, random_rows

from modelgen.engines import ROW_KEY
from modelgen.ir import Lookup, topological_order
from modelgen.ir.evaluate import evaluate

N_FEATURES = 20


def _connect(dialect: str, rows: list[dict[str, Any]]) -> Any:
    connection = duckdb.connect() if dialect == "duckdb" else sqlite3.connect(":memory:")
    real = "DOUBLE" if dialect == "duckdb" else "REAL"
    columns = ", ".join(f'"x{i}" {real}' for i in range(N_FEATURES))
    connection.execute(f'CREATE TABLE "input" ("{ROW_KEY}" BIGINT, {columns})')
    values = [[i, *(row[f"x{j}"] for j in range(N_FEATURES))] for i, row in enumerate(rows)]
    if dialect == "sqlite":  # a REAL column stores -0.0 as 0: compare with what is stored
        values = [[v if not (isinstance(v, float) and v == 0) else 0.0 for v in r] for r in values]
    marks = ", ".join("?" for _ in range(N_FEATURES + 1))
    connection.executemany(f'INSERT INTO "input" VALUES ({marks})', values)
    return connection


def _bits(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return struct.pack("<d", value)


def main() -> None:
    """Build, emit, run and check one ensemble per dialect; print one line per dialect."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--split-probability", type=float, default=1.0)
    parser.add_argument("--boosting", action="store_true")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--check", type=int, default=200, help="rows compared with the IR interpreter")
    parser.add_argument("--dialect", action="append", choices=["duckdb", "sqlite"])
    args = parser.parse_args()
    started = time.perf_counter()
    model = ensemble(
        args.trees, args.depth, N_FEATURES, seed=1, split_probability=args.split_probability, boosting=args.boosting
    )
    leaves = sum(n.index.n_leaves for n in topological_order(model.roots) if isinstance(n, Lookup))
    built = time.perf_counter() - started
    print(f"model: {args.trees} trees, depth {args.depth}, {leaves} leaves, built in {built:.1f}s")
    rows = random_rows(random.Random(3), N_FEATURES, args.rows)
    for dialect in args.dialect or ["duckdb", "sqlite"]:
        started = time.perf_counter()
        query = compile_query(model, dialect)
        emitted = time.perf_counter() - started
        connection = _connect(dialect, rows)
        started = time.perf_counter()
        connection.execute("EXPLAIN " + query).fetchall()
        planned = time.perf_counter() - started
        started = time.perf_counter()
        got = connection.execute(query).fetchall()
        ran = time.perf_counter() - started
        stored = [dict(zip([f"x{j}" for j in range(N_FEATURES)], r[1:])) for r in connection.execute(
            'SELECT * FROM "input" ORDER BY 1').fetchall()[: args.check]]
        got.sort(key=lambda r: int(r[0]))
        bad = sum(
            _bits(evaluate(model, row)["prediction"]) != _bits(out[1]) for row, out in zip(stored, got[: args.check])
        )
        print(
            f"{dialect}: emit {emitted:.1f}s, {len(query) / 1e6:.1f} MB, plan {planned:.1f}s, "
            f"run {ran:.1f}s on {args.rows} rows, {bad} of {len(stored)} checked rows differ"
        )


if __name__ == "__main__":
    main()
