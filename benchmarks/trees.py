"""Measure modelgen's tree scorers against scikit-learn and peer compilers, on the same rows.

    python benchmarks/trees.py [--rows 1000000] [--models hgb500,rf1000,gb1000] [--json out.json]

For each model (trained here on synthetic float64 data, 20 unnamed features ``x0..x19``) one
table: scikit-learn's single-threaded ``predict``; modelgen's C (each ``c_tree_mode``), Java
and Python scorers; onnxruntime (via skl2onnx, float32 input), treelite + tl2cgen and m2cgen.
Every tool scores the same rows (the Python scorer a prefix of them, extrapolated); parity is
measured bit for bit against scikit-learn's ``predict`` on those rows. A peer that is missing
or fails becomes a row saying so. See ``benchmarks/README.md`` for what each column means.
"""

from __future__ import annotations

import os

# One thread everywhere, before numpy / scikit-learn load their thread pools.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

N_FEATURES = 20
SLOW_RUN_S = 5.0
"""Timed passes repeat (best of ``--repeats``) only while one pass takes less than this."""
MODELGEN_GOAL_S = 10.0
"""The issue's bound on modelgen time (lower + emit) for the 1,000-tree models."""
HEADLINE_SPEEDUP = 5.0
"""The issue's goal: generated C at least this many times faster than scikit-learn's predict."""


@dataclass(frozen=True)
class ModelSpec:
    """One benchmark model: how to build it and how much data to train it on."""

    key: str
    description: str
    train_rows: int
    missing: bool
    build: Callable[[], Any]


def _hgb() -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=500, max_depth=8, early_stopping=False, random_state=0)


def _rf() -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=1000, max_depth=12, n_jobs=2, random_state=0)


def _gb() -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(n_estimators=1000, max_depth=8, random_state=0)


# Training sets are small on purpose: each fit must take well under a minute on 2 cores; the
# trees still reach their depth (a depth-12 tree needs only ~4k samples to fill).
MODELS: dict[str, ModelSpec] = {
    "hgb500": ModelSpec("hgb500", "HistGradientBoostingRegressor(max_iter=500, max_depth=8, early_stopping=False)",
                        10_000, True, _hgb),
    "rf1000": ModelSpec("rf1000", "RandomForestRegressor(n_estimators=1000, max_depth=12)", 2_000, False, _rf),
    "gb1000": ModelSpec("gb1000", "GradientBoostingRegressor(n_estimators=1000, max_depth=8)", 2_000, False, _gb),
}


@dataclass
class Row:
    """One line of a model's table (also its JSON record)."""

    tool: str
    ns_per_row: float | None = None
    speedup: float | None = None
    modelgen_s: float | None = None
    build_s: float | None = None
    code_bytes: int | None = None
    code_unit: str = ""
    max_ulp: float | None = None
    identical: float | None = None
    max_rel_err: float | None = None
    rows_scored: int | None = None
    note: str = ""
    failed: str | None = None
    must_be_exact: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# data, parity


def make_data(rows: int, seed: int, missing: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Row-major float64 features (``missing``: ~5% NaN) and, for training, a target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, N_FEATURES))
    y = 2.0 * x[:, 0] + np.sin(3.0 * x[:, 1]) + x[:, 2] * x[:, 3] + np.abs(x[:, 4]) + 0.1 * rng.normal(size=rows)
    if missing:
        x[rng.random(x.shape) < 0.05] = np.nan
    return x, y


def _ordered(values: np.ndarray) -> np.ndarray:
    # IEEE doubles as integers that are monotonic in the value (-0.0 and +0.0 both map to 0)
    bits = values.view(np.int64)
    return np.where(bits < 0, np.int64(np.iinfo(np.int64).min) - bits, bits)


def parity(reference: np.ndarray, got: np.ndarray) -> tuple[float, float, float]:
    """(max ULP distance, share of bit-identical values, max relative error) of ``got`` vs ``reference``.

    Bit-identical means the same 64 bits (so -0.0 != 0.0), or both NaN. A NaN on one side only
    is an infinite ULP distance.
    """
    reference = np.ascontiguousarray(reference, dtype=np.float64)
    got = np.ascontiguousarray(got, dtype=np.float64)
    both_nan = np.isnan(reference) & np.isnan(got)
    one_nan = np.isnan(reference) ^ np.isnan(got)
    identical = (reference.view(np.int64) == got.view(np.int64)) | both_nan
    a, b = _ordered(reference).view(np.uint64), _ordered(got).view(np.uint64)
    # unsigned wrap-around subtraction is exact: the true distance is below 2**64
    distance = np.where(a.view(np.int64) >= b.view(np.int64), a - b, b - a)
    distance[both_nan | one_nan] = 0
    max_ulp = math.inf if one_nan.any() else float(int(distance.max())) if distance.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(got - reference) / np.abs(reference)
    relative[identical | (reference == got)] = 0.0
    max_rel = math.inf if one_nan.any() else float(np.nanmax(relative)) if relative.size else 0.0
    return max_ulp, float(identical.mean()) if identical.size else 1.0, max_rel


