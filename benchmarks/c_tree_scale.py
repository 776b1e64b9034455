"""The C target's scale runs, too slow for CI: emit, gcc and parity at full size.

    python benchmarks/c_tree_scale.py [--cases forest,boosting,random,path] [--modes table,auto]

The CI tests (``tests/emitters/test_c_trees.py``) prove the same code paths on smaller models
(1,000 shallow trees, ~2,000-split random trees, a 2,500-deep path); here the sizes of the issue:
a 1,000-tree depth-12 forest (~475k splits) and 1,000 full depth-8 boosting trees (255k splits),
six random depth-20 trees with every category test (~52k splits), a 10,000-deep path tree. Per
case and ``c_tree_mode``: modelgen's emit seconds (goal < 10 s), gcc's user CPU seconds (a child
process: not disturbed by other load the way wall time is), the source size and the number of
outputs that differ in any bit from ``modelgen.ir.evaluate`` on 300 rows (must be 0).
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "emitters")]

from helpers_c import as_csv_sees, build, csv_text, mismatches, parse_output, run, write_program  # noqa: E402
from test_c_trees import (  # noqa: E402
    FEATURES,
    INPUTS,
    STRING_VALUES,
    _neighbours,
    _scale_rows,
    ensemble,
    path_tree,
    random_tree,
)

from emitters.base import EmitOptions  # noqa: E402
from emitters.c import CEmitter  # noqa: E402
from modelgen.ir import DOUBLE, Cast, Lookup, Model, OutputField, Sum  # noqa: E402
from modelgen.ir.evaluate import evaluate  # noqa: E402

Case = tuple[Model, list[dict[str, Any]]]


def _forest() -> Case:
    model, grid = ensemble(1000, 12, 0.8, 1, mean=True)
    return model, _scale_rows(model, grid, 300)


def _boosting() -> Case:
    model, grid = ensemble(1000, 8, 1.0, 2, mean=False)
    return model, _scale_rows(model, grid, 300)


def _random() -> Case:
    """The former CI test: six random depth-20 trees (p = 0.75) with every test on numbers and strings."""
    rng = random.Random(20)
    grid = [round(rng.uniform(-3, 3), 2) for _ in range(40)] + [-0.0, 0.0]
    trees = [random_tree(rng, FEATURES, 20, 0.75, grid, categorical=True) for _ in range(6)]
    terms = tuple(Lookup(t, tuple(rng.uniform(-1, 1) for _ in range(t.n_leaves)), DOUBLE) for t in trees)
    outputs = [OutputField("sum", "value", Sum(terms))]
    outputs += [OutputField(f"leaf{i}", "value", Cast(t, DOUBLE)) for i, t in enumerate(trees)]
    rows = []
    for _ in range(300):
        row: dict[str, Any] = {name: rng.choice([*grid, *_neighbours(grid[:5]), None, math.inf, -math.inf])
                               for name in ("x", "y", "w")}
        row["color"] = rng.choice(STRING_VALUES)
        rows.append(row)
    return Model(INPUTS, tuple(outputs)), rows


def _path() -> Case:
    values = [-math.inf, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 4999.0, 4999.5, 9998.0, 9999.0, 9999.5, 1e300, math.inf]
    return path_tree(10_000), [{"x": v} for v in [*_neighbours(values), None]]


CASES: dict[str, Callable[[], Case]] = {"forest": _forest, "boosting": _boosting, "random": _random, "path": _path}
MODES = ("auto", "table", "ifelse", "walk")


def measure(case: str, mode: str, model: Model, rows: list[dict[str, Any]], expected: list[Any]) -> str:
    """One line: emit seconds, gcc CPU seconds, source MB, differing outputs (or why the mode does not apply)."""
    start = time.perf_counter()
    try:
        program = CEmitter().emit(model, EmitOptions(name="scorer", runner=True, extra=(("c_tree_mode", mode),)))
    except Exception as error:  # a mode that does not apply (walk on category splits) is a row saying so
        return f"{case:9} {mode:7} not emitted: {error}"
    emit_s = time.perf_counter() - start
    source = dict(program.files)["scorer.c"]
    with tempfile.TemporaryDirectory() as directory:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        write_program(program, Path(directory))
        build(program, Path(directory))
        gcc_s = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
        result = run(Path(directory) / "scorer", csv_text(model, rows))
    if result.returncode != 0:
        return f"{case:9} {mode:7} runner failed: {result.stderr[:200]}"
    differing = mismatches(expected, parse_output(model, result.stdout))
    return (f"{case:9} {mode:7} emit {emit_s:6.2f} s  gcc {gcc_s:7.1f} s CPU  {len(source) / 1e6:5.1f} MB"
            f"  differing outputs {len(differing)}")


def main() -> None:
    """Run the chosen cases in the chosen modes and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--modes", default="table,auto")
    args = parser.parse_args()
    for case in args.cases.split(","):
        model, rows = CASES[case]()
        expected = [evaluate(model, as_csv_sees(model, r)) for r in rows]
        for mode in args.modes.split(","):
            if mode not in MODES:
                raise SystemExit(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
            print(measure(case, mode, model, rows, expected), flush=True)


if __name__ == "__main__":
    main()
