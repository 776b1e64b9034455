"""Why a deep boosted forest scores slower in DuckDB SQL than in scikit-learn: the per-step floor.

    python benchmarks/duckdb_tree_floor.py [--rows 20000] [--workdir /tmp/modelgen_sql_speed]

Uses ``benchmarks/sql_speed.py``'s ``gb500`` model (500 trees of depth 8 in a pipeline; trained
there and cached as ``gb500.pkl``, trained here if missing) and its data (seed 2). Everything runs
on one thread (DuckDB ``SET threads = 1``, scikit-learn under ``threadpool_limits(1)``) and is
reported as CPU ns per (row, tree), best of ``--repeats``:

- **scikit-learn**: ``predict_proba`` of the whole pipeline on 5 x ``--rows`` rows; its compiled
  loop walks each tree.
- **modelgen SQL, node arrays** (``table``, the DuckDB default) and **nested CASE** (``case``):
  the generated queries, CTAS on ``--rows`` and on 5 x ``--rows`` rows; the difference over the
  extra rows is the cost per row (planning and DuckDB's per-run set-up of every expression node
  do not grow with the rows).
- **primitives** that any SQL formulation of a tree walk is made of, on 1,000,000 rows:
  a gather (``list[i]``) from a constant 256-element DOUBLE list (per-tree node arrays),
  the same from the whole forest's ~125,000-element list, one walk step as modelgen writes it
  (``kid[n] + CAST(x[feat[n]] > thr[n] AS INTEGER)`` inside ``LIST_TRANSFORM``), and a
  one-node ``CASE`` (``CASE WHEN x <= t THEN a ELSE b END``).

A depth-8 walk needs 8 dependent gathers per (row, tree) in any gather-based formulation, and a
CASE formulation evaluates every node of the tree once per 2,048-row vector on the rows that reach
it. The script prints ``8 x gather`` next to scikit-learn's whole cost per (row, tree): the goal
"faster than scikit-learn" needs that bound below scikit-learn's figure.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sql_speed  # noqa: E402

from modelgen.engines import ROW_KEY  # noqa: E402

PRIMITIVE_ROWS = 1_000_000
SIZE_RATIO = 5


def _best_cpu(action: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        action()
        best = min(best, time.process_time() - started)
    return best


def _ctas(connection: duckdb.DuckDBPyConnection, query: str) -> Callable[[], object]:
    body = query.strip().rstrip(";")
    return lambda: connection.execute("CREATE OR REPLACE TABLE scored AS " + body)


def _primitives(repeats: int, forest_nodes: int) -> dict[str, float]:
    """CPU ns per row of each primitive, over a plain column copy of the same rows."""
    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    connection.execute("SELECT setseed(0.25)")
    connection.execute(
        f"CREATE TABLE t AS SELECT i::BIGINT AS i, (random() * 2 - 1)::DOUBLE AS x, "
        f"(random() * 255)::INTEGER AS j, (random() * {forest_nodes - 1})::INTEGER AS big_j "
        f"FROM range({PRIMITIVE_ROWS}) r(i)"
    )

    def per_row(expression: str) -> float:
        return _best_cpu(_ctas(connection, f"SELECT {expression} AS r FROM t"), repeats) / PRIMITIVE_ROWS * 1e9

    base = per_row("x")
    small = "CAST('[" + ", ".join(repr(0.5 * k) for k in range(256)) + "]' AS DOUBLE[])"
    big = "CAST('[" + ", ".join(repr(0.25 * k) for k in range(forest_nodes)) + "]' AS DOUBLE[])"
    kids = "CAST('[" + ", ".join(str(k % 256 + 1) for k in range(256)) + "]' AS INTEGER[])"
    features = "CAST('[" + ", ".join(str(1 + k % 2) for k in range(256)) + "]' AS INTEGER[])"
    step = "LIST_TRANSFORM([j + 1], LAMBDA n: kid[n] + CAST(xs[feat[n]] > thr[n] AS INTEGER))[1]"
    walk = (f"SELECT {step} AS r FROM (SELECT j, [x, -x] AS xs, {kids} AS kid, {features} AS feat, "
            f"{small} AS thr FROM t)")
    results = {
        "gather from a 256-element constant list": per_row(f"({small})[j + 1]") - base,
        f"gather from a {forest_nodes:,}-element constant list": per_row(f"({big})[big_j + 1]") - base,
        "one-node CASE": per_row("CASE WHEN x <= 0.125 THEN 1.5 ELSE 2.5 END") - base,
    }
    step_cpu = _best_cpu(_ctas(connection, walk), repeats)
    results["one LIST_TRANSFORM walk step (4 gathers, modelgen's form)"] = step_cpu / PRIMITIVE_ROWS * 1e9 - base
    return results


def main() -> None:
    """Measure scikit-learn, modelgen's two DuckDB tree strategies and the primitives; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/modelgen_sql_speed"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from threadpoolctl import threadpool_limits

    spec = sql_speed.SPECS["gb500"]
    path, model, _ = sql_speed._trained(spec, args.workdir)
    booster = model[-1]
    n_trees = len(booster.estimators_)
    depth = max(e[0].tree_.max_depth for e in booster.estimators_)
    forest_nodes = sum(e[0].tree_.node_count for e in booster.estimators_)
    big, _ = sql_speed.make_data(args.rows * SIZE_RATIO, seed=2)
    print(f"gb500: {n_trees} trees, depth {depth}, {forest_nodes:,} nodes; {args.rows:,} rows; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; DuckDB {duckdb.__version__}", flush=True)

    rows: list[tuple[str, float]] = []
    with threadpool_limits(1):
        sklearn_cpu = _best_cpu(lambda: model.predict_proba(big), args.repeats)
    sklearn_ns = sklearn_cpu / len(big) / n_trees * 1e9
    rows.append(("scikit-learn predict_proba (whole pipeline)", sklearn_ns))

    # a query's plan and its per-run set-up (DuckDB builds the state of every expression node per
    # run: ~10 s for the 250,000-node CASE query) do not grow with the rows; the CTAS time at two
    # row counts leaves the cost per row
    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    keyed = big.assign(**{ROW_KEY: np.arange(len(big), dtype=np.int64)})
    connection.register("frame_view", keyed)
    connection.execute('CREATE TABLE "all_rows" AS SELECT * FROM frame_view')
    connection.unregister("frame_view")
    for strategy, table_trees in (("node arrays", True), ("nested CASE", False)):
        query, _ = sql_speed._modelgen_sql(path, "duckdb", table_trees)
        timings = []
        for n_rows in (args.rows, args.rows * SIZE_RATIO):
            connection.execute(
                f'CREATE OR REPLACE TABLE "input" AS SELECT * FROM "all_rows" WHERE "{ROW_KEY}" < {n_rows}'
            )
            timings.append(_best_cpu(_ctas(connection, query), args.repeats))
        per_row = (timings[1] - timings[0]) / (args.rows * (SIZE_RATIO - 1))
        rows.append((f"modelgen SQL, {strategy} (CTAS, per extra row)", per_row / n_trees * 1e9))
        print(f"  {rows[-1][0]}: {rows[-1][1]:.0f} ns (CTAS {timings[0]:.1f} s on {args.rows:,} rows, "
              f"{timings[1]:.1f} s on {args.rows * SIZE_RATIO:,})", flush=True)

    primitives = _primitives(args.repeats, forest_nodes)
    gather = primitives["gather from a 256-element constant list"]
    print()
    print("| CPU ns per (row, tree), 1 thread | ns | vs scikit-learn |")
    print("|---|---:|---:|")
    for name, value in rows:
        print(f"| {name} | {value:,.0f} | {sklearn_ns / value:.2f}x |")
    print(f"| lower bound of any gather walk: {depth} x one gather | {depth * gather:,.0f} | "
          f"{sklearn_ns / (depth * gather):.2f}x |")
    print()
    print("| DuckDB primitive, CPU ns per row (over a plain column copy) | ns |")
    print("|---|---:|")
    for name, value in primitives.items():
        print(f"| {name} | {value:.1f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