class Failure(RuntimeError):
    """A step that failed with a message that already says what (printed without the class name)."""


def best_time(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of up to ``repeats`` calls (stop repeating once one takes > SLOW_RUN_S), last result."""
    best, result = math.inf, None
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        if elapsed > SLOW_RUN_S:
            break
    return best, result


def _tail(text: str, lines: int = 3) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-400:]


def run_group(argv: list[str], cwd: Path | None, timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` in a new process group; on timeout the whole group (compilers a peer
    started included) is killed, then TimeoutExpired is raised."""
    with subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def run_command(argv: list[str], cwd: Path, timeout: float) -> float:
    """Run ``argv`` in ``cwd``; its wall time, or Failure with the tail of its output."""
    started = time.perf_counter()
    try:
        done = run_group(argv, cwd, timeout)
    except subprocess.TimeoutExpired as exc:
        raise Failure(f"{argv[0]} timed out after {timeout:.0f} s") from exc
    except OSError as exc:
        raise Failure(f"cannot run {argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise Failure(f"{' '.join(argv[:3])}... exit {done.returncode}: {_tail(done.stderr or done.stdout)}")
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# harness sources (written into the work directory at run time)

_C_HARNESS = r"""#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
%(include)s

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* argv: X.bin rows features out.bin repeats; prints "best_seconds failed_rows" */
int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: X.bin rows features out.bin repeats\n"); return 2; }
    size_t n = (size_t)strtoull(argv[2], NULL, 10), nf = (size_t)strtoull(argv[3], NULL, 10);
    int repeats = atoi(argv[5]);
    double *x = malloc(n * nf * sizeof *x), *y = malloc(n * sizeof *y);
    FILE *f = fopen(argv[1], "rb");
    if (!x || !y || !f || fread(x, sizeof *x, n * nf, f) != n * nf) { fprintf(stderr, "cannot read X\n"); return 1; }
    fclose(f);
%(setup)s
    size_t warm = n < 10000 ? n : 10000;
%(warm)s
    double best = 1e300;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
%(timed)s
        double dt = now() - t0;
        if (dt < best) best = dt;
        if (dt > %(slow)s) break;
    }
    size_t failed = 0;
%(collect)s
    f = fopen(argv[4], "wb");
    if (!f || fwrite(y, sizeof *y, n, f) != n || fclose(f) != 0) { fprintf(stderr, "cannot write out\n"); return 1; }
    printf("%%.9f %%zu\n", best, failed);
    return 0;
}
"""


def modelgen_c_harness(name: str, fields: list[str], output_field: str) -> str:
    """The C harness for a modelgen scorer: rows -> ``NAME_input`` structs, ``NAME_score_batch`` timed."""
    fill = "\n".join(f"        in[i].{ident} = row[{j}];" for j, ident in enumerate(fields))
    setup = (
        f"    {name}_input *in = malloc(n * sizeof *in);\n"
        f"    {name}_output *out = malloc(n * sizeof *out);\n"
        "    const char **errors = malloc(n * sizeof *errors);\n"
        "    if (!in || !out || !errors) { fprintf(stderr, \"out of memory\\n\"); return 1; }\n"
        "    for (size_t i = 0; i < n; i++) {\n"
        "        const double *row = x + i * nf;\n"
        f"{fill}\n"
        "    }\n"
        "    free(x);"
    )
    return _C_HARNESS % {
        "include": f'#include "{name}.h"',
        "setup": setup,
        "warm": f"    {name}_score_batch(warm, in, out, errors);",
        "timed": f"        {name}_score_batch(n, in, out, errors);",
        "slow": repr(SLOW_RUN_S),
        "collect": f"    for (size_t i = 0; i < n; i++) {{ if (errors[i]) failed++; y[i] = out[i].{output_field}; }}",
    }


def m2cgen_c_harness() -> str:
    """The C harness for m2cgen's ``double score(double *input)``, called row by row."""
    return _C_HARNESS % {
        "include": "double score(double *input);",
        "setup": "",
        "warm": "    for (size_t i = 0; i < warm; i++) y[i] = score(x + i * nf);",
        "timed": "        for (size_t i = 0; i < n; i++) y[i] = score(x + i * nf);",
        "slow": repr(SLOW_RUN_S),
        "collect": "",
    }


def java_harness(scorer: str, fields: list[str], output_field: str) -> str:
    """``MgBench.java``: mapped doubles -> ``Input`` objects, warm-up, timed ``scoreBatch`` (the fastest
    API: trees walked tree-major over blocks of rows), outputs written."""
    fill = "\n".join(f"            r.{ident} = x.get(b + {j});" for j, ident in enumerate(fields))
    return f"""import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

public final class MgBench {{
    // args: X.bin rows features out.bin repeats; prints "best_nanoseconds"
    public static void main(String[] args) throws Exception {{
        int n = Integer.parseInt(args[1]);
        int nf = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[4]);
        DoubleBuffer x;
        try (FileChannel ch = FileChannel.open(Paths.get(args[0]), StandardOpenOption.READ)) {{
            x = ch.map(FileChannel.MapMode.READ_ONLY, 0, (long) n * nf * 8)
                .order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
        }}
        {scorer}.Input[] rows = new {scorer}.Input[n];
        for (int i = 0; i < n; i++) {{
            {scorer}.Input r = new {scorer}.Input();
            int b = i * nf;
{fill}
            rows[i] = r;
        }}
        double[] out = new double[n];
        {scorer}.Output[] scores = new {scorer}.Output[n];
        {scorer}.Input[] warmRows = java.util.Arrays.copyOf(rows, Math.min(n, 100000));
        for (int w = 0; w < 5; w++) {{
            {scorer}.scoreBatch(warmRows, scores);
        }}
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < repeats; rep++) {{
            long t0 = System.nanoTime();
            {scorer}.scoreBatch(rows, scores);
            for (int i = 0; i < n; i++) {{
                out[i] = scores[i].{output_field};
            }}
            long dt = System.nanoTime() - t0;
            best = Math.min(best, dt);
            if (dt > {int(SLOW_RUN_S * 1e9)}L) {{
                break;
            }}
        }}
        ByteBuffer bytes = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asDoubleBuffer().put(out);
        try (FileChannel ch = FileChannel.open(Paths.get(args[3]), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {{
            while (bytes.hasRemaining()) {{
                ch.write(bytes);
            }}
        }}
        System.out.println(best);
    }}
}}
"""


# ---------------------------------------------------------------------------------------------
# the context one model's measurements share


@dataclass
class Bench:
    """Everything one model's measurements share: work directory, rows, reference outputs, options."""

    workdir: Path
    x: np.ndarray
    x_path: Path
    reference: np.ndarray
    sklearn_ns: float
    repeats: int
    timeout: float
    python_rows: int

    @property
    def rows(self) -> int:
        """Rows every tool scores."""
        return self.x.shape[0]

    def finish(self, row: Row, seconds: float, got: np.ndarray) -> Row:
        """Fill timing and parity of ``row`` from the best pass ``seconds`` and outputs ``got``."""
        row.rows_scored = got.shape[0]
        row.ns_per_row = seconds / got.shape[0] * 1e9
        row.speedup = self.sklearn_ns / row.ns_per_row
        row.max_ulp, row.identical, row.max_rel_err = parity(self.reference[: got.shape[0]], got)
        return row

    def harness_run(self, argv: list[str], cwd: Path, out_path: Path) -> tuple[str, np.ndarray]:
        """Run a compiled harness over X.bin; its stdout and the outputs it wrote."""
        argv = [*argv, str(self.x_path), str(self.rows), str(N_FEATURES), str(out_path), str(self.repeats)]
        try:
            done = run_group(argv, cwd, self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise Failure(f"scoring timed out after {self.timeout:.0f} s") from exc
        if done.returncode != 0:
            raise Failure(f"harness exit {done.returncode}: {_tail(done.stderr or done.stdout)}")
        got = np.fromfile(out_path, dtype=np.float64)
        out_path.unlink()
        if got.shape[0] != self.rows:
            raise Failure(f"harness wrote {got.shape[0]} outputs for {self.rows} rows")
        return done.stdout, got


def guarded(tool: str, measure: Callable[[], Row | list[Row]]) -> list[Row]:
    """Run one measurement; any failure becomes a row saying so (never a crash)."""
    try:
        result = measure()
    except Exception as exc:  # a peer's failure is a result, not a crash
        message = (str(exc) if isinstance(exc, Failure) else f"{type(exc).__name__}: {exc}").replace("\n", " ")
        if os.environ.get("TREES_BENCH_DEBUG"):
            traceback.print_exc()
        return [Row(tool=tool, failed=message[:300])]
    return result if isinstance(result, list) else [result]


# ---------------------------------------------------------------------------------------------
# modelgen


def _recursion_guard(limit: int) -> None:
    if sys.getrecursionlimit() != limit:
        raise Failure(f"the recursion limit changed from {limit} to {sys.getrecursionlimit()}")


def measure_modelgen(bench: Bench, model_path: Path, limit: int) -> list[Row]:
    """Lower once, then emit, build and run each target; one row per target (and C tree mode)."""
    from emitters.base import EmitOptions
    from modelgen import compiler

    started = time.perf_counter()
    model = compiler.lower(model_path)
    lower_s = time.perf_counter() - started
    _recursion_guard(limit)
    if [f.name for f in model.inputs] != [f"x{j}" for j in range(N_FEATURES)] or len(model.outputs) != 1:
        raise Failure(f"unexpected schema: {[f.name for f in model.inputs]} -> {[o.name for o in model.outputs]}")
    output_name = model.outputs[0].name
    rows: list[Row] = []

    def emit(target: str, tool: str, options: EmitOptions) -> tuple[Any, Path, Row]:
        started = time.perf_counter()
        program = compiler.emit(model, target, options)
        emit_s = time.perf_counter() - started
        _recursion_guard(limit)
        outdir = bench.workdir / tool.replace(" ", "_").replace("/", "_")
        shutil.rmtree(outdir, ignore_errors=True)
        compiler.write_program(program, outdir)
        row = Row(tool=tool, modelgen_s=lower_s + emit_s, must_be_exact=True,
                  code_bytes=sum(len(text.encode()) for _, text in program.files), code_unit="src",
                  extra={"lower_s": lower_s, "emit_s": emit_s})
        return program, outdir, row

    def c_target(mode: str) -> Row:
        from emitters.c.literals import mangle_identifiers

        options = EmitOptions(name="scorer", extra=(("c_tree_mode", mode),))
        program, outdir, row = emit("c", f"modelgen C ({mode})", options)
        build = program.manifest["build"]
        row.build_s = sum(run_command(argv, outdir, bench.timeout) for argv in build)
        compiler_argv = build[0]
        flags = [a for a in compiler_argv[1:] if a.startswith("-") and a != "-c"]
        fields = mangle_identifiers(f.name for f in model.inputs)
        (output_field,) = mangle_identifiers([output_name])
        (outdir / "mg_bench.c").write_text(modelgen_c_harness("scorer", fields, output_field))
        link = [compiler_argv[0], *flags, "-o", "mg_bench", "mg_bench.c", "scorer.o", "-lm"]
        run_command(link, outdir, bench.timeout)
        stdout, got = bench.harness_run(["./mg_bench"], outdir, outdir / "out.bin")
        seconds, failed = stdout.split()
        if int(failed):
            row.note = f"{failed} rows rejected by a check"
        return bench.finish(row, float(seconds), got)

    def java_target() -> Row:
        from emitters.java.names import mangle

        program, outdir, row = emit("java", "modelgen Java", EmitOptions(name="Scorer"))
        row.build_s = sum(run_command(argv, outdir, bench.timeout) for argv in program.manifest["build"])
        fields = mangle([f.name for f in model.inputs])
        (output_field,) = mangle([output_name])
        (outdir / "MgBench.java").write_text(java_harness("Scorer", fields, output_field))
        run_command(["javac", "-cp", "classes", "-d", "classes", "MgBench.java"], outdir, bench.timeout)
        heap = f"-Xmx{max(1024, bench.rows * 600 // 1_000_000 + 512)}m"
        stdout, got = bench.harness_run(["java", heap, "-cp", "classes", "MgBench"], outdir, outdir / "out.bin")
        row.note = "JIT warmed up on 5 x 100k rows"
        return bench.finish(row, int(stdout.split()[-1]) / 1e9, got)

    def python_target() -> Row:
        program, outdir, row = emit("python", "modelgen Python", EmitOptions(name="scorer"))
        row.build_s = sum(run_command(argv, outdir, bench.timeout) for argv in program.manifest.get("build", []))
        spec = importlib.util.spec_from_file_location("mg_bench_scorer", outdir / program.files[0][0])
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        k = min(bench.python_rows, bench.rows)
        names = [f.name for f in model.inputs]
        inputs = [dict(zip(names, values)) for values in bench.x[:k].tolist()]
        score = module.score
        seconds, got = best_time(lambda: np.array([score(r)[output_name] for r in inputs], dtype=np.float64), 1)
        row.note = f"score() on the first {k:,} rows, ns/row extrapolated; parity on those rows"
        return bench.finish(row, seconds, got)

    for mode in ("walk", "ifelse", "table"):
        rows += guarded(f"modelgen C ({mode})", lambda mode=mode: c_target(mode))
    rows += guarded("modelgen Java", java_target)
    rows += guarded("modelgen Python", python_target)
    return rows


# ---------------------------------------------------------------------------------------------
# peers: each in a worker subprocess (a crash, a hang or a recursion limit stays there)


def run_worker(bench: Bench, kind: str) -> dict[str, Any]:
    """Start ``trees.py --worker KIND`` on the work directory; its JSON result (or Failure)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--workdir", str(bench.workdir),
            "--rows", str(bench.rows), "--repeats", str(bench.repeats)]
    try:
        done = run_group(argv, None, bench.timeout)
    except subprocess.TimeoutExpired as exc:
        raise Failure(f"timed out after {bench.timeout:.0f} s") from exc
    result_path = bench.workdir / f"{kind}.json"
    if done.returncode != 0 or not result_path.exists():
        raise Failure(f"worker exit {done.returncode}: {_tail(done.stderr or done.stdout)}")
    result = json.loads(result_path.read_text())
    if "error" in result:
        raise Failure(result["error"])
    return result


def measure_worker_peer(bench: Bench, kind: str, tool: str) -> Row:
    """onnxruntime or tl2cgen, measured in a worker that writes ``KIND.out.bin``."""
    result = run_worker(bench, kind)
    out_path = bench.workdir / f"{kind}.out.bin"
    got = np.fromfile(out_path, dtype=np.float64)
    out_path.unlink()
    row = Row(tool=tool, build_s=result["build_s"], code_bytes=result["code_bytes"], code_unit=result["code_unit"],
              note=result.get("note", ""))
    return bench.finish(row, result["seconds"], got)


def measure_m2cgen(bench: Bench, flags_from: Path | None) -> Row:
    """m2cgen's C (generated in a worker with a raised recursion limit), built and timed like modelgen's C."""
    from emitters.c.emitter import CFLAGS

    result = run_worker(bench, "m2cgen")
    outdir = bench.workdir / "m2cgen"
    row = Row(tool="m2cgen C", code_bytes=result["code_bytes"], code_unit="src",
              note="generated with the recursion limit raised to 1,000,000 (worker only)")
    (outdir / "mg_bench.c").write_text(m2cgen_c_harness())
    flags = list(CFLAGS)
    if flags_from is not None and flags_from.exists():  # modelgen's manifest flags, exactly
        flags = [a for a in json.loads(flags_from.read_text())["build"][0][1:] if a.startswith("-") and a != "-c"]
    started = time.perf_counter()
    run_command(["cc", *flags, "-c", "model.c"], outdir, bench.timeout)
    row.build_s = time.perf_counter() - started + result["build_s"]
    run_command(["cc", *flags, "-o", "mg_bench", "mg_bench.c", "model.o", "-lm"], outdir, bench.timeout)
    stdout, got = bench.harness_run(["./mg_bench"], outdir, outdir / "out.bin")
    row.extra["generate_s"] = result["build_s"]
    return bench.finish(row, float(stdout.split()[0]), got)


def worker_main(kind: str, workdir: Path, rows: int, repeats: int) -> None:
    """Worker body: load the model and X.bin, measure one peer, write ``KIND.json`` (+ ``KIND.out.bin``)."""
    import joblib

    result_path = workdir / f"{kind}.json"
    try:
        model = joblib.load(workdir / "model.joblib")
        x = np.fromfile(workdir / "X.bin", dtype=np.float64).reshape(rows, N_FEATURES)
        result = {"onnxruntime": _worker_onnx, "tl2cgen": _worker_tl2cgen, "m2cgen": _worker_m2cgen}[kind](
            model, x, workdir, repeats
        )
    except BaseException as exc:  # reported as the peer's failure by the parent
        result = {"error": f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]}
    result_path.write_text(json.dumps(result))


def _worker_onnx(model: Any, x: np.ndarray, workdir: Path, repeats: int) -> dict[str, Any]:
    import onnxruntime
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    shimmed = _shim_skl2onnx_bool_attributes()
    started = time.perf_counter()
    onnx_model = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, N_FEATURES]))])
    data = onnx_model.SerializeToString()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    build_s = time.perf_counter() - started
    x32 = x.astype(np.float32)
    del x
    output = session.get_outputs()[0].name
    seconds, got = best_time(lambda: session.run([output], {"input": x32})[0], repeats)
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    got.tofile(workdir / "onnxruntime.out.bin")
    return {"seconds": seconds, "build_s": build_s, "code_bytes": len(data), "code_unit": "onnx",
            "note": f"float32 input and {np.asarray(session.run([output], {'input': x32[:1]})[0]).dtype} output "
                    "(skl2onnx); build = convert + session" + ("; bool->int attribute shim used" if shimmed[0] else "")}


def _shim_skl2onnx_bool_attributes() -> list[bool]:
    """Let skl2onnx build HistGradientBoosting nodes with this onnx version; the list says if it was needed.

    skl2onnx 1.20 passes ``nodes_missing_value_tracks_true`` with some booleans, which onnx 1.23's
    ``make_attribute`` rejects ("Expected an int, got a boolean"); the values are 0/1 flags, so
    they are handed over as ints, unchanged in meaning.
    """
    from skl2onnx.common import _container

    used = [False]
    original = _container.make_node

    def make_node(*args: Any, **attrs: Any) -> Any:
        for key, value in attrs.items():
            if isinstance(value, list) and any(isinstance(v, (bool, np.bool_)) for v in value):
                attrs[key] = [int(v) for v in value]
                used[0] = True
        return original(*args, **attrs)

    _container.make_node = make_node
    return used


def _worker_tl2cgen(model: Any, x: np.ndarray, workdir: Path, repeats: int) -> dict[str, Any]:
    import tl2cgen
    import treelite.sklearn

    started = time.perf_counter()
    tl_model = treelite.sklearn.import_model(model)
    libpath = workdir / "tl2cgen" / "model.so"
    libpath.parent.mkdir(exist_ok=True)
    # parallel_comp splits the generated C into files (gcc is superlinear in function size);
    # nthread=1 keeps the compile on one core like modelgen's single cc call
    tl2cgen.export_lib(tl_model, toolchain="gcc", libpath=str(libpath), params={"parallel_comp": 8}, nthread=1)
    predictor = tl2cgen.Predictor(str(libpath), nthread=1)
    build_s = time.perf_counter() - started
    matrix = tl2cgen.DMatrix(x, dtype="float64")
    seconds, got = best_time(lambda: predictor.predict(matrix), repeats)
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    got.tofile(workdir / "tl2cgen.out.bin")
    return {"seconds": seconds, "build_s": build_s, "code_bytes": libpath.stat().st_size, "code_unit": ".so",
            "note": "Predictor(nthread=1), float64 DMatrix; build = import + export_lib(gcc)"}


def _worker_m2cgen(model: Any, x: np.ndarray, workdir: Path, repeats: int) -> dict[str, Any]:
    import threading

    import m2cgen

    # m2cgen recurses over its own AST: raise the limit (and the thread stack) here only
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1024 * 1024 * 1024)
    box: dict[str, Any] = {}

    def generate() -> None:
        try:
            box["code"] = m2cgen.export_to_c(model)
        except BaseException as exc:
            box["error"] = exc

    started = time.perf_counter()
    thread = threading.Thread(target=generate)
    thread.start()
    thread.join()
    build_s = time.perf_counter() - started
    if "error" in box:
        exc = box["error"]
        return {"error": f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]}
    outdir = workdir / "m2cgen"
    outdir.mkdir(exist_ok=True)
    (outdir / "model.c").write_text(box["code"])
    return {"build_s": build_s, "code_bytes": len(box["code"].encode())}


# ---------------------------------------------------------------------------------------------
# one model


def measure_model(spec: ModelSpec, args: argparse.Namespace, limit: int) -> dict[str, Any]:
    """Train ``spec``, write its rows, measure every tool; the model's table as a dict."""
    from threadpoolctl import threadpool_limits

    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"trees_{spec.key}_", dir=args.workdir))
    print(f"\n[{spec.key}] training {spec.description} on {spec.train_rows:,} rows ...", flush=True)
    x_train, y_train = make_data(spec.train_rows, seed=1, missing=spec.missing)
    model = spec.build()
    started = time.perf_counter()
    with threadpool_limits(1):  # OpenMP fits oversubscribe badly on a shared 2-core box
        model.fit(x_train, y_train)
    fit_s = time.perf_counter() - started
    del x_train, y_train
    if hasattr(model, "n_jobs"):
        model.set_params(n_jobs=1)  # predict single-threaded (and the pickle the tools load)
    import joblib

    model_path = workdir / "model.joblib"
    joblib.dump(model, model_path)
    n_trees, n_leaves = _tree_counts(model)
    print(f"[{spec.key}] fitted in {fit_s:.1f} s: {n_trees} trees, {n_leaves:,} leaves", flush=True)

    x, _ = make_data(args.rows, seed=2, missing=spec.missing)
    x_path = workdir / "X.bin"
    x.tofile(x_path)
    with threadpool_limits(1):
        sk_seconds, reference = best_time(lambda: model.predict(x), args.repeats)
    reference = np.ascontiguousarray(reference, dtype=np.float64)
    sklearn_ns = sk_seconds / args.rows * 1e9
    print(f"[{spec.key}] scikit-learn predict: {sklearn_ns:,.0f} ns/row", flush=True)
    bench = Bench(workdir, x, x_path, reference, sklearn_ns, args.repeats, args.timeout, args.python_rows)
    rows = [Row(tool="scikit-learn predict", ns_per_row=sklearn_ns, speedup=1.0, rows_scored=args.rows,
                note="1 thread (threadpoolctl + OMP_NUM_THREADS=1)")]
    tools = set(args.tools)
    if "modelgen" in tools:
        rows += guarded("modelgen", lambda: measure_modelgen(bench, model_path, limit))
        _progress(spec.key, rows[-5:])
    peers = [("onnxruntime", "onnxruntime (skl2onnx)", lambda: measure_worker_peer(bench, "onnxruntime", "")),
             ("tl2cgen", "treelite + tl2cgen", lambda: measure_worker_peer(bench, "tl2cgen", "")),
             ("m2cgen", "m2cgen C", lambda: measure_m2cgen(bench, workdir / "modelgen_C_(ifelse)" / "manifest.json"))]
    for key, tool, measure in peers:
        if key not in tools:
            continue
        if importlib.util.find_spec({"onnxruntime": "skl2onnx", "tl2cgen": "tl2cgen", "m2cgen": "m2cgen"}[key]) is None:
            rows.append(Row(tool=tool, failed="not installed (pip install -e '.[bench]')"))
            continue
        measured = guarded(tool, measure)
        for row in measured:
            row.tool = tool
        rows += measured
        _progress(spec.key, measured)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"[{spec.key}] kept {workdir}")
    return {"model": spec.key, "description": spec.description, "train_rows": spec.train_rows, "fit_s": fit_s,
            "trees": n_trees, "leaves": n_leaves, "rows": args.rows, "missing_share": 0.05 if spec.missing else 0.0,
            "table": [asdict(r) for r in rows]}


