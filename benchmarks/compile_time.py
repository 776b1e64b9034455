"""Time modelgen itself (not the scorers) on the 1,000-tree models, stage by stage.

    python benchmarks/compile_time.py [--models rf1000,gb1000,hgb500,rfc1000] [--targets ...]
                                      [--repeats 1] [--workdir DIR] [--json out.json]

Each model is trained once and cached as a pickle under ``--workdir`` (default
``/tmp/modelgen_compile_time``; delete it to retrain). Then, per model, separately timed:

- ``read``: unpickling the file (``read_estimator``);
- ``frontend``: lowering the estimator to IR (``lower_estimator``);
- ``passes``: ``modelgen.passes.run_passes`` (the default list, invariant checks included);
- ``emit <target>``: ``modelgen.compiler.emit`` per target and option (C in every
  ``c_tree_mode``, Java, Python, SQL for DuckDB and SQLite).

``modelgen.compiler.lower`` is ``read + frontend + passes``; the issue's budget is
``lower + emit < 10 s`` per target. Wall and user-CPU seconds are both printed (user CPU is
steadier on a shared machine); with ``--repeats N`` each figure is the best of N. The script
fails (exit 1) if the recursion limit changes at any point.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

N_FEATURES = 20
GOAL_S = 10.0
"""The issue's bound on modelgen time (lower + emit, per target) for the 1,000-tree models."""


@dataclass(frozen=True)
class Spec:
    """A benchmark model: estimator factory, training rows, NaN in the data, classification."""

    key: str
    description: str
    train_rows: int
    missing: bool
    classes: int
    build: Callable[[], Any]


def _rf() -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=1000, max_depth=12, n_jobs=2, random_state=0)


def _rfc() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=1000, max_depth=12, n_jobs=2, random_state=0)


def _gb() -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(n_estimators=1000, max_depth=8, random_state=0)


def _hgb() -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=500, max_depth=8, early_stopping=False, random_state=0)


# same models and training data as benchmarks/trees.py (rfc1000 is extra: per-class leaf tables)
SPECS: dict[str, Spec] = {
    "rf1000": Spec("rf1000", "RandomForestRegressor(n_estimators=1000, max_depth=12)", 2_000, False, 0, _rf),
    "gb1000": Spec("gb1000", "GradientBoostingRegressor(n_estimators=1000, max_depth=8)", 2_000, False, 0, _gb),
    "hgb500": Spec(
        "hgb500",
        "HistGradientBoostingRegressor(max_iter=500, max_depth=8, early_stopping=False)",
        10_000,
        True,
        0,
        _hgb,
    ),
    "rfc1000": Spec(
        "rfc1000", "RandomForestClassifier(n_estimators=1000, max_depth=12), 3 classes", 2_000, False, 3, _rfc
    ),
}


def _c_modes() -> tuple[str, ...]:
    from emitters.c.trees import TREE_MODES

    return TREE_MODES


def target_options() -> list[tuple[str, str, Any]]:
    """(label, target, EmitOptions) for every target and C tree mode that exists now."""
    from emitters.base import EmitOptions

    out: list[tuple[str, str, Any]] = [("python", "python", EmitOptions(name="scorer"))]
    for mode in _c_modes():
        out.append((f"c:{mode}", "c", EmitOptions(name="scorer", extra=(("c_tree_mode", mode),))))
    out.append(("java", "java", EmitOptions(name="Scorer")))
    for dialect in ("duckdb", "sqlite"):
        out.append((f"sql:{dialect}", "sql", EmitOptions(name="scorer", dialect=dialect)))
    return out


