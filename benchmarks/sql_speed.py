"""In-database scoring speed: modelgen's SQL on DuckDB vs scikit-learn vs orbital's SQL, one run.

    python benchmarks/sql_speed.py [--rows 1000000] [--models lr,gb500] [--subset-rows 20000]
                                   [--json out.json] [--workdir /tmp/modelgen_sql_speed]

Two churn-like pipelines on synthetic data (six double columns ``x0..x5``, two string
categoricals ``plan`` and ``region``), trained here on 10,000 rows (cached as pickles in
``--workdir``; delete one to retrain):

- ``lr``: ``ColumnTransformer(StandardScaler on x0..x5, OneHotEncoder on plan, region)`` +
  ``LogisticRegression``;
- ``gb500``: ``ColumnTransformer(passthrough x0..x5, OneHotEncoder)`` +
  ``GradientBoostingClassifier(n_estimators=500, max_depth=8)`` (orbital 0.6 converts both
  through skl2onnx: ``TreeEnsembleClassifier``).

``--rows`` rows (seed 2) are loaded once into a DuckDB table ``input`` with a row key. Timed in
one run, per model:

- **modelgen on DuckDB**: the query from ``compiler.lower`` + ``compiler.emit(..., "sql",
  dialect="duckdb")``; "plan" is ``PREPARE`` (parse + bind + optimize), "run" is
  ``CREATE TABLE … AS <query>`` (every output column materialised, so nothing is pruned and no
  result crosses into Python; it plans again). Both at DuckDB's default thread count and at 1
  thread. For tree models each DuckDB tree strategy is a row: ``table`` (node arrays, the
  default) and ``case`` (nested CASE per tree). For ``lr`` also **modelgen, orbital's columns**:
  ``SELECT label, probability_0, probability_1 FROM (<modelgen's query without the key>)``, the
  columns orbital's query returns (modelgen's label is a string, the contract's class string
  form; orbital's is the class as scikit-learn holds it, here an integer).
  Every DuckDB query runs ``--repeats`` times, interleaved in a new order each round (a run
  over 20 s is not repeated): best and median are reported, ratios use the best runs.
- **scikit-learn**: pulling the feature columns into pandas (``.df()``) and ``predict_proba``
  on one thread (``OMP_NUM_THREADS=1`` + ``threadpool_limits(1)``); the label is derived from
  the same probabilities. "sklearn total" = pull + predict.
- **orbital**: ``orbital.parse_pipeline`` + ``orbital.export_sql(..., dialect="duckdb")``
  (``optimize=False`` for gb500: its sqlglot optimizer takes many minutes on 500 trees; the
  export is cached in ``--workdir``), run the same way (CTAS).

Parity: share of rows whose ``probability_1`` (orbital: ``output_probability.1``) has the same
64 bits as scikit-learn's ``predict_proba[:, 1]``; modelgen's rows come back by key, orbital's in
DuckDB's insertion order (``preserve_insertion_order`` is on by default), checked on the whole
table. PostgreSQL (throwaway cluster of ``modelgen.engines.pg_cluster``) and SQLite run
modelgen's query for their dialect on the first ``--subset-rows`` rows (CTAS into a temporary
table): rows/s and parity on those rows.

The goal (issue 4): modelgen's DuckDB SQL faster than scikit-learn (pull + predict) and than
orbital's SQL for both models; the ratios printed use the *same thread count* on both sides:
DuckDB at 1 thread vs scikit-learn's single thread is the goal's ratio, DuckDB's default
threads are shown next to it.
"""

from __future__ import annotations

import os

# numpy/OpenMP read these once, at import: single-threaded scikit-learn
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modelgen.engines import ROW_KEY  # noqa: E402

NUMERIC = [f"x{i}" for i in range(6)]
CATEGORIES = {"plan": ["basic", "plus", "pro", "team"], "region": ["north", "south", "east", "west", "central"]}
FEATURES = [*NUMERIC, *CATEGORIES]
TRAIN_ROWS = 10_000


