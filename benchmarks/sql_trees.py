"""Measure the SQL target on tree ensembles: emit time, query size, engine plan and run time.

    python benchmarks/sql_trees.py --sklearn rf1000,gb1000,hgb500 [--cache DIR] [--rows 10000]
    python benchmarks/sql_trees.py [--trees 1000] [--depth 8] [--split-probability 1.0]
                                   [--boosting] [--rows 10000] [--dialect duckdb --dialect sqlite]

``--sklearn``: the models of ``benchmarks/trees.py`` (same estimators, training data and
rows), trained here (or loaded from ``--cache``), lowered by modelgen, emitted per dialect,
and every row's output compared bit for bit with scikit-learn's ``predict``; ``rfc1000`` is
``benchmarks/compile_time.py``'s 3-class forest (its cached pickle), every ``predict_proba``
column compared bit for bit and the label as text. ``--sqlite-split`` runs SQLite's query
again from its cached statement: execution alone (prepare = run - execute).
Otherwise the model is built directly in IR (random splits over 20 double inputs, ``Lookup``
leaf values, one ordered ``Sum``; a forest divides by the number of trees), as in
``tests/emitters/test_sql_trees.py``, and a sample of rows is checked bit for bit against
``modelgen.ir.evaluate``. "plan" is the time to prepare the statement (DuckDB: ``PREPARE``,
i.e. parse, bind and optimize, with the parse alone in parentheses; ``EXPLAIN`` would also
render every constant as text, seconds for the node arrays; SQLite: ``EXPLAIN`` and its first
row, i.e. its compile to bytecode), "run" the time to execute the query text and fetch every row (a second plan
included). DuckDB runs with one thread (the machine is shared; times are wall clock and CPU,
best of one). ``--duckdb-case`` prints DuckDB's trees as nested CASEs (its node tables off).
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_sql import compile_query, ensemble, random_rows
from trees import MODELS, make_data

from modelgen.engines import ROW_KEY
from modelgen.ir import Lookup, topological_order
from modelgen.ir.evaluate import evaluate

N_FEATURES = 20


PG_JIT = ["off"]
"""PostgreSQL's ``jit`` setting for the session (``--pg-jit``)."""


def _connect_postgres(rows: list[dict[str, Any]]) -> Any:
    """A connection to the throwaway cluster with temporary table ``input`` holding ``rows``."""
    import psycopg

    from modelgen.engines.pg_cluster import get_cluster

    connection = psycopg.connect(get_cluster().conninfo, autocommit=True)
    # PostgreSQL's JIT (on by default where the server has LLVM) compiles every expression of
    # the query before the first row: ~12 s on a 100-tree model, minutes on 1,000 trees, the
    # same rows 0.6 s without it. The README tells users to run modelgen's SQL with jit off.
    connection.execute(f"SET jit = {PG_JIT[0]}")
    columns = ", ".join(f'"x{i}" DOUBLE PRECISION' for i in range(N_FEATURES))
    connection.execute(f'CREATE TEMPORARY TABLE "input" ("{ROW_KEY}" BIGINT, {columns})')
    with connection.cursor() as cursor, cursor.copy('COPY "input" FROM STDIN') as copy:
        for i, row in enumerate(rows):
            copy.write_row([i, *(row[f"x{j}"] for j in range(N_FEATURES))])
    connection.execute('ANALYZE "input"')
    return connection


