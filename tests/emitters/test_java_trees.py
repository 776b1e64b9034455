"""``TreeLeaf`` in the java target: the walk (emitters/java/walk.py) for numeric trees, packed
node tables and one routing loop (emitters/java/trees.py) for the rest.

Every output is compared bit for bit with ``modelgen.ir.evaluate`` through the real runner
(javac ``-Xlint:all -Werror``; it scores through ``scoreBatch`` in blocks, and ``--row-by-row``
through ``score``), on rows exactly on thresholds and their neighbours, NaN, +-inf, -0.0, every
category and unseen ones; then a 1,000-tree forest and a 1,000-stage boosting model must emit,
compile within the JVM's limits and score 200 random rows exactly.
"""

from __future__ import annotations

import math
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import helpers_java as hj
import pytest
import runner_csv

from emitters.base import EmitOptions, EmittedProgram
from emitters.java import JavaEmitter
from emitters.java.trees import CHUNK_CHARS
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    ArgMax,
    Binary,
    Cast,
    Const,
    Input,
    InputField,
    IsMissing,
    Lookup,
    Model,
    Not,
    OutputField,
    RowCheck,
    Split,
    Sum,
    TreeLeaf,
    leaf_ref,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

JIT_METHOD_LIMIT = 8000  # HotSpot's HugeMethodLimit: bigger methods are never compiled
CONSTANT_POOL_LIMIT = 65535


def _build(model: Model, outdir: Path, name: str) -> EmittedProgram:
    program = JavaEmitter().emit(model, EmitOptions(name=name, runner=True))
    hj.write_program(program, outdir)
    hj.build(program, outdir)
    return program


def _failures(model: Model, program: EmittedProgram, outdir: Path, rows: list[dict[str, Any]]) -> list[str]:
    """Outputs differing from ``evaluate``; scoring row by row must print exactly what the batch printed."""
    status, stdout, stderr = hj.run(program, outdir, hj.csv_text(model, rows))
    assert status == 0, stderr
    assert _run_row_by_row(program, outdir, hj.csv_text(model, rows)) == (status, stdout, stderr)
    parsed = hj.parse_output(model, stdout)
    assert len(parsed) == len(rows)
    failures = []
    for index, (row, (_, actual)) in enumerate(zip(rows, parsed)):
        expected = evaluate(model, hj.as_csv_sees(model, row))
        failures += [f"row {index + 1} {row!r}: {m}" for m in hj.mismatches(model, actual, expected)]
    return failures


def _run_row_by_row(program: EmittedProgram, outdir: Path, stdin: str) -> tuple[int, str, str]:
    argv = [*program.manifest["run"], "--row-by-row"]
    done = subprocess.run(argv, cwd=outdir, input=stdin.encode("utf-8"), capture_output=True, check=False)
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def _constant_pool_size(class_file: Path) -> int:
    # the u2 after magic (4 bytes) and version (4 bytes) is constant_pool_count
    return int.from_bytes(class_file.read_bytes()[8:10], "big") - 1


@pytest.mark.parametrize("passes", [False, True], ids=["raw", "float32-pass"])
def test_every_split_test_and_missing_direction_matches_the_interpreter(tmp_path: Path, passes: bool) -> None:
    model = runner_csv.edge_tree_model()
    if passes:
        model = run_passes(model)
    program = _build(model, tmp_path, "Edge")
    rows = runner_csv.edge_tree_rows()
    failures = _failures(model, program, tmp_path, rows)
    assert not failures, "\n".join(failures[:20])
    # the rows really reach every leaf of every routed tree
    reached = {name: set() for name in ("leaf_thresholds", "leaf_categories", "leaf_float32")}
    for row in rows:
        outputs = evaluate(model, hj.as_csv_sees(model, row))
        for name, seen in reached.items():
            seen.add(outputs[name])
    assert {name: len(seen) for name, seen in reached.items()} == {
        "leaf_thresholds": 8,
        "leaf_categories": 7,
        "leaf_float32": 4,
    }


def test_routing_is_one_loop_and_categories_travel_packed() -> None:
    program = JavaEmitter().emit(runner_csv.edge_tree_model(), EmitOptions(name="Edge"))
    source = dict(program.files)["Edge.java"]
    assert source.count("route(") == 1 + 3, "one route method, one call per routed tree"
    assert source.count("while (true)") == 1
    # categories travel as UTF-16 inside base64; the nasty text appears once, as an escaped label
    assert source.count("DROP TABLE") == 1
    assert '"O\'Brien\\"; DROP TABLE x; --"' in source