def _progress(key: str, rows: list[Row]) -> None:
    for row in rows:
        state = f"failed: {row.failed}" if row.failed else f"{row.ns_per_row:,.0f} ns/row" if row.ns_per_row else ""
        print(f"[{key}]   {row.tool}: {state}", flush=True)


def _tree_counts(model: Any) -> tuple[int, int]:
    if hasattr(model, "_predictors"):  # HistGradientBoosting
        trees = [p for stage in model._predictors for p in stage]
        return len(trees), sum(int(p.nodes["is_leaf"].sum()) for p in trees)
    estimators = np.asarray(model.estimators_, dtype=object).reshape(-1)
    return len(estimators), sum(int(e.tree_.n_leaves) for e in estimators)


# ---------------------------------------------------------------------------------------------
# report


def _size(n: int | None, unit: str) -> str:
    if n is None:
        return ""
    text = f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"
    return f"{text} {unit}".strip()


def _ulp(value: float | None) -> str:
    if value is None:
        return ""
    return "inf" if math.isinf(value) else f"{value:.3g}" if value >= 1e6 else f"{int(value)}"


def format_table(result: dict[str, Any]) -> str:
    """The printed table of one model."""
    header = ("tool", "ns/row", "vs sklearn", "modelgen s", "build s", "code size", "max ULP", "bit-identical",
              "max rel err", "note")
    lines = [header]
    for r in result["table"]:
        if r["failed"]:
            message = r["failed"] if len(r["failed"]) <= 160 else r["failed"][:157] + "..."
            lines.append((r["tool"], f"failed: {message}", *[""] * 8))
            continue
        lines.append((
            r["tool"],
            f"{r['ns_per_row']:,.0f}" if r["ns_per_row"] is not None else "",
            f"{r['speedup']:.2f}x" if r["speedup"] is not None else "",
            f"{r['modelgen_s']:.2f}" if r["modelgen_s"] is not None else "",
            f"{r['build_s']:.1f}" if r["build_s"] is not None else "",
            _size(r["code_bytes"], r["code_unit"]),
            _ulp(r["max_ulp"]) if r["tool"] != "scikit-learn predict" else "(reference)",
            f"{100 * r['identical']:.3f} %" if r["identical"] is not None else "",
            f"{r['max_rel_err']:.2g}" if r["max_rel_err"] is not None else "",
            r["note"],
        ))
    # a failed row's message spans the remaining columns, so it does not widen them
    widths = [max(len(line[i]) for line in lines if not line[1].startswith("failed")) for i in range(len(header))]
    widths[0] = max(len(line[0]) for line in lines)
    out = [f"== {result['model']}: {result['description']}: {result['trees']} trees, {result['leaves']:,} leaves; "
           f"{result['rows']:,} rows x {N_FEATURES} features"
           + (f" ({100 * result['missing_share']:.0f} % NaN)" if result["missing_share"] else "") + " =="]
    for line in lines:
        if line[1].startswith("failed"):
            out.append(f"{line[0]:<{widths[0]}}  {line[1]}")
            continue
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:-1], widths[1:-1])] + [line[-1]]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def check_goals(result: dict[str, Any]) -> list[str]:
    """Loud lines for broken parity, and the issue's goals (modelgen time; headline speed for hgb500)."""
    messages: list[str] = []
    table = {r["tool"]: r for r in result["table"]}
    for r in result["table"]:
        if r["must_be_exact"] and not r["failed"] and (r["max_ulp"] != 0 or r["identical"] != 1.0):
            messages.append(f"!!! PARITY FAILURE: {result['model']} {r['tool']}: max ULP {_ulp(r['max_ulp'])}, "
                            f"{100 * r['identical']:.4f} % bit-identical (must be 0 ULP / 100 %) !!!")
        if r["tool"].startswith("modelgen") and r["failed"]:
            messages.append(f"!!! MODELGEN FAILURE: {result['model']} {r['tool']}: {r['failed']} !!!")
    times = [r["modelgen_s"] for r in result["table"] if r["modelgen_s"] is not None]
    if times:
        verdict = "OK" if max(times) < MODELGEN_GOAL_S else "OVER THE GOAL"
        messages.append(f"modelgen time (lower + emit, per target): max {max(times):.2f} s, goal < "
                        f"{MODELGEN_GOAL_S:.0f} s: {verdict}; recursion limit unchanged ({sys.getrecursionlimit()})")
    c_rows = [r for r in result["table"] if r["tool"].startswith("modelgen C") and r["ns_per_row"]]
    if c_rows:
        best = min(c_rows, key=lambda r: r["ns_per_row"])
        parts = [f"best modelgen C = {best['tool']} at {best['ns_per_row']:,.0f} ns/row: "
                 f"{best['speedup']:.2f}x scikit-learn (goal >= {HEADLINE_SPEEDUP:.0f}x: "
                 f"{'OK' if best['speedup'] >= HEADLINE_SPEEDUP else 'MISSED'})"]
        for peer in ("treelite + tl2cgen", "onnxruntime (skl2onnx)"):
            other = table.get(peer)
            if other and other["ns_per_row"]:
                ratio = other["ns_per_row"] / best["ns_per_row"]
                parts.append(f"{ratio:.2f}x {peer} ({'faster' if ratio > 1 else 'NOT faster'})")
        messages.append("; ".join(parts))
    return messages