class _SparkConnection:
    """Spark's session behind the three calls this script makes (execute, fetchall, close)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        from pyspark.sql.types import DoubleType, LongType, StructField, StructType

        from modelgen.engines.spark_engine import get_session

        self.session = get_session()
        fields = [StructField(ROW_KEY, LongType())] + [StructField(f"x{i}", DoubleType()) for i in range(N_FEATURES)]
        values = [(i, *(row[f"x{j}"] for j in range(N_FEATURES))) for i, row in enumerate(rows)]
        self.session.createDataFrame(values, schema=StructType(fields)).createOrReplaceTempView("input")
        self.frame: Any = None

    def execute(self, query: str) -> _SparkConnection:
        self.frame = self.session.sql(query.strip().rstrip(";"))
        return self

    def fetchall(self) -> list[Any]:
        return [tuple(row) for row in self.frame.collect()]

    def close(self) -> None:
        self.session.catalog.dropTempView("input")


def _connect(dialect: str, rows: list[dict[str, Any]]) -> Any:
    if dialect == "postgres":
        return _connect_postgres(rows)
    if dialect == "spark":
        return _SparkConnection(rows)
    connection = duckdb.connect(config={"threads": 1}) if dialect == "duckdb" else sqlite3.connect(":memory:")
    real = "DOUBLE" if dialect == "duckdb" else "REAL"
    columns = ", ".join(f'"x{i}" {real}' for i in range(N_FEATURES))
    connection.execute(f'CREATE TABLE "input" ("{ROW_KEY}" BIGINT, {columns})')
    values = [[i, *(row[f"x{j}"] for j in range(N_FEATURES))] for i, row in enumerate(rows)]
    if dialect == "sqlite":  # a REAL column stores -0.0 as 0: compare with what is stored
        values = [[v if not (isinstance(v, float) and v == 0) else 0.0 for v in r] for r in values]
    marks = ", ".join("?" for _ in range(N_FEATURES + 1))
    connection.executemany(f'INSERT INTO "input" VALUES ({marks})', values)
    return connection


def _plan(connection: Any, dialect: str, query: str) -> str:
    """Prepare ``query`` without running it; the timing as text."""
    wall, cpu = time.perf_counter(), time.process_time()
    if dialect == "duckdb":
        connection.extract_statements(query)
        parsed = time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        connection.execute("PREPARE modelgen_plan AS " + query)
        planned = f"{time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s CPU, parse {parsed:.2f} s)"
        connection.execute("DEALLOCATE modelgen_plan")
        return planned
    if dialect == "postgres":  # parse, analyze and plan; EXPLAIN without VERBOSE prints no expressions
        connection.execute("EXPLAIN " + query).fetchall()
        return f"{time.perf_counter() - wall:.2f} s"
    if dialect == "spark":  # parse and analyze (session.sql), then optimize and plan physically
        connection.execute(query).frame._jdf.queryExecution().executedPlan()
        return f"{time.perf_counter() - wall:.2f} s"
    # prepare (and one step of the EXPLAIN listing: fetching it all would turn every VDBE
    # opcode into a Python row, seconds on a forest)
    connection.execute("EXPLAIN " + query).fetchone()
    return f"{time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s CPU)"


def _run(connection: Any, query: str) -> tuple[list[Any], str]:
    wall, cpu = time.perf_counter(), time.process_time()
    if hasattr(connection, "cursor") and not isinstance(connection, (sqlite3.Connection, duckdb.DuckDBPyConnection)):
        with connection.cursor(binary=True) as cursor:  # PostgreSQL: float8 as its 64 bits
            got = cursor.execute(query).fetchall()
        return got, f"{time.perf_counter() - wall:.2f} s (server time; client CPU {time.process_time() - cpu:.2f} s)"
    got = connection.execute(query).fetchall()
    return got, f"{time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s CPU)"


def _bits(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return struct.pack("<d", value)


def _sklearn_model(key: str, cache: Path) -> Path:
    import joblib
    from threadpoolctl import threadpool_limits

    path = cache / f"{key}.joblib"
    if not path.exists():
        spec = MODELS[key]
        x, y = make_data(spec.train_rows, seed=1, missing=spec.missing)
        model = spec.build()
        with threadpool_limits(1):
            model.fit(x, y)
        if hasattr(model, "n_jobs"):
            model.set_params(n_jobs=1)
        cache.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, path)
    return path


def _classifier(key: str) -> tuple[Any, Any, Path]:
    """``compile_time.py``'s classifier ``key`` (rfc1000), its pickle cached where that script keeps it."""
    import compile_time

    spec = compile_time.SPECS[key]
    path = compile_time.trained(spec, Path("/tmp/modelgen_compile_time"))
    return spec, compile_time.make_data, path


def _references(key: str, cache: Path, n_rows: int) -> tuple[Path, Any, dict[str, Any]]:
    """(model file, rows, expected outputs by name): ``predict`` for a regressor; every class's
    ``predict_proba`` column and the label for the classifier (``rfc1000``)."""
    import joblib
    import numpy as np

    if key in MODELS:
        path = _sklearn_model(key, cache)
        x, _ = make_data(n_rows, seed=2, missing=MODELS[key].missing)
        estimator = joblib.load(path)
        return path, x, {"prediction": np.ascontiguousarray(estimator.predict(x), dtype=np.float64)}
    import pickle

    spec, make, path = _classifier(key)
    with path.open("rb") as handle:
        estimator = pickle.load(handle)
    x, _ = make(n_rows, seed=2, missing=spec.missing, classes=spec.classes)
    probabilities = estimator.predict_proba(x)
    expected: dict[str, Any] = {
        f"probability_{label}": np.ascontiguousarray(probabilities[:, k], dtype=np.float64)
        for k, label in enumerate(estimator.classes_)
    }
    expected["label"] = estimator.predict(x)
    return path, x, expected