@pytest.mark.parametrize("leftward", [False, True], ids=["right-path", "left-path"])
def test_ten_thousand_deep_path_tree(tmp_path: Path, leftward: bool) -> None:
    model = runner_csv.path_tree_model(10_000, leftward=leftward)
    program = _build(model, tmp_path, "Path")
    rows = runner_csv.path_tree_rows(10_000)
    failures = _failures(model, program, tmp_path, rows)
    assert not failures, "\n".join(failures[:20])
    leaves = {evaluate(model, hj.as_csv_sees(model, row))["leaf"] for row in rows}
    assert len(leaves) >= 8, sorted(leaves)  # start, middle and end of the path


def test_emitting_twice_is_byte_identical() -> None:
    for model in (runner_csv.edge_tree_model(), runner_csv.forest_model(20, 6, boosting=False, seed=3)):
        options = EmitOptions(name="Twice", runner=True)
        assert JavaEmitter().emit(model, options) == JavaEmitter().emit(model, options)


@pytest.mark.parametrize("kind", ["forest", "boosting"])
def test_thousand_tree_models_stay_within_jvm_limits_and_match(tmp_path: Path, kind: str) -> None:
    model, rows, expected = runner_csv.big_tree_model(kind)
    started = time.perf_counter()
    program = JavaEmitter().emit(model, EmitOptions(name="Big", runner=True))
    emit_seconds = time.perf_counter() - started
    hj.write_program(program, tmp_path)
    started = time.perf_counter()
    hj.build(program, tmp_path)
    javac_seconds = time.perf_counter() - started
    status, stdout, stderr = hj.run(program, tmp_path, hj.csv_text(model, rows))
    assert status == 0, stderr
    failures = []
    for index, ((_, actual), wanted) in enumerate(zip(hj.parse_output(model, stdout), expected)):
        failures += [f"row {index + 1}: {m}" for m in runner_csv.mismatches(actual, wanted, hj.ulp_budgets(model))]
    assert not failures, "\n".join(failures[:20])
    sizes = hj.method_code_sizes(tmp_path)
    assert max(sizes.values()) <= JIT_METHOD_LIMIT, max(sizes.items(), key=lambda item: item[1])
    class_file = tmp_path / "classes" / "Big.class"
    assert _constant_pool_size(class_file) < CONSTANT_POOL_LIMIT // 4
    source = dict(program.files)["Big.java"]
    assert max(len(chunk) for chunk in re.findall(r'"([A-Za-z0-9+/=]{1000,})"', source)) <= CHUNK_CHARS
    print(
        f"\n{kind}: emit {emit_seconds:.1f} s, javac {javac_seconds:.1f} s, source {len(source) / 1e6:.1f} MB, "
        f"class {class_file.stat().st_size / 1e6:.1f} MB, constant pool {_constant_pool_size(class_file)}, "
        f"largest method {max(sizes.values())} bytes"
    )
    assert emit_seconds < 30, "modelgen time budget (10 s on an idle machine)"


# --- the walk ---------------------------------------------------------------------------------

WALK_THRESHOLDS = (-math.inf, math.inf, -0.0, 0.0, 0.5, -2.5, 5e-324, 1.7976931348623157e308)


def _stump(features: tuple[Any, ...], feature: int, test: str, threshold: float, missing_left: bool) -> TreeLeaf:
    return TreeLeaf(features, [Split(feature, test, threshold, missing_left, leaf_ref(0), leaf_ref(1))])


def walk_model() -> Model:
    """Numeric trees only, so every one is walked: a stump per (test, NaN direction, threshold) --
    lt -inf and le +inf included -- over a, b, a float32 feature and an expression feature; deeper
    trees; a single-leaf tree; per-class sums over the same trees (a classifier's shape) with an
    ArgMax label, constants between the terms and scaled lookups; a tree whose leaf number and a
    string lookup are read outside any sum; and a check."""
    a, b, c = Input("a", DOUBLE), Input("b", DOUBLE), Input("c", DOUBLE)
    features = (a, b, Cast(a, FLOAT32), Binary("add", a, b))
    stumps = [
        _stump(features, index % len(features), test, threshold, missing_left)
        for index, (test, missing_left, threshold) in enumerate(
            (test, missing_left, threshold)
            for test in ("le", "lt")
            for missing_left in (False, True)
            for threshold in WALK_THRESHOLDS
        )
    ]
    deep = TreeLeaf(
        (b, a),
        [
            Split(0, "le", 0.5, True, 1, 2),
            Split(1, "lt", -0.0, False, 3, leaf_ref(0)),
            Split(1, "le", 1.0, True, leaf_ref(1), 4),
            Split(0, "lt", -math.inf, True, leaf_ref(2), leaf_ref(3)),
            Split(0, "le", 2.5, False, leaf_ref(4), leaf_ref(5)),
        ],
    )
    lone = TreeLeaf((a,), [])
    trees = [*stumps, deep]
    values = [tuple(float(k * 8 + leaf) / 7 for leaf in range(t.n_leaves)) for k, t in enumerate(trees)]
    classes = []
    for cls in range(3):
        terms: list[Any] = [Const(0.1 * cls)]
        for k, (tree, leaf_values) in enumerate(zip(trees, values)):
            lookup = Lookup(tree, tuple(v * (cls + 1) - 0.5 for v in leaf_values), DOUBLE)
            terms.append(Binary("mul", lookup, Const(0.3)) if k % 3 == cls else lookup)
            if k % 5 == 0:
                terms.append(Const(1e-3 * k))
        terms.append(Lookup(lone, (0.75,), DOUBLE))
        classes.append(Sum(tuple(terms)))
    extremes = Sum((Lookup(deep, (1e308, 1e308, -0.0, math.inf, -math.inf, 5e-324), DOUBLE), Const(1e308)))
    outputs = [
        *(OutputField(f"p{cls}", "probability", total, str(cls)) for cls, total in enumerate(classes)),
        OutputField("label", "label", Lookup(ArgMax(tuple(classes)), ("zero", "one", "two"), STRING)),
        OutputField("extremes", "value", extremes),
        OutputField("deep_leaf", "value", Cast(deep, DOUBLE)),
        OutputField("deep_name", "label", Lookup(deep, ("l0", "l1", "l2", "l3", "l4", "l5"), STRING)),
        *(OutputField(f"stump{k}", "value", Cast(tree, DOUBLE)) for k, tree in enumerate(stumps[::5])),
    ]
    checks = (RowCheck(Not(IsMissing(c)), "c must not be missing"),)
    inputs = (InputField("a", DOUBLE), InputField("b", DOUBLE), InputField("c", DOUBLE))
    return Model(inputs, tuple(outputs), checks)