def make_data(rows: int, seed: int, missing: bool, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``benchmarks/trees.py``'s data; with ``classes``, the target cut into that many quantile bins."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, N_FEATURES))
    y = 2.0 * x[:, 0] + np.sin(3.0 * x[:, 1]) + x[:, 2] * x[:, 3] + np.abs(x[:, 4]) + 0.1 * rng.normal(size=rows)
    if missing:
        x[rng.random(x.shape) < 0.05] = np.nan
    if classes:
        edges = np.quantile(y, np.linspace(0, 1, classes + 1)[1:-1])
        y = np.array([f"c{int(k)}" for k in np.searchsorted(edges, y)])
    return x, y


def trained(spec: Spec, workdir: Path) -> Path:
    """The pickle of ``spec``'s fitted model, training it first when it is not cached."""
    path = workdir / f"{spec.key}.pkl"
    if path.is_file():
        return path
    from threadpoolctl import threadpool_limits

    print(f"[{spec.key}] training {spec.description} on {spec.train_rows:,} rows ...", flush=True)
    x, y = make_data(spec.train_rows, seed=1, missing=spec.missing, classes=spec.classes)
    model = spec.build()
    started = time.perf_counter()
    with threadpool_limits(1):
        model.fit(x, y)
    if hasattr(model, "n_jobs"):
        model.set_params(n_jobs=1)
    print(f"[{spec.key}] fitted in {time.perf_counter() - started:.1f} s", flush=True)
    workdir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with partial.open("wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)
    return path


def in_child(step: Callable[[], dict[str, Any]], timeout: float, memory_bytes: int) -> dict[str, Any]:
    """``step()`` run in a forked child (it inherits the lowered model) under a time and address-space
    limit, so one target that blows up (minutes, many GB) is a row saying so, not a dead machine."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report one JSON line, leave without cleanup handlers
        os.close(reader)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
            result = step()
        except SystemExit as error:
            result = {"error": str(error)}
        except BaseException as error:  # anything the target raises (MemoryError too) is the row's message
            result = {"error": f"{type(error).__name__}: {error}"[:300]}
        os.write(writer, json.dumps(result).encode())
        os._exit(0)
    os.close(writer)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([reader], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(reader)
            return {"error": f"timed out after {timeout:.0f} s"}
        chunk = os.read(reader, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(reader)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"error": f"the child died (wait status {status})"}
    return json.loads(b"".join(chunks))


class Timer:
    """Best-of-N wall and user-CPU seconds of one step; the recursion limit is checked after each run."""

    def __init__(self, repeats: int, limit: int, timeout: float = 300.0, memory_gb: float = 6.0) -> None:
        self.repeats = repeats
        self.limit = limit
        self.timeout = timeout
        self.memory_bytes = int(memory_gb * 2**30)

    def run(self, step: Callable[[], Any]) -> tuple[Any, float, float]:
        """(result of the last run, best wall s, best user s)."""
        best_wall = best_user = float("inf")
        result: Any = None
        for _ in range(self.repeats):
            result = None  # drop the previous result first: interned IR nodes are weakly held
            gc.collect()
            user0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
            wall0 = time.perf_counter()
            result = step()
            wall = time.perf_counter() - wall0
            user = resource.getrusage(resource.RUSAGE_SELF).ru_utime - user0
            best_wall, best_user = min(best_wall, wall), min(best_user, user)
            if sys.getrecursionlimit() != self.limit:
                raise SystemExit(f"!!! the recursion limit changed from {self.limit} to {sys.getrecursionlimit()}")
        return result, best_wall, best_user


def lower_stages(path: Path, timer: Timer) -> tuple[Any, dict[str, tuple[float, float]]]:
    """The lowered model and (wall, user) seconds of reading, the frontend and the passes."""
    from modelgen.frontends.sklearn.loader import read_estimator
    from modelgen.frontends.sklearn.pipeline import lower_estimator
    from modelgen.passes import run_passes

    read_estimator(path)  # warm the imports and the page cache
    (estimator, _), *read = timer.run(lambda: read_estimator(path))
    raw, *front = timer.run(lambda: lower_estimator(estimator, {}))
    model, *passes = timer.run(lambda: run_passes(raw))
    return model, {"read": tuple(read), "frontend": tuple(front), "passes": tuple(passes)}  # type: ignore[dict-item]


def measure(spec: Spec, path: Path, targets: list[tuple[str, str, Any]], timer: Timer) -> dict[str, Any]:
    """Every stage of ``spec``'s compilation, timed; the model's record."""
    from modelgen import compiler
    from modelgen.ir import TreeLeaf, topological_order

    # only the lowered model stays alive: interned IR nodes are weakly held
    model, stages = lower_stages(path, timer)
    trees = [n for n in topological_order(model.roots) if isinstance(n, TreeLeaf)]
    lower_wall = sum(w for w, _ in stages.values())
    lower_user = sum(u for _, u in stages.values())
    record: dict[str, Any] = {
        "model": spec.key,
        "description": spec.description,
        "trees": len(trees),
        "splits": sum(len(t.splits) for t in trees),
        "stages": {k: {"wall_s": w, "user_s": u} for k, (w, u) in stages.items()},
        "lower_wall_s": lower_wall,
        "lower_user_s": lower_user,
        "targets": [],
    }
    _print_header(record)
    for label, target, options in targets:
        entry: dict[str, Any] = {"target": label}

        def emit(t: str = target, o: Any = options) -> dict[str, Any]:
            program, wall, user = timer.run(lambda: compiler.emit(model, t, o))
            return {"wall": wall, "user": user, "bytes": sum(len(text.encode()) for _, text in program.files)}

        result = in_child(emit, timer.timeout, timer.memory_bytes)
        if "error" in result:
            entry["error"] = result["error"]
        else:
            entry.update(
                emit_wall_s=result["wall"],
                emit_user_s=result["user"],
                total_wall_s=lower_wall + result["wall"],
                total_user_s=lower_user + result["user"],
                code_bytes=result["bytes"],
            )
        record["targets"].append(entry)
        _print_target(entry)
    return record


def _print_header(record: dict[str, Any]) -> None:
    stages = record["stages"]
    print(f"\n[{record['model']}] {record['description']}: {record['trees']} trees, {record['splits']:,} splits")
    parts = [f"{k} {v['wall_s']:.2f}/{v['user_s']:.2f}" for k, v in stages.items()]
    print(f"  lower (wall/user s): {', '.join(parts)}; total {record['lower_wall_s']:.2f}/{record['lower_user_s']:.2f}")
    print(f"  {'target':<12} {'emit wall':>9} {'emit user':>9} {'total wall':>10} {'total user':>10} {'code size':>12}")


def _print_target(entry: dict[str, Any]) -> None:
    if "error" in entry:
        print(f"  {entry['target']:<12} FAILED: {entry['error']}", flush=True)
        return
    flag = "" if entry["total_wall_s"] < GOAL_S else "  (over the 10 s goal)"
    print(
        f"  {entry['target']:<12} {entry['emit_wall_s']:9.2f} {entry['emit_user_s']:9.2f} "
        f"{entry['total_wall_s']:10.2f} {entry['total_user_s']:10.2f} {entry['code_bytes']:12,}{flag}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Parse options, train or load every model, time every stage, print (and write) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(SPECS), help=f"comma list of {', '.join(SPECS)}")
    parser.add_argument("--targets", default=None, help="comma list of target labels (default: all)")
    parser.add_argument("--repeats", type=int, default=1, help="best of N runs per step")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per target's emit (a forked child)")
    parser.add_argument("--memory-gb", type=float, default=6.0, help="address-space limit of each emit child")
    parser.add_argument("--workdir", default="/tmp/modelgen_compile_time", help="where trained pickles are cached")
    parser.add_argument("--json", dest="json_path", default=None, help="write the records to this file")
    args = parser.parse_args(argv)
    limit = sys.getrecursionlimit()
    keys = [k for k in args.models.split(",") if k]
    unknown = [k for k in keys if k not in SPECS]
    if unknown:
        parser.error(f"unknown models {unknown}; known: {', '.join(SPECS)}")
    targets = target_options()
    if args.targets:
        wanted = args.targets.split(",")
        missing = [w for w in wanted if w not in {label for label, _, _ in targets}]
        if missing:
            parser.error(f"unknown targets {missing}; known: {', '.join(label for label, _, _ in targets)}")
        targets = [t for t in targets if t[0] in wanted]
    workdir = Path(args.workdir)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, load average {os.getloadavg()}, "
        f"recursion limit {limit}, best of {args.repeats}",
        flush=True,
    )
    load_start = os.getloadavg()
    records = []
    timer = Timer(max(1, args.repeats), limit, args.timeout, args.memory_gb)
    for key in keys:
        spec = SPECS[key]
        path = trained(spec, workdir)
        record = measure(spec, path, targets, timer)
        records.append(record)
    worst = max((t["total_wall_s"] for r in records for t in r["targets"] if "total_wall_s" in t), default=0.0)
    print(
        f"\nslowest target (lower + emit, wall): {worst:.2f} s, goal < {GOAL_S:.0f} s; "
        f"recursion limit unchanged ({sys.getrecursionlimit()}); load average {os.getloadavg()}"
    )
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps(
                {
                    "load_start": load_start,
                    "load_end": os.getloadavg(),
                    "recursion_limit": limit,
                    "repeats": args.repeats,
                    "models": records,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