def make_data(n_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Synthetic churn-like rows: normal doubles, uniform categories, a nonlinear label."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.normal(size=n_rows) for name in NUMERIC})
    for name, values in CATEGORIES.items():
        frame[name] = rng.choice(values, n_rows)
    signal = frame.x0 - 0.5 * frame.x1 + frame.x2 * frame.x3 + 0.8 * (frame.plan == "pro") - 0.5 * (
        frame.region == "east"
    )
    label = (signal + 0.5 * rng.normal(size=n_rows) > 0).astype(np.int64).to_numpy()
    return frame, label


def _build_lr() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer(
        [("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORIES))]
    )
    return Pipeline([("pre", columns), ("clf", LogisticRegression())])


def _build_gb500() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    columns = ColumnTransformer(
        [("num", "passthrough", NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORIES))]
    )
    boosting = GradientBoostingClassifier(n_estimators=500, max_depth=8, random_state=0)
    return Pipeline([("pre", columns), ("clf", boosting)])


@dataclass(frozen=True)
class Spec:
    """One benchmarked pipeline."""

    key: str
    build: Callable[[], Any]
    trees: bool
    orbital_optimize: bool


SPECS = {
    "lr": Spec("lr", _build_lr, trees=False, orbital_optimize=True),
    "gb500": Spec("gb500", _build_gb500, trees=True, orbital_optimize=False),
}


def _timed(action: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _trained(spec: Spec, workdir: Path) -> tuple[Path, Any, float]:
    """(pickle path, fitted pipeline, fit seconds or 0 when cached)."""
    from threadpoolctl import threadpool_limits

    path = workdir / f"{spec.key}.pkl"
    if path.exists():
        with path.open("rb") as handle:
            return path, pickle.load(handle), 0.0
    frame, label = make_data(TRAIN_ROWS, seed=1)
    model = spec.build()
    with threadpool_limits(1):
        _, fitted, _ = _timed(lambda: model.fit(frame, label))
    with path.open("wb") as handle:
        pickle.dump(model, handle)
    return path, model, fitted


def _orbital_sql(spec: Spec, model: Any, workdir: Path) -> tuple[str | None, dict[str, Any]]:
    """orbital's DuckDB query for ``model`` (cached next to the pickle) and how it was made."""
    path = workdir / f"{spec.key}.orbital.sql"
    meta_path = workdir / f"{spec.key}.orbital.json"
    if path.exists() and meta_path.exists():
        return path.read_text(), json.loads(meta_path.read_text())
    try:
        import orbital
        import orbital.types as otypes
    except ImportError as error:
        return None, {"error": f"orbital not importable: {error}"}
    features: dict[str, Any] = {name: otypes.DoubleColumnType() for name in NUMERIC}
    features.update({name: otypes.StringColumnType() for name in CATEGORIES})
    try:
        parsed, parse_s, _ = _timed(lambda: orbital.parse_pipeline(model, features=features))
        query, export_s, _ = _timed(
            lambda: orbital.export_sql("input", parsed, dialect="duckdb", optimize=spec.orbital_optimize)
        )
    except Exception as error:  # a peer failing is a row saying so, never a crash
        return None, {"error": f"{type(error).__name__}: {error}"[:300]}
    meta = {"parse_s": parse_s, "export_s": export_s, "optimize": spec.orbital_optimize,
            "version": getattr(orbital, "__version__", "0.6.0")}
    path.write_text(query)
    meta_path.write_text(json.dumps(meta))
    return query, meta


def _modelgen_sql(
    model_path: Path, dialect: str, table_trees: bool | None = None, keys: tuple[str, ...] = (ROW_KEY,)
) -> tuple[str, float]:
    """modelgen's query (the key column first, if any) and lower + emit CPU seconds."""
    from emitters.base import EmitOptions
    from emitters.sql.dialects import DuckDBDialect
    from modelgen import compiler

    saved = DuckDBDialect.table_trees
    if table_trees is not None:
        DuckDBDialect.table_trees = table_trees
    try:
        started = time.process_time()
        model = compiler.lower(model_path)
        program = compiler.emit(model, "sql", EmitOptions(dialect=dialect, keys=keys))
        return program.files[0][1], time.process_time() - started
    finally:
        DuckDBDialect.table_trees = saved


def _ordered(values: np.ndarray) -> np.ndarray:
    """Doubles as integers in the same order (adjacent doubles differ by 1): ULP distances."""
    bits = values.view(np.int64)
    return np.where(bits < 0, np.int64(-(2**63)) - bits, bits)


def _parity(got: np.ndarray, expected: np.ndarray) -> dict[str, Any]:
    """Share of rows with the same 64 bits (or both NaN) and the largest ULP distance."""
    got = np.asarray(got, dtype=np.float64)
    both_nan = np.isnan(got) & np.isnan(expected)
    same = (got.view(np.int64) == expected.view(np.int64)) | both_nan
    with np.errstate(over="ignore"):
        difference = _ordered(got) - _ordered(expected)  # wraps only for distances beyond 2**63
    distance = np.where(difference < 0, -difference, difference).astype(np.float64)
    distance[(difference == np.iinfo(np.int64).min) | (np.isnan(got) != np.isnan(expected))] = np.inf
    distance[both_nan] = 0.0
    return {"bit_identical": float(same.mean()) if len(same) else 0.0,
            "max_ulp": float(distance.max()) if len(distance) else 0.0}


def _duckdb_plan(connection: Any, query: str) -> tuple[float, float]:
    """(wall, CPU) seconds of ``PREPARE`` (parse, bind, optimize) of ``query``."""
    body = query.strip().rstrip(";")
    _, wall, cpu = _timed(lambda: connection.execute("PREPARE mg_plan AS " + body))
    connection.execute("DEALLOCATE mg_plan")
    return wall, cpu


def _duckdb_ctas(connection: Any, query: str) -> tuple[float, float]:
    """(wall, CPU) seconds of ``CREATE TABLE scored AS <query>`` (it plans the query again)."""
    body = query.strip().rstrip(";")
    connection.execute("DROP TABLE IF EXISTS scored")
    _, wall, cpu = _timed(lambda: connection.execute("CREATE TABLE scored AS " + body))
    return wall, cpu


def _duckdb_outputs(connection: Any, column: str, keyed: bool) -> np.ndarray:
    order = f' ORDER BY "{ROW_KEY}"' if keyed else ""
    fetched = connection.execute(f'SELECT "{column}" FROM scored{order}').fetchnumpy()[column]
    return np.asarray(fetched, dtype=np.float64)


def _subset_engine(dialect: str, query: str, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
    """Run ``query`` as CTAS on ``frame`` in PostgreSQL or SQLite: (probability_1 by key, timings)."""
    body = query.strip().rstrip(";")
    keys = np.arange(len(frame), dtype=np.int64)
    rows = [[int(k), *r] for k, r in zip(keys, frame[FEATURES].itertuples(index=False, name=None))]
    if dialect == "sqlite":
        connection = sqlite3.connect(":memory:")
        columns = ", ".join(
            [f'"{ROW_KEY}" INTEGER'] + [f'"{n}" REAL' for n in NUMERIC] + [f'"{n}" TEXT' for n in CATEGORIES]
        )
        connection.execute(f'CREATE TABLE "input" ({columns})')
        connection.executemany(f'INSERT INTO "input" VALUES ({", ".join("?" * (len(FEATURES) + 1))})', rows)
        _, plan_s, _ = _timed(lambda: connection.execute("EXPLAIN " + body).fetchone())
        _, run_s, _ = _timed(lambda: connection.execute("CREATE TEMP TABLE scored AS " + body))
        got = connection.execute(f'SELECT "probability_1" FROM scored ORDER BY "{ROW_KEY}"').fetchall()
        connection.close()
    else:
        import psycopg

        from modelgen.engines.pg_cluster import get_cluster

        with psycopg.connect(get_cluster().conninfo, autocommit=True) as connection:
            columns = ", ".join([f'"{ROW_KEY}" BIGINT'] + [f'"{n}" DOUBLE PRECISION' for n in NUMERIC]
                                + [f'"{n}" TEXT COLLATE "C"' for n in CATEGORIES])
            # JIT compiles every CASE arm before the first row (minutes on tree models): off, as the
            # README tells users (emitters/sql/README.md, "run big models with jit = off")
            connection.execute("SET jit = off")
            connection.execute(f'CREATE TEMPORARY TABLE "input" ({columns})')
            with connection.cursor() as cursor, cursor.copy('COPY "input" FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            connection.execute('ANALYZE "input"')
            _, plan_s, _ = _timed(lambda: connection.execute("EXPLAIN " + body).fetchall())
            # the server does the work: client CPU says nothing, wall is the measure
            _, run_s, _ = _timed(lambda: connection.execute("CREATE TEMPORARY TABLE scored AS " + body))
            with connection.cursor(binary=True) as cursor:
                cursor.execute(f'SELECT "probability_1" FROM scored ORDER BY "{ROW_KEY}"')
                got = cursor.fetchall()
    values = np.array([np.nan if r[0] is None else r[0] for r in got], dtype=np.float64)
    return values, {"plan_s": plan_s, "run_s": run_s, "rows": len(frame), "rows_per_s": len(frame) / run_s,
                    "load": os.getloadavg()[0]}


LONG_RUN_S = 20.0
"""A query whose CTAS took longer than this is not repeated (its time is already stable)."""


def _variants(spec: Spec, args: argparse.Namespace, path: Path, model: Any) -> dict[str, dict[str, Any]]:
    """Every query timed on DuckDB: modelgen's (per tree strategy), modelgen's restricted to
    orbital's columns, and orbital's; each with how to read its ``probability_1`` back."""
    variants: dict[str, dict[str, Any]] = {}
    known = {"table": True, "case": False}
    strategies: list[tuple[str, bool | None]] = (
        [(name, known[name]) for name in args.strategies] if spec.trees else [("-", None)]
    )
    for strategy, table_trees in strategies:
        query, emit_s = _modelgen_sql(path, "duckdb", table_trees)
        name = "modelgen SQL" + ("" if strategy == "-" else f" [{strategy}]")
        variants[name] = {"query": query, "keyed": True, "probability_column": "probability_1",
                          "emit_cpu_s": emit_s, "query_bytes": len(query.encode()), "tool": "modelgen"}
    if not spec.trees:
        # the same columns as orbital's query (label and both probabilities, no key, insertion
        # order): what a user selecting those from modelgen's view gets (DuckDB prunes `decision`)
        query, emit_s = _modelgen_sql(path, "duckdb", keys=())
        body = query.strip().rstrip(";")
        variants["modelgen SQL, orbital's columns"] = {
            "query": f'SELECT "label", "probability_0", "probability_1" FROM ({body}) AS scored', "keyed": False,
            "probability_column": "probability_1", "emit_cpu_s": emit_s, "query_bytes": len(query.encode()),
            "tool": "modelgen"}
    orbital_query, meta = _orbital_sql(spec, model, args.workdir) if not args.no_orbital else (None, {"skipped": True})
    if orbital_query is not None:
        variants["orbital SQL"] = {"query": orbital_query, "keyed": False, "probability_column": "output_probability.1",
                                   "query_bytes": len(orbital_query.encode()), "tool": "orbital", "meta": meta}
    else:
        print(f"  orbital: {meta}", flush=True)
    return variants


def measure(spec: Spec, args: argparse.Namespace, connection: Any, frame: pd.DataFrame) -> dict[str, Any]:
    """Every timing and parity figure of one model."""
    from threadpoolctl import threadpool_limits

    path, model, fitted = _trained(spec, args.workdir)
    report: dict[str, Any] = {"model": spec.key, "fit_s": fitted, "rows": len(frame)}
    print(f"{spec.key}: trained ({fitted:.1f} s, 0 = cached)", flush=True)

    # scikit-learn: the pull into pandas, then predict_proba on one thread
    select = ", ".join(f'"{n}"' for n in FEATURES)
    pulled, pull_s, _ = _timed(lambda: connection.execute(f'SELECT {select} FROM "input"').df())
    with threadpool_limits(1):
        probabilities, predict_s, predict_cpu = _timed(lambda: model.predict_proba(pulled))
    _ = model.classes_[np.argmax(probabilities, axis=1)]  # the label, as modelgen's query returns it
    expected = np.ascontiguousarray(probabilities[:, 1], dtype=np.float64)
    report["sklearn"] = {"pull_s": pull_s, "predict_s": predict_s, "predict_cpu_s": predict_cpu,
                         "total_s": pull_s + predict_s, "load": os.getloadavg()[0]}
    print(f"  sklearn: pull {pull_s:.2f} s, predict_proba {predict_s:.2f} s", flush=True)
    pulled = None  # 1M rows of pandas: free before the SQL runs

    default_threads = int(connection.execute("SELECT current_setting('threads')").fetchone()[0])
    thread_counts = sorted({default_threads, 1}, reverse=True)
    variants = _variants(spec, args, path, model)
    report["variants"] = {name: {k: v for k, v in found.items() if k != "query"} for name, found in variants.items()}
    for threads in thread_counts:
        connection.execute(f"SET threads = {threads}")
        for name, variant in list(variants.items()):
            try:
                wall, cpu = _duckdb_plan(connection, variant["query"])
            except duckdb.Error as error:  # a peer's query failing is a row saying so, never a crash
                report["variants"][name]["error"] = f"{type(error).__name__}: {error}"[:300]
                del variants[name]
                continue
            report["variants"][name].setdefault("plans", {})[threads] = {"wall_s": wall, "cpu_s": cpu}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
        shuffler = random.Random(threads)
        for repeat in range(args.repeats):
            # interleaved, in a new order each round: the machine's load moves all of them alike
            order = [name for name in variants if repeat == 0 or runs[name][-1]["wall_s"] < LONG_RUN_S]
            shuffler.shuffle(order)
            for name in order:
                wall, cpu = _duckdb_ctas(connection, variants[name]["query"])
                runs[name].append({"wall_s": wall, "cpu_s": cpu, "load": os.getloadavg()[0]})
                if repeat == 0 and threads == default_threads:
                    column, keyed = variants[name]["probability_column"], variants[name]["keyed"]
                    got = _duckdb_outputs(connection, column, keyed)
                    report["variants"][name].update(_parity(got, expected))
                    report["variants"][name]["max_abs_err"] = float(np.nanmax(np.abs(got - expected)))
        for name, measured in runs.items():
            report["variants"][name].setdefault("runs", {})[threads] = measured
            walls = sorted(r["wall_s"] for r in measured)
            print(f"  {name} {threads} thread(s): plan {report['variants'][name]['plans'][threads]['wall_s']:.2f} s, "
                  f"CTAS best {walls[0]:.3f} s, median {statistics.median(walls):.3f} s of {len(walls)}", flush=True)
    connection.execute(f"SET threads = {default_threads}")

    subset = frame.iloc[: args.subset_rows]
    report["subset"] = {}
    for dialect in args.engines:
        if dialect == "duckdb":
            continue
        try:
            query, _ = _modelgen_sql(path, dialect)
            got, timing = _subset_engine(dialect, query, subset)
            timing.update(_parity(got, expected[: len(subset)]))
            timing["query_bytes"] = len(query.encode())
        except Exception as error:  # an engine missing here is a row saying so
            timing = {"error": f"{type(error).__name__}: {error}"[:300]}
        report["subset"][dialect] = timing
        print(f"  {dialect} ({len(subset)} rows): {timing}", flush=True)
    return report


def _ratio(reference: float, tool: float) -> str:
    return f"{reference / tool:.2f}x" if tool > 0 else "-"


def render(report: dict[str, Any]) -> str:
    """The text table of one model: best and median CTAS, rows/s, ratios vs scikit-learn and orbital
    at equal threads (best vs best), parity; then PostgreSQL and SQLite on the subset."""
    rows = report["rows"]
    sk = report["sklearn"]
    lines = [f"### {report['model']} — {rows:,} rows (DuckDB CTAS, best / median of interleaved runs; "
             "scikit-learn = pull + predict_proba, 1 thread)",
             "",
             "| engine / tool | threads | plan s | best s | median s (runs) | rows/s (best) | vs sklearn total "
             "| vs sklearn predict only | vs orbital (same threads) | query | bit-identical to sklearn | max ULP |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines.append(f"| scikit-learn (pull {sk['pull_s']:.2f} s + predict_proba {sk['predict_s']:.2f} s) | 1 | - | "
                 f"{sk['total_s']:.2f} | - | {rows / sk['total_s']:,.0f} | 1.00x | - | - | - | 100 % | 0 |")
    variants = report["variants"]
    orbital = variants.get("orbital SQL", {})
    orbital_best = {t: min(r["wall_s"] for r in runs) for t, runs in orbital.get("runs", {}).items()}
    for name, variant in variants.items():
        if "error" in variant:
            lines.append(f"| {name} | - | - | - | - | - | - | - | - | - | FAILED: {variant['error']} | - |")
            continue
        for threads, runs in variant.get("runs", {}).items():
            walls = sorted(r["wall_s"] for r in runs)
            best = walls[0]
            versus = _ratio(orbital_best[threads], best) if threads in orbital_best else "-"
            extra = f" (abs {variant['max_abs_err']:.2g})" if "max_abs_err" in variant else ""
            lines.append(
                f"| {name} | {threads} | {variant['plans'][threads]['wall_s']:.2f} | {best:.3f} | "
                f"{statistics.median(walls):.3f} ({len(walls)}) | {rows / best:,.0f} | {_ratio(sk['total_s'], best)} | "
                f"{_ratio(sk['predict_s'], best)} | {versus} | {variant['query_bytes'] / 1e6:.2f} MB | "
                f"{100 * variant.get('bit_identical', 0):.2f} % | {variant.get('max_ulp', float('nan')):.3g}{extra} |"
            )
    for dialect, timing in report["subset"].items():
        if "error" in timing:
            failure = timing["error"]
            lines.append(f"| modelgen SQL on {dialect} | - | - | - | - | - | - | - | - | - | FAILED: {failure} | - |")
            continue
        lines.append(
            f"| modelgen SQL on {dialect} ({timing['rows']:,} rows) | 1 | {timing['plan_s']:.2f} | "
            f"{timing['run_s']:.2f} | - | {timing['rows_per_s']:,.0f} | - | - | - | "
            f"{timing['query_bytes'] / 1e6:.2f} MB | "
            f"{100 * timing['bit_identical']:.2f} % | {timing['max_ulp']:.3g} |"
        )
    meta = orbital.get("meta", {})
    if "export_s" in meta:
        lines.append("")
        lines.append(f"orbital parse_pipeline {meta['parse_s']:.1f} s + export_sql {meta['export_s']:.1f} s "
                     f"(optimize={meta['optimize']}); modelgen lower + emit: "
                     + ", ".join(f"{n} {v['emit_cpu_s']:.2f} s CPU" for n, v in variants.items() if "emit_cpu_s" in v))
    return "\n".join(lines)


def main() -> None:
    """Train (or load) the models, load the rows once, measure every tool, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", default="lr,gb500")
    parser.add_argument("--subset-rows", type=int, default=20_000, help="rows PostgreSQL and SQLite score")
    parser.add_argument("--engines", default="duckdb,postgres,sqlite")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/modelgen_sql_speed"))
    parser.add_argument("--strategies", default="table,case", help="DuckDB tree strategies (node tables, nested CASE)")
    parser.add_argument("--no-orbital", action="store_true", help="skip orbital (its 500-tree export takes minutes)")
    parser.add_argument("--repeats", type=int, default=7,
                        help="interleaved CTAS runs per query and thread count (a run over 20 s is not repeated)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.engines = args.engines.split(",")
    args.strategies = args.strategies.split(",")
    args.workdir.mkdir(parents=True, exist_ok=True)

    frame, _ = make_data(args.rows, seed=2)
    connection = duckdb.connect()
    with_key = frame.assign(**{ROW_KEY: np.arange(args.rows, dtype=np.int64)})[[ROW_KEY, *FEATURES]]
    connection.register("frame_view", with_key)
    connection.execute('CREATE TABLE "input" AS SELECT * FROM frame_view')
    connection.unregister("frame_view")
    environment = {"load_average_start": os.getloadavg(), "cpus": os.cpu_count(),
                   "duckdb": duckdb.__version__, "default_threads": connection.execute(
                       "SELECT current_setting('threads')").fetchone()[0]}
    print(f"{args.rows:,} rows; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; "
          f"DuckDB {duckdb.__version__} default threads {environment['default_threads']}", flush=True)
    reports = []
    for key in args.models.split(","):
        reports.append(measure(SPECS[key], args, connection, frame))
        print(render(reports[-1]), flush=True)
    environment["load_average_end"] = os.getloadavg()
    print(f"load average at the end: {environment['load_average_end'][0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"environment": environment, "models": reports}, indent=1))


if __name__ == "__main__":
    main()