def fused_model() -> Model:
    """An ensemble regressor's shape: one sum of one lookup per tree (the walk adds leaf values straight
    from the node array), over trees of many depths so blocks mix long and short walks."""
    model = runner_csv.forest_model(40, 9, boosting=True, seed=5, inputs=4)
    return model


def walk_rows() -> list[dict[str, Any]]:
    """Every walk threshold, its float64 and float32 neighbours, NaN, +-inf and -0.0, in every pair:
    several of the runner's batches and a partial one (the 16-row interleave and its tail)."""
    values: list[float | None] = [None, math.nan, 0.1, 0.3, 2.5, 0.10000000149011612, 0.10000000894069672]
    for threshold in WALK_THRESHOLDS:
        values += [math.nextafter(threshold, -math.inf), threshold, math.nextafter(threshold, math.inf)]
    return [{"a": a, "b": b, "c": 1.0} for a in values for b in values]


def test_walk_matches_the_interpreter_in_batches_and_row_by_row(tmp_path: Path) -> None:
    model = walk_model()
    program = _build(model, tmp_path, "Walk")
    source = dict(program.files)["Walk.java"]
    assert "private static void walk(" in source and "route(" not in source
    rows = walk_rows()
    assert len(rows) > 2 * 256, "the runner's batches hold 256 rows: several, and a partial one"
    failures = _failures(model, program, tmp_path, rows)
    assert not failures, "\n".join(failures[:20])
    labels = {evaluate(model, hj.as_csv_sees(model, row))["deep_name"] for row in rows}
    assert labels == {f"l{i}" for i in range(6)}, "the rows reach every leaf of the deep tree"


def test_walk_fused_ensemble_matches_the_interpreter(tmp_path: Path) -> None:
    model = fused_model()
    program = _build(model, tmp_path, "Fused")
    source = dict(program.files)["Fused.java"]
    assert "acc[r * 1 + a] += WT[n0];" in source, "leaf values added straight from the node array"
    rows = runner_csv.forest_rows(model, 150, seed=4)
    failures = _failures(model, program, tmp_path, rows)
    assert not failures, "\n".join(failures[:20])


def test_walk_refuses_a_row_in_the_middle_of_a_batch(tmp_path: Path) -> None:
    model = walk_model()
    program = _build(model, tmp_path, "Refuse")
    rows = walk_rows()[:300]
    rows[270]["c"] = None
    expected = hj.csv_text(model, rows[:270])
    good_status, good_stdout, _ = hj.run(program, tmp_path, expected)
    assert good_status == 0
    for result in (hj.run(program, tmp_path, hj.csv_text(model, rows)), _run_row_by_row(
            program, tmp_path, hj.csv_text(model, rows))):
        status, stdout, stderr = result
        assert status == 1
        assert stderr.strip() == "row 271: c must not be missing"
        assert stdout == good_stdout, "the rows before the refused one are written, nothing after"


def test_trees_on_category_sets_keep_the_routing_loop() -> None:
    source = dict(JavaEmitter().emit(runner_csv.edge_tree_model(), EmitOptions(name="Edge")).files)["Edge.java"]
    assert "private static void walk(" not in source and "public static void scoreBatch(" in source