def main() -> None:
    """Parse options, measure each model, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows every tool scores")
    parser.add_argument("--models", default="hgb500,rf1000,gb1000", help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--tools", default="modelgen,onnxruntime,tl2cgen,m2cgen", help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="write the tables as JSON here")
    parser.add_argument("--repeats", type=int, default=3, help="best of N timed passes (fewer once a pass is slow)")
    parser.add_argument("--python-rows", type=int, default=20_000, help="rows the Python scorer scores")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per build / scoring step / peer")
    parser.add_argument("--workdir", type=Path, help="parent of the temporary work directories")
    parser.add_argument("--keep", action="store_true", help="keep the work directories (generated code, harnesses)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker, args.workdir, args.rows, args.repeats)
        return
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    limit = sys.getrecursionlimit()
    environment = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                   "load_average_start": os.getloadavg(), "versions": _versions()}
    print(f"rows {args.rows:,}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; "
          + ", ".join(f"{k} {v}" for k, v in environment["versions"].items()), flush=True)
    results: list[dict[str, Any]] = []
    printed: list[str] = []
    failures = False
    for key in keys:  # each table is printed (and the JSON rewritten) as soon as its model is done
        result = measure_model(MODELS[key], args, limit)
        results.append(result)
        messages = check_goals(result)
        failures |= any(m.startswith("!!!") for m in messages)
        block = ["", format_table(result), *messages]
        printed += block
        print("\n".join(block), flush=True)
        environment["load_average_end"] = os.getloadavg()
        if args.json:
            args.json.write_text(json.dumps({"environment": environment, "models": results}, indent=2, default=str)
                                 + "\n")
    _recursion_guard(limit)
    if len(results) > 1:  # all tables together at the end, after the progress lines
        print("\n" + "=" * 40 + " summary " + "=" * 40)
        print("\n".join(printed))
    if args.json:
        print(f"\nwrote {args.json}")
    if failures:
        sys.exit(1)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("scikit-learn", "numpy", "skl2onnx", "onnxruntime", "treelite", "tl2cgen", "m2cgen"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    gcc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()
    found["cc"] = gcc[0] if gcc else "?"
    return found


if __name__ == "__main__":
    main()