def _differing(got: list[Any], names: list[str], expected: dict[str, Any]) -> int:
    """Rows where any output differs from the reference (doubles as 64-bit patterns, labels as text)."""
    import numpy as np

    bad = np.zeros(len(got), dtype=bool)
    for column, name in enumerate(names, start=1):
        reference = expected[name]
        if reference.dtype.kind in "US":
            bad |= np.array([r[column] for r in got], dtype=object) != reference.astype(object)
            continue
        values = np.array([math.nan if r[column] is None else r[column] for r in got], dtype=np.float64)
        same = (values.view(np.int64) == reference.view(np.int64)) | (np.isnan(values) & np.isnan(reference))
        bad |= ~same
    return int(bad.sum())


def _sqlite_execute(connection: Any, query: str) -> str:
    """SQLite's execution alone: the stdlib module caches prepared statements by text, so running
    the text ``_run`` ran again only resets and steps the statement (prepare = run - this)."""
    wall, cpu = time.perf_counter(), time.process_time()
    connection.execute(query).fetchall()
    return f"execute {time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s CPU)"


def measure_sklearn(keys: list[str], cache: Path, n_rows: int, dialects: list[str], split: bool = False) -> None:
    """One line per (model, dialect): lower and emit time, query size, plan and run time, parity."""
    from emitters.base import EmitOptions
    from modelgen import compiler

    for key in keys:
        path, x, expected = _references(key, cache, n_rows)
        started = time.process_time()
        model = compiler.lower(path)
        lowered = time.process_time() - started
        names = [output.name for output in model.outputs]
        rows = [{f"x{j}": (None if math.isnan(v) else float(v)) for j, v in enumerate(r)} for r in x.tolist()]
        print(f"{key}: lowered in {lowered:.1f} s CPU", flush=True)
        for dialect in dialects:
            started = time.process_time()
            program = compiler.emit(model, "sql", EmitOptions(dialect=dialect, keys=(ROW_KEY,)))
            emitted = time.process_time() - started
            query = program.files[0][1]
            connection = _connect(dialect, rows)
            planned = _plan(connection, dialect, query)
            # printed before the run: an engine that fails or hangs running it still reports its plan
            print(f"{key} {dialect}: {len(query.encode()) / 1e6:.1f} MB planned in {planned}", flush=True)
            got, ran = _run(connection, query)
            got.sort(key=lambda r: int(r[0]))
            differing = _differing(got, names, expected)
            extra = f", {_sqlite_execute(connection, query)}" if split and dialect == "sqlite" else ""
            print(
                f"{key} {dialect}: emit {emitted:.2f} s CPU, {len(query.encode()) / 1e6:.1f} MB, "
                f"plan {planned}, run {ran} on {n_rows} rows{extra}, "
                f"{differing} of {n_rows} rows differ from scikit-learn in bits ({', '.join(names)})",
                flush=True,
            )
            connection.close()


def main() -> None:
    """Build, emit, run and check one ensemble per dialect; print one line per dialect."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sklearn", help="comma-separated: benchmarks/trees.py's rf1000,gb1000,hgb500 or compile_time.py's rfc1000"
    )
    parser.add_argument("--sqlite-split", action="store_true", help="SQLite: also time prepare and execution apart")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/modelgen_sql_trees"), help="trained models (joblib)")
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--split-probability", type=float, default=1.0)
    parser.add_argument("--boosting", action="store_true")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--check", type=int, default=200, help="rows compared with the IR interpreter")
    parser.add_argument("--dialect", action="append", choices=["duckdb", "sqlite", "postgres", "spark"])
    parser.add_argument("--pg-jit", choices=["on", "off"], default="off", help="PostgreSQL's jit setting")
    parser.add_argument("--duckdb-case", action="store_true", help="DuckDB trees as nested CASEs, not node tables")
    args = parser.parse_args()
    PG_JIT[0] = args.pg_jit
    if args.duckdb_case:
        from emitters.sql.dialects import DuckDBDialect

        DuckDBDialect.table_trees = False
    if args.sklearn:
        dialects = args.dialect or ["duckdb", "sqlite"]
        measure_sklearn(args.sklearn.split(","), args.cache, args.rows, dialects, args.sqlite_split)
        return
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
        planned = _plan(connection, dialect, query)
        got, ran = _run(connection, query)
        stored = [dict(zip([f"x{j}" for j in range(N_FEATURES)], r[1:])) for r in connection.execute(
            'SELECT * FROM input ORDER BY 1').fetchall()[: args.check]]
        got.sort(key=lambda r: int(r[0]))
        bad = sum(
            _bits(evaluate(model, row)["prediction"]) != _bits(out[1]) for row, out in zip(stored, got[: args.check])
        )
        print(
            f"{dialect}: emit {emitted:.1f}s, {len(query) / 1e6:.1f} MB, plan {planned}, "
            f"run {ran} on {args.rows} rows, {bad} of {len(stored)} checked rows differ"
        )


if __name__ == "__main__":
    main()
