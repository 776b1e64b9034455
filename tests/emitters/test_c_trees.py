"""The c target's decision trees (``TreeLeaf``), in both routing modes: built with gcc -Wall -Wextra
-Werror -pedantic, run through the CSV runner (which scores with ``NAME_score_batch``) and the struct
API (``NAME_score``), every output compared bit for bit with ``modelgen.ir.evaluate``."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from helpers_c import (
    as_csv_sees,
    build,
    compile_c,
    csv_text,
    expected_harness_lines,
    harness_source,
    input_array,
    mismatches,
    parse_output,
    run,
    write_program,
)
from ir_samples import NASTY

from emitters.base import EmitOptions
from emitters.c import CEmitter
from emitters.c.emitter import CFLAGS
from emitters.c.literals import mangle_identifiers
from emitters.c.trees import FUNCTION_SPLITS, IFELSE_MAX_SPLITS, SMALL_SET, TreePlan
from emitters.c.walk import BLOCK_ROWS
from modelgen.errors import ModelgenError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    Binary,
    Cast,
    Const,
    Input,
    InputField,
    Lookup,
    Model,
    Node,
    OutputField,
    Split,
    Sum,
    TreeLeaf,
    Unary,
    leaf_ref,
)
from modelgen.ir.evaluate import evaluate

MODES = ("ifelse", "table")

X, Y, W, COLOR = Input("x", DOUBLE), Input("y", DOUBLE), Input("w", DOUBLE), Input("color", STRING)
INPUTS = (InputField("x", DOUBLE), InputField("y", DOUBLE), InputField("w", DOUBLE), InputField("color", STRING))
FEATURES = (X, Y, W, COLOR)

THRESHOLDS = (0.5, -0.0, 0.0, math.inf, -math.inf, 1.7976931348623157e308, 5e-324, -2.5, 0.1)
DOUBLE_SMALL = (1.0, -0.0, math.inf)
DOUBLE_BIG = (*(float(v) for v in range(-5, 10)), 0.5, -math.inf, 1e300)
STRING_SMALL = ("red", NASTY, "")
STRING_BIG = ("red", "green", "blue", NASTY, "", "é", "z", "a", "ab", "b", "€", "Red")
assert len(DOUBLE_SMALL) <= SMALL_SET < len(DOUBLE_BIG) and len(STRING_SMALL) <= SMALL_SET < len(STRING_BIG)


def _neighbours(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in values:
        out += [v, math.nextafter(v, math.inf), math.nextafter(v, -math.inf)]
    return out


DOUBLE_VALUES: list[float | None] = [
    *_neighbours((*THRESHOLDS, *DOUBLE_SMALL, *DOUBLE_BIG, 0.10000000149011612)), None, math.nan, 0.25, 123.0,
]
STRING_VALUES: list[str | None] = [*STRING_BIG, None, "purple", "RED", "red ", "O'Brien", "e\u0301"]


def _modes_rows() -> list[dict[str, Any]]:
    """Every double value in every numeric column (rotated against each other) and every string."""
    n = len(DOUBLE_VALUES)
    rows = []
    for i in range(3 * n):
        rows.append({"x": DOUBLE_VALUES[i % n], "y": DOUBLE_VALUES[(7 * i + 3) % n],
                     "w": DOUBLE_VALUES[(13 * i + 5) % n], "color": STRING_VALUES[i % len(STRING_VALUES)]})
    return rows


def _stump(feature: int, test: str, operand: Any, missing_left: bool) -> TreeLeaf:
    return TreeLeaf(FEATURES, [Split(feature, test, operand, missing_left, leaf_ref(0), leaf_ref(1))])


def split_tests_model() -> Model:
    """Every split test x both missing directions x adversarial thresholds and sets, one tree each;
    a mixed tree with several outputs; trees on a float32 feature, an expression feature, a feature
    computed from another tree (not hoisted), a single leaf; an ordered sum of lookups."""
    outputs: list[OutputField] = []
    stumps: list[TreeLeaf] = []
    for test in ("le", "lt"):
        for missing_left in (False, True):
            for i, threshold in enumerate(THRESHOLDS):
                stumps.append(_stump(i % 3, test, threshold, missing_left))
            for name, (feature, sets) in {"d": (2, ((-0.0,), DOUBLE_SMALL, DOUBLE_BIG)),
                                          "s": (3, ((NASTY,), STRING_SMALL, STRING_BIG))}.items():
                for set_test in ("in", "notin"):
                    for operand in sets:
                        test_name = f"{name}{set_test}{len(operand)}"
                        stumps.append(_stump(feature, set_test, operand, missing_left))
                        outputs.append(OutputField(f"{test_name}_{test}_{missing_left}", "value",
                                                   Cast(stumps[-1], DOUBLE)))
    outputs += [OutputField(f"stump{i}", "value", Cast(t, DOUBLE)) for i, t in enumerate(stumps)]
    mixed = TreeLeaf(FEATURES, [
        Split(0, "le", 0.5, True, 1, 2),
        Split(3, "in", STRING_SMALL, False, 3, leaf_ref(0)),
        Split(1, "lt", -0.0, False, leaf_ref(1), 4),
        Split(2, "notin", DOUBLE_BIG, True, leaf_ref(2), leaf_ref(3)),
        Split(3, "notin", STRING_BIG, True, leaf_ref(4), leaf_ref(5)),
    ])
    a = Lookup(mixed, (0.1, -0.0, 1e300, -2.5, 5e-324, 0.3), DOUBLE)
    b = Lookup(mixed, (1.0, 2.0, 3.0, math.inf, -math.inf, 0.0), DOUBLE)
    w32 = Cast(W, FLOAT32)
    on_float32 = TreeLeaf((w32, COLOR), [Split(0, "le", 0.1, False, leaf_ref(0), 1),
                                         Split(0, "lt", 0.10000000149011612, True, leaf_ref(1), leaf_ref(2))])
    on_expression = TreeLeaf((Binary("mul", X, Const(3.0)), Unary("neg", Y)),
                             [Split(0, "le", 1.5, True, 1, leaf_ref(2)), Split(1, "lt", 0.0, False, leaf_ref(0),
                                                                              leaf_ref(1))])
    stacked_label = Lookup(mixed, ("red", "green", NASTY, "blue", "", "x"), STRING)
    stacked = TreeLeaf((a, stacked_label, X), [Split(0, "le", 0.1, True, 1, leaf_ref(2)),
                                               Split(1, "in", STRING_SMALL, False, leaf_ref(0), leaf_ref(1))])
    single = TreeLeaf(FEATURES, ())
    terms = (a, b, Lookup(on_float32, (0.5, 0.25, 0.125), DOUBLE), Lookup(single, (7.0,), DOUBLE),
             Lookup(stacked, (1e-300, 3.0, -1.0), DOUBLE), Lookup(on_expression, (0.1, 0.2, 0.7), DOUBLE))
    outputs += [
        OutputField("mixed_a", "value", a),
        OutputField("mixed_b", "value", b),
        OutputField("mixed_leaf", "value", Cast(mixed, DOUBLE)),
        OutputField("float32_leaf", "value", Cast(on_float32, DOUBLE)),
        OutputField("expression_leaf", "value", Cast(on_expression, DOUBLE)),
        OutputField("stacked_leaf", "value", Cast(stacked, DOUBLE)),
        OutputField("single_leaf", "value", Lookup(single, (2.5,), DOUBLE)),
        OutputField("sum", "value", Binary("div", Sum(terms), Const(6.0))),
        OutputField("label", "label", stacked_label),
    ]
    return Model(INPUTS, tuple(outputs))


def _check_runner(model: Model, rows: Sequence[Mapping[str, Any]], directory: Path, mode: str) -> str:
    """Build with the runner, score ``rows`` through CSV, compare every output by bits; return scorer.c."""
    program = CEmitter().emit(model, EmitOptions(name="scorer", runner=True, extra=(("c_tree_mode", mode),)))
    write_program(program, directory)
    build(program, directory)
    result = run(directory / "scorer", csv_text(model, rows))
    assert result.returncode == 0, result.stderr
    expected = [evaluate(model, as_csv_sees(model, row)) for row in rows]
    assert mismatches(expected, parse_output(model, result.stdout)) == []
    return dict(program.files)["scorer.c"]


@pytest.mark.parametrize("mode", [*MODES, "auto"])
def test_every_split_test_matches_evaluate(mode: str, tmp_path: Path) -> None:
    model = split_tests_model()
    source = _check_runner(model, _modes_rows(), tmp_path, mode)
    assert ("mg_nodes[" in source) == (mode == "table")
    assert "leaf[" in source and "mg_route_block" in source  # hoisted trees, routed tree-major in batches
    if mode == "ifelse":
        assert "!(f[0] > 0.5)" in source  # missing-left le: one comparison, no isnan
        assert "mg_in_strings(" in source and "mg_in_doubles(" in source  # big sets bisect sorted arrays


@pytest.mark.parametrize("mode", MODES)
def test_struct_api_matches_evaluate(mode: str, tmp_path: Path) -> None:
    """NAME_score directly, with exact input bits and "" as a real (not missing) category."""
    model = split_tests_model()
    rows = _modes_rows()[::3]
    program = CEmitter().emit(model, EmitOptions(name="scorer", extra=(("c_tree_mode", mode),)))
    write_program(program, tmp_path)
    fields = mangle_identifiers(f.name for f in model.inputs)
    outputs = mangle_identifiers(o.name for o in model.outputs)
    (tmp_path / "harness.c").write_text(harness_source(model, "scorer", rows, fields, outputs), encoding="utf-8")
    compile_c(["cc", *CFLAGS, "-o", "harness", "scorer.c", "harness.c", "-lm"], tmp_path)
    printed = subprocess.run([str(tmp_path / "harness")], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == expected_harness_lines(model, [evaluate(model, r) for r in rows])


def _batch_harness(name: str, model: Model, rows: Sequence[Mapping[str, Any]]) -> str:
    """A C main scoring ``rows`` with NAME_score_batch and NAME_score and printing whether every output bit agrees."""
    fields = mangle_identifiers(f.name for f in model.inputs)
    outputs = mangle_identifiers(o.name for o in model.outputs)
    lines = ["#include <stdio.h>", "#include <string.h>", "#include <math.h>", f'#include "{name}.h"',
             *input_array(model, name, rows, fields),
             f"static {name}_output batch[{len(rows)}], single;",
             f"static const char *errors[{len(rows)}];", "int main(void) {", "    size_t i; int same = 1;"]
    lines += [f"    {name}_score_batch({len(rows)}, in, batch, errors);",
              f"    for (i = 0; i < {len(rows)}; i++) {{",
              f"        if ({name}_score(&in[i], &single) != errors[i]) same = 0;"]
    for o, field in zip(model.outputs, outputs):
        if o.expr.dtype is STRING:
            lines.append(f"        if (strcmp(single.{field}, batch[i].{field}) != 0) same = 0;")
        else:
            lines.append(f"        if (memcmp(&single.{field}, &batch[i].{field}, sizeof(double)) != 0"
                         f" && !(isnan(single.{field}) && isnan(batch[i].{field}))) same = 0;")
    lines += ["    }", '    puts(same ? "same" : "different");', "    return 0;", "}", ""]
    return "\n".join(lines)


@pytest.mark.parametrize("mode", MODES)
def test_batch_equals_single_row_scoring(mode: str, tmp_path: Path) -> None:
    """More rows than one block (64), a partial last block: the batch API gives NAME_score's bits."""
    model = split_tests_model()
    rows = _modes_rows()[:150]
    program = CEmitter().emit(model, EmitOptions(name="scorer", extra=(("c_tree_mode", mode),)))
    write_program(program, tmp_path)
    (tmp_path / "harness.c").write_text(_batch_harness("scorer", model, rows), encoding="utf-8")
    compile_c(["cc", *CFLAGS, "-o", "harness", "scorer.c", "harness.c", "-lm"], tmp_path)
    printed = subprocess.run([str(tmp_path / "harness")], capture_output=True, text=True, check=True).stdout
    assert printed == "same\n"


# ---------------------------------------------------------------- deep and random trees


def path_tree(depth: int) -> Model:
    """A path: split i sends x <= i to leaf i and the rest on to split i + 1 (missing directions alternate)."""
    splits = [Split(0, "le" if i % 3 else "lt", float(i), i % 2 == 0, leaf_ref(i), i + 1 if i + 1 < depth
                    else leaf_ref(depth)) for i in range(depth)]
    tree = TreeLeaf((X,), splits)
    return Model((InputField("x", DOUBLE),), (OutputField("leaf", "value", Cast(tree, DOUBLE)),
                                              OutputField("value", "value", Lookup(tree, tuple(
                                                  float(i) * 0.5 for i in range(depth + 1)), DOUBLE))))


@pytest.mark.parametrize("mode", MODES)
def test_deep_path_trees(mode: str, tmp_path: Path) -> None:
    """A 10,000-deep path emits without recursion, flat (ifelse: no nesting, continued in ten
    functions); a 2,500-deep one (beyond Python's recursion limit, three if/else functions) is
    built and scored at and beside its thresholds (gcc's time grows with the splits: 10,000
    cost ~3 s of the CI budget for no further proof)."""
    deepest = CEmitter().emit(path_tree(10_000), EmitOptions(name="scorer", extra=(("c_tree_mode", mode),)))
    source = dict(deepest.files)["scorer.c"]
    if mode == "ifelse":
        functions = source[source.index("static int mg_tree0("):source.index("static int (*const mg_trees")]
        assert max(len(line) - len(line.lstrip()) for line in functions.splitlines()) == 4  # flat, not nested
        assert "return mg_tree0_9(f, s);" in functions and "mg_tree0_10" not in functions
    else:
        assert "static const mg_node mg_nodes[10000]" in source
    depth = 2_500
    model = path_tree(depth)
    program = CEmitter().emit(model, EmitOptions(name="scorer", runner=True, extra=(("c_tree_mode", mode),)))
    if mode == "ifelse":
        assert "return mg_tree0_2(f, s);" in dict(program.files)["scorer.c"]
    write_program(program, tmp_path)
    build(program, tmp_path)
    values = [-math.inf, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 1249.0, 1249.5, depth - 2.0, depth - 1.0, depth - 0.5,
              1e300, math.inf]
    rows = [{"x": v} for v in [*_neighbours(values), None]]
    result = run(tmp_path / "scorer", csv_text(model, rows))
    assert result.returncode == 0, result.stderr
    assert mismatches([evaluate(model, as_csv_sees(model, r)) for r in rows], parse_output(model, result.stdout)) == []


def random_tree(rng: random.Random, features: tuple[Node, ...], max_depth: int, p_split: float,
                grid: Sequence[float], categorical: bool = False) -> TreeLeaf:
    """A random tree (iteratively built): below the root each node splits with ``p_split`` until ``max_depth``;
    thresholds come from ``grid`` so rows can sit exactly on them."""
    splits: list[list[Any]] = []
    n_leaves = 0
    stack: list[tuple[int | None, int, int]] = [(None, 0, 0)]
    while stack:
        parent, side, depth = stack.pop()
        if depth < max_depth and (depth == 0 or rng.random() < p_split):
            ref = len(splits)
            feature = rng.randrange(len(features))
            if features[feature].dtype is STRING:
                test, operand = rng.choice(("in", "notin")), tuple(rng.sample(STRING_BIG, rng.randrange(1, 11)))
            elif categorical and rng.random() < 0.2:
                test, operand = rng.choice(("in", "notin")), tuple(rng.sample(list(grid), rng.randrange(1, 12)))
            else:
                test, operand = rng.choice(("le", "le", "lt")) if categorical else "le", rng.choice(grid)
            splits.append([feature, test, operand, rng.random() < 0.5, None, None])
            stack += [(ref, 5, depth + 1), (ref, 4, depth + 1)]
        else:
            ref = leaf_ref(n_leaves)
            n_leaves += 1
        if parent is not None:
            splits[parent][side] = ref
    return TreeLeaf(features, [Split(*s) for s in splits])


@pytest.mark.parametrize("mode", [*MODES, "walk"])
def test_random_depth_20_trees_with_categories(mode: str, tmp_path: Path) -> None:
    """Random depth-20 trees mixing every test on numbers and strings, one of them continued in a
    second if/else function; ~2,000 splits in all (52,000 cost gcc ~100 s for no further proof:
    ``benchmarks/c_tree_scale.py`` keeps that run)."""
    rng = random.Random(34)
    grid = [round(rng.uniform(-3, 3), 2) for _ in range(40)] + [-0.0, 0.0]
    trees = [random_tree(rng, FEATURES, 20, 0.62, grid, categorical=True) for _ in range(6)]
    assert [_depth(t) for t in trees if len(t.splits) > 1] == [20, 20, 20]
    assert FUNCTION_SPLITS < max(len(t.splits) for t in trees) < 2 * FUNCTION_SPLITS
    terms = tuple(Lookup(t, tuple(rng.uniform(-1, 1) for _ in range(t.n_leaves)), DOUBLE) for t in trees)
    outputs = [OutputField("sum", "value", Sum(terms))]
    outputs += [OutputField(f"leaf{i}", "value", Cast(t, DOUBLE)) for i, t in enumerate(trees)]
    model = Model(INPUTS, tuple(outputs))
    rows = []
    for _ in range(300):
        row: dict[str, Any] = {name: rng.choice([*grid, *_neighbours(grid[:5]), None, math.inf, -math.inf])
                               for name in ("x", "y", "w")}
        row["color"] = rng.choice(STRING_VALUES)
        rows.append(row)
    source = _check_runner(model, rows, tmp_path, mode)
    if mode == "ifelse":
        assert "return mg_tree0_1(f, s);" in source
        # the smaller side is the nested one: at most log2(leaves) blocks deep (+1 for the function body)
        nesting = max(len(line) - len(line.lstrip(" ")) for line in source.splitlines() if line.startswith("    "))
        assert nesting // 4 <= 1 + math.log2(max(t.n_leaves for t in trees))


def _depth(tree: TreeLeaf) -> int:
    deepest = 0
    stack = [(0, 1)]
    while stack:
        index, depth = stack.pop()
        deepest = max(deepest, depth)
        split = tree.splits[index]
        stack += [(c, depth + 1) for c in (split.left, split.right) if c >= 0]
    return deepest


# ---------------------------------------------------------------- mode choice, options, determinism


def test_auto_mode_picks_walk_else_ifelse_or_tables_by_size() -> None:
    rng = random.Random(3)
    grid = [float(i) for i in range(20)]
    numeric = Model(INPUTS[:3], (OutputField("y", "value", Cast(random_tree(rng, FEATURES[:3], 6, 1.0, grid),
                                                                  DOUBLE)),))
    assert TreePlan(numeric, "auto").mode == "walk"  # hoisted trees: the walk, whatever the splits or size
    categorical = Model(INPUTS, (OutputField("y", "value", Cast(random_tree(rng, FEATURES, 6, 1.0, grid,
                                                                            categorical=True), DOUBLE)),))
    assert TreePlan(categorical, "auto").mode == "walk"
    # a tree routed on another tree's leaf is not hoisted: no walk, and the size picks if/else or tables
    first = random_tree(rng, FEATURES[:3], 6, 1.0, grid)
    stacked = TreeLeaf((Cast(first, DOUBLE), X), [Split(0, "le", 3.0, False, leaf_ref(0), leaf_ref(1))])
    small = Model(INPUTS[:3], (OutputField("y", "value", Cast(stacked, DOUBLE)),))
    assert TreePlan(small, "auto").mode == "ifelse"
    trees = [stacked]
    while sum(len(t.splits) for t in trees) <= IFELSE_MAX_SPLITS:
        trees.append(random_tree(rng, FEATURES[:3], 10, 1.0, grid, categorical=True))
    big = Model(INPUTS[:3], (OutputField("y", "value", Sum(tuple(Cast(t, DOUBLE) for t in trees))),))
    assert TreePlan(big, "auto").mode == "table"
    assert TreePlan(big, "ifelse").mode == "ifelse"
    with pytest.raises(ModelgenError, match="c_tree_mode"):
        CEmitter().emit(small, EmitOptions(extra=(("c_tree_mode", "fast"),)))


_EMIT_SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
sys.path.insert(0, {here!r})
from test_c_trees import category_walk_model, split_tests_model, walk_model
from emitters.base import EmitOptions
from emitters.c import CEmitter
for build, mode in ((split_tests_model, "ifelse"), (split_tests_model, "table"), (walk_model, "walk"),
                    (category_walk_model, "walk")):
    program = CEmitter().emit(build(), EmitOptions(name="s", runner=True, extra=(("c_tree_mode", mode),)))
    for name, text in program.files:
        print(name, hashlib.sha256(text.encode()).hexdigest())
"""


def test_emitting_trees_is_byte_identical_across_runs_and_hash_seeds() -> None:
    here = Path(__file__).resolve().parent
    script = _EMIT_SCRIPT.format(tests=str(here.parent), here=str(here))
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout)
    assert len(digests) == 1
    for mode in MODES:
        options = EmitOptions(name="s", runner=True, extra=(("c_tree_mode", mode),))
        assert CEmitter().emit(split_tests_model(), options) == CEmitter().emit(split_tests_model(), options)


# ---------------------------------------------------------------- scale


def ensemble(n_trees: int, max_depth: int, p_split: float, seed: int, *, mean: bool) -> tuple[Model, list[float]]:
    """A forest (mean of the trees) or a boosting model (base score + ordered sum) over 20 double inputs."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(20)]
    features = tuple(Input(n, DOUBLE) for n in names)
    grid = [round(rng.uniform(-3, 3), 3) for _ in range(200)]
    terms: list[Node] = [] if mean else [Const(0.25)]
    for _ in range(n_trees):
        tree = random_tree(rng, features, max_depth, p_split, grid)
        terms.append(Lookup(tree, tuple(rng.uniform(-1, 1) for _ in range(tree.n_leaves)), DOUBLE))
    total = Sum(tuple(terms))
    if mean:
        outputs = (OutputField("prediction", "value", Binary("div", total, Const(float(n_trees)))),)
    else:
        probability = Binary("div", Const(1.0), Binary("add", Const(1.0), Unary("exp", Unary("neg", total))))
        outputs = (OutputField("raw", "value", total), OutputField("probability", "value", probability))
    return Model(tuple(InputField(n, DOUBLE) for n in names), outputs), grid


def _scale_rows(model: Model, grid: Sequence[float], n: int) -> list[dict[str, Any]]:
    rng = random.Random(99)
    choices = [*grid, *_neighbours(grid[:20]), None, math.inf, -math.inf, -0.0]
    return [{f.name: rng.choice(choices) for f in model.inputs} for _ in range(n)]


SCALE_MODELS = {
    # 1,000 terms in one Sum and 1,000 routed trees, with shallow trees so gcc stays cheap: the
    # depth-12 / depth-8 versions (475k / 255k splits, ~20 s each here) run in
    # benchmarks/c_tree_scale.py, and sklearn's rf1000 / gb1000 in benchmarks/trees.py
    "forest": lambda: ensemble(1000, 4, 0.8, 1, mean=True),
    "boosting": lambda: ensemble(1000, 3, 1.0, 2, mean=False),
}


@pytest.mark.parametrize("mode", ["table", "auto"])
@pytest.mark.parametrize("which", sorted(SCALE_MODELS))
def test_1000_tree_models(which: str, mode: str, tmp_path: Path) -> None:
    start = time.perf_counter()
    model, rows, expected = _scale_case(which)
    built_ir = time.perf_counter()
    program = CEmitter().emit(model, EmitOptions(name="scorer", runner=True, extra=(("c_tree_mode", mode),)))
    emitted = time.perf_counter()
    source = dict(program.files)["scorer.c"]
    assert ("mg_nodes[" in source) == (mode == "table") and ("mg_walk(" in source) == (mode == "auto")
    assert ("mg_roots[1000]" in source) == (mode == "table") and ("mg_wroot[1000]" in source) == (mode == "auto")
    write_program(program, tmp_path)
    build(program, tmp_path)
    compiled = time.perf_counter()
    print(f"\n{which}, {mode}: IR and expected {built_ir - start:.1f}s, emit {emitted - built_ir:.1f}s,"
          f" gcc {compiled - emitted:.1f}s, {len(source) / 1e6:.1f} MB")
    assert emitted - built_ir < 10
    result = run(tmp_path / "scorer", csv_text(model, rows))
    assert result.returncode == 0, result.stderr
    assert mismatches(expected, parse_output(model, result.stdout)) == []


@functools.cache
def _scale_case(which: str) -> tuple[Model, list[dict[str, Any]], list[dict[str, Any]]]:
    """A scale model, 100 rows and what ``evaluate`` makes of them: once per model, not per mode
    (the interpreter takes ~5 ms a row through 1,000 trees)."""
    model, grid = SCALE_MODELS[which]()
    rows = _scale_rows(model, grid, 100)
    return model, rows, [evaluate(model, as_csv_sees(model, r)) for r in rows]


def test_scale_emission_is_deterministic() -> None:
    model, _ = ensemble(200, 8, 0.9, 5, mean=False)
    texts = [hashlib.sha256(repr(CEmitter().emit(model, EmitOptions(extra=(("c_tree_mode", m),))).files)
                            .encode()).hexdigest() for m in ("table", "table", "ifelse", "ifelse", "walk", "walk")]
    assert texts[0] == texts[1] and texts[2] == texts[3] and texts[4] == texts[5] and len(set(texts)) == 3


# ---------------------------------------------------------------- walk mode


WALK_VALUES: list[float | None] = [*_neighbours((*THRESHOLDS, 0.10000000149011612, 1.5)), None, math.nan, 0.25]


def _walk_stump(feature: int, test: str, threshold: float, missing_left: bool) -> TreeLeaf:
    return TreeLeaf(FEATURES[:3], [Split(feature, test, threshold, missing_left, leaf_ref(0), leaf_ref(1))])


def walk_model() -> Model:
    """Numeric trees only, so ``walk`` applies: every le/lt x missing side x adversarial threshold
    (``lt -inf``, ``le +inf``, +-0.0, the extreme doubles); trees of depths 1 to 6 and a single
    leaf in one ordered sum (nested as ``split_long_sums`` nests it, with constants before, between
    and after the trees, a scaled lookup, -0.0 leaves); a two-output tree in two sums (a forest
    classifier's shape); a tree both summed and read as a leaf; a sum the walk cannot take (an
    input term), one whose trees are out of walk order and one repeating a tree (walked from kept
    leaf numbers); a float32 and an expression feature."""
    rng = random.Random(7)
    stumps = [_walk_stump(i % 3, test, threshold, missing_left)
              for test in ("le", "lt") for missing_left in (False, True) for i, threshold in enumerate(THRESHOLDS)]
    outputs = [OutputField(f"stump{i}", "value", Cast(t, DOUBLE)) for i, t in enumerate(stumps)]
    grid = [*THRESHOLDS, 1.5, -1.5, 0.25]
    deep = [TreeLeaf(FEATURES[:3], [s._replace(test=rng.choice(("le", "lt"))) for s in
                                    random_tree(rng, FEATURES[:3], depth, 1.0, grid).splits]) for depth in (1, 2, 4, 6)]
    w32 = Cast(W, FLOAT32)
    on_float32 = TreeLeaf((w32, Binary("mul", X, Const(3.0))), [
        Split(0, "le", 0.1, False, leaf_ref(0), 1),
        Split(1, "lt", 0.10000000149011612, True, leaf_ref(1), leaf_ref(2))])
    single = TreeLeaf(FEATURES[:3], ())

    def values(tree: TreeLeaf) -> tuple[float, ...]:
        return tuple(rng.choice((-0.0, 0.0, 1e-300, -2.5, 1e300, rng.uniform(-1, 1))) for _ in range(tree.n_leaves))

    looked = [Lookup(t, values(t), DOUBLE) for t in (*deep, on_float32)]
    inner = Sum((Const(-0.0), looked[0], looked[1]))  # a -0.0 start: the total must stay -0.0 on -0.0 leaves
    terms = (inner, Const(0.5), Lookup(single, (3.0,), DOUBLE), Binary("mul", Const(0.1), looked[2]),
             Binary("mul", looked[3], Const(-3.0)), looked[4], Const(1e-17))
    two_a = Lookup(deep[3], values(deep[3]), DOUBLE)
    two_b = Lookup(deep[3], values(deep[3]), DOUBLE)
    outputs += [
        OutputField("sum", "value", Sum(terms)),
        OutputField("first_lookup_first", "value", Sum((looked[1], looked[0], Lookup(stumps[5], (-0.0, 2.0), DOUBLE)))),
        OutputField("class_a", "value", Sum((Const(0.0), Lookup(deep[2], values(deep[2]), DOUBLE), two_a))),
        OutputField("class_b", "value", Sum((Const(0.0), Lookup(deep[2], values(deep[2]), DOUBLE), two_b))),
        OutputField("with_input", "value", Sum((looked[0], X))),
        # a tree twice in a row, then again after later trees (interned equal trees in one sum)
        OutputField("repeated", "value", Sum((Const(0.5), looked[2], looked[2], looked[3], looked[0], Const(-0.0),
                                              Binary("mul", looked[2], Const(0.5)), looked[1]))),
        OutputField("leaf_of_summed", "value", Cast(deep[1], DOUBLE)),
        OutputField("lone_lookup", "value", Lookup(on_float32, (0.5, 0.25, -0.0), DOUBLE)),
    ]
    return Model(INPUTS[:3], tuple(outputs))


def _walk_rows() -> list[dict[str, Any]]:
    n = len(WALK_VALUES)
    return [{"x": WALK_VALUES[i % n], "y": WALK_VALUES[(7 * i + 3) % n], "w": WALK_VALUES[(13 * i + 5) % n]}
            for i in range(3 * n)]


@pytest.mark.parametrize("mode", ["walk", "auto"])
def test_walk_matches_evaluate(mode: str, tmp_path: Path) -> None:
    source = _check_runner(walk_model(), _walk_rows(), tmp_path, mode)
    assert "mg_walk(rows" in source and "mg_nodes[" not in source  # auto picks the walk: every split is le/lt
    assert "mg_wop_start" in source and "mg_wleaf" in source  # the general walk: several sums, leaves read
    assert "mg_wvalues" in source and "acc[2]" in source  # several sums walked, constants between their trees
    # every sum but with_input walked (5 of them), out-of-order and repeated trees from kept leaves
    assert "acc[r * 5 + 4] = " in source and "acc[r * 6 " not in source and "kept[r * " in source


def _walk_block_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """600 rows from ``rows`` (shifted copies): two full walk blocks, then 88 rows (five interleaved
    groups of 16 and 8 walked one by one)."""
    assert BLOCK_ROWS == 256
    names = list(rows[0])
    return [{name: rows[(i + 7 * (i // len(rows)) * (j + 1)) % len(rows)][name] for j, name in enumerate(names)}
            for i in range(600)]


def test_walk_batch_equals_single_row_scoring(tmp_path: Path) -> None:
    model = walk_model()
    program = CEmitter().emit(model, EmitOptions(name="scorer", extra=(("c_tree_mode", "walk"),)))
    write_program(program, tmp_path)
    rows = _walk_block_rows(_walk_rows())
    (tmp_path / "harness.c").write_text(_batch_harness("scorer", model, rows), encoding="utf-8")
    compile_c(["cc", *CFLAGS, "-o", "harness", "scorer.c", "harness.c", "-lm"], tmp_path)
    printed = subprocess.run([str(tmp_path / "harness")], capture_output=True, text=True, check=True).stdout
    assert printed == "same\n"


def test_walk_fused_sum_of_an_ensemble(tmp_path: Path) -> None:
    """The boosting shape (constant + 60 trees, nested by split_long_sums): every tree is added while walked."""
    from modelgen.passes.split_long_sums import split_long_sums

    model, grid = ensemble(60, 6, 0.9, 11, mean=False)
    model = split_long_sums(model)
    source = _check_runner(model, _scale_rows(model, grid, 150), tmp_path, "auto")
    assert "a[(r + 15) * 1] += mg_wt[n15];" in source and "mg_wop_start" not in source and "leaf[" not in source


def test_walk_refuses_trees_on_computed_values() -> None:
    with pytest.raises(ModelgenError, match="walk"):  # split_tests_model's stacked tree reads another tree
        CEmitter().emit(split_tests_model(), EmitOptions(extra=(("c_tree_mode", "walk"),)))


def category_walk_model() -> Model:
    """``split_tests_model`` without its tree routed on another tree's output: every tree is hoisted,
    so the walk takes every test (numbers and strings, in and notin, small and big sets, both
    missing sides), the mixed tree (sets and thresholds in one tree) and the sum of its lookups."""
    model = split_tests_model()
    kept = tuple(o for o in model.outputs if o.name not in ("stacked_leaf", "label", "sum"))
    mixed_a = next(o.expr for o in model.outputs if o.name == "mixed_a")
    float32_a = next(o.expr for o in model.outputs if o.name == "float32_leaf").x  # type: ignore[attr-defined]
    numeric = TreeLeaf(FEATURES, [Split(0, "le", 0.5, True, leaf_ref(0), leaf_ref(1))])
    # numeric and set trees in one ordered sum: the walk adds them in the fold's order
    total = Sum((Const(-0.0), Lookup(numeric, (1e300, -0.0), DOUBLE), mixed_a,
                 Lookup(float32_a, (0.5, -1e300, 3.0), DOUBLE), Const(0.25)))
    return Model(model.inputs, (*kept, OutputField("mixed_sum", "value", total)))


@pytest.mark.parametrize("mode", ["walk", "auto"])
def test_walk_category_sets_match_evaluate(mode: str, tmp_path: Path) -> None:
    source = _check_runner(category_walk_model(), _modes_rows(), tmp_path, mode)
    assert "mg_walk(rows" in source and "mg_wstep(n15, x + " in source and "if (mg_wsets[k])" in source
    assert "mg_wcode_s(x, " in source and "mg_wcode_d(x, " in source  # string and number codes


def test_walk_category_sets_struct_api_and_batch(tmp_path: Path) -> None:
    """NAME_score (exact input bits, "" a real category) and NAME_score_batch over 600 rows."""
    model = category_walk_model()
    rows = _walk_block_rows(_modes_rows())
    program = CEmitter().emit(model, EmitOptions(name="scorer", extra=(("c_tree_mode", "walk"),)))
    write_program(program, tmp_path)
    fields = mangle_identifiers(f.name for f in model.inputs)
    outputs = mangle_identifiers(o.name for o in model.outputs)
    (tmp_path / "harness.c").write_text(harness_source(model, "scorer", rows, fields, outputs), encoding="utf-8")
    (tmp_path / "batch.c").write_text(_batch_harness("scorer", model, rows), encoding="utf-8")
    compile_c(["cc", *CFLAGS, "-c", "scorer.c"], tmp_path)
    for harness in ("harness", "batch"):
        compile_c(["cc", *CFLAGS, "-o", harness, "scorer.o", f"{harness}.c", "-lm"], tmp_path)
    printed = subprocess.run([str(tmp_path / "harness")], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == expected_harness_lines(model, [evaluate(model, r) for r in rows])
    same = subprocess.run([str(tmp_path / "batch")], capture_output=True, text=True, check=True).stdout
    assert same == "same\n"


@pytest.fixture
def one_thread() -> Iterator[None]:
    """scikit-learn's OpenMP threads spin-wait for a busy second core: one thread keeps these tests ~5 s under load."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.mark.usefixtures("one_thread")
def test_walk_matches_scikit_learn_with_categories(tmp_path: Path) -> None:
    """Histogram boosting with categorical features (regressor, 3-class classifier): most trees split
    on thresholds only, some on category sets, some on both; all walk in one loop. Bit for bit with
    scikit-learn and evaluate on rows with unknown, negative, non-integer, huge and -0.0 categories,
    NaN, and numbers at and beside the thresholds."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("sklearn")
    import joblib
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from modelgen import compiler

    rng = np.random.default_rng(1)
    n = 600
    small = np.array([-5.0, 0.0, 1.0, 2.5, 300.0])  # negative, non-integer and >= 256 known categories
    x = np.column_stack([rng.choice(small, n), rng.integers(0, 40, n).astype(float), rng.normal(size=(n, 2))])
    x[rng.random(x.shape) < 0.1] = np.nan
    # missing categories act like known ones: their splits send missing (and so unknown) values left (notin)
    effect = np.where(np.isin(x[:, 0], [0.0, 2.5]) | np.isnan(x[:, 0]), 2.0, -1.0)
    effect += np.sin(np.nan_to_num(x[:, 1], nan=4.5))
    # numbers weigh more: some trees split on numbers only (7 of 40 regressor trees)
    y = 0.5 * effect + 2.0 * np.nan_to_num(x[:, 2]) + np.nan_to_num(x[:, 3]) + rng.normal(scale=0.1, size=n)
    classes = np.digitize(y, [-0.5, 1.0])
    estimators = {
        "regressor": HistGradientBoostingRegressor(max_iter=40, max_depth=3, categorical_features=[0, 1],
                                                   random_state=0).fit(x, y),
        "classifier": HistGradientBoostingClassifier(max_iter=15, max_depth=3, categorical_features=[0, 1],
                                                     random_state=0).fit(x, classes),
    }
    odd = [-5.0, 0.0, -0.0, 1.0, 2.5, 300.0, 3.0, -1.0, 0.5, 2.4999999999999996, 256.0, 1e300, 39.0, 40.0, np.nan]
    for key, estimator in estimators.items():
        path = tmp_path / f"{key}.joblib"
        joblib.dump(estimator, path)
        model = compiler.lower(path)
        trees = _trees_of(model)
        has_sets = [any(s.test in ("in", "notin") for s in t.splits) for t in trees]
        has_numbers = [any(s.test in ("le", "lt") for s in t.splits) for t in trees]
        assert any(has_sets) and (key == "classifier" or not all(has_sets))  # the regressor: some numeric-only
        assert any(a and b for a, b in zip(has_sets, has_numbers))  # a tree mixing both
        assert {s.test for t in trees for s in t.splits} == {"le", "in", "notin"}
        thresholds = sorted({float(s.operand) for t in trees for s in t.splits if s.test in ("le", "lt")})
        probe = [v for t in thresholds[:: max(1, len(thresholds) // 40)] for v in _neighbours([t])]
        rows_x = np.array([[odd[i % len(odd)], odd[(7 * i + 3) % len(odd)] if i % 3 else float(i % 41),
                            probe[(3 * i) % len(probe)], probe[(5 * i + 1) % len(probe)]] for i in range(300)])
        rows_x[::9, 2] = np.nan
        names = [f.name for f in model.inputs]
        rows = [dict(zip(names, (None if math.isnan(v) else v for v in r))) for r in rows_x.tolist()]
        directory = tmp_path / key
        directory.mkdir()
        source = _check_runner(model, rows, directory, "auto")  # bit for bit with evaluate
        assert "mg_walk(rows" in source and "if (mg_wsets[k])" in source
        scored = parse_output(model, run(directory / "scorer", csv_text(model, rows)).stdout)
        reference = estimator.predict(rows_x)[:, None] if key == "regressor" else estimator.predict_proba(rows_x)
        wanted = [o.name for o in model.outputs if o.kind in ("value", "probability")]
        got = np.array([[values[name] for name in wanted] for _, values in scored], dtype=np.float64)
        assert got.shape == reference.shape, (key, got.shape, reference.shape)
        assert got.tobytes() == np.ascontiguousarray(reference, dtype=np.float64).tobytes(), key


@pytest.mark.usefixtures("one_thread")
def test_walk_matches_scikit_learn(tmp_path: Path) -> None:
    """Histogram boosting with NaN (regressor and 3-class probabilities) and a forest classifier:
    the walk scorer's outputs are scikit-learn's, bit for bit, on rows at and beside every threshold."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("sklearn")
    import joblib
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier

    from modelgen import compiler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = np.nan_to_num(x[:, 0]) + np.sin(np.nan_to_num(x[:, 1]))
    classes = np.digitize(y, [-0.5, 0.5])
    estimators = {
        "hgb_regressor": HistGradientBoostingRegressor(max_iter=30, max_depth=5, random_state=0).fit(x, y),
        "hgb_classifier": HistGradientBoostingClassifier(max_iter=10, max_depth=4, random_state=0).fit(x, classes),
        "forest_classifier": RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0).fit(
            np.nan_to_num(x), classes),
    }
    for key, estimator in estimators.items():
        path = tmp_path / f"{key}.joblib"
        joblib.dump(estimator, path)
        model = compiler.lower(path)
        thresholds = sorted({float(s.operand) for n in _trees_of(model) for s in n.splits})
        probe = [v for t in thresholds[:: max(1, len(thresholds) // 40)] for v in _neighbours([t])]
        rows_x = np.array([[probe[(i * (3 + j)) % len(probe)] for j in range(4)] for i in range(200)])
        if key.startswith("hgb"):
            rows_x[::7, 1] = np.nan
        rows_x[::11, 2] = np.inf
        rows_x[::13, 3] = -np.inf
        if key == "forest_classifier":
            rows_x[~np.isfinite(rows_x)] = 0.0  # forests refuse NaN and inf
        names = [f.name for f in model.inputs]
        rows = [dict(zip(names, (None if math.isnan(v) else v for v in r))) for r in rows_x.tolist()]
        directory = tmp_path / key
        directory.mkdir()
        program = CEmitter().emit(model, EmitOptions(name="scorer", runner=True))
        assert "mg_walk(rows" in dict(program.files)["scorer.c"]
        if key == "hgb_classifier":  # each class's sum walked, though interning shares equal trees
            assert "acc[r * 3 + 2] = " in dict(program.files)["scorer.c"]
        write_program(program, directory)
        build(program, directory)
        result = run(directory / "scorer", csv_text(model, rows))
        assert result.returncode == 0, result.stderr
        scored = parse_output(model, result.stdout)
        if key == "hgb_regressor":
            reference = estimator.predict(rows_x)[:, None]
        else:
            reference = estimator.predict_proba(rows_x)
        wanted = [o.name for o in model.outputs if o.kind in ("value", "probability")]
        got = np.array([[values[name] for name in wanted] for _, values in scored], dtype=np.float64)
        assert got.shape == reference.shape, (key, got.shape, reference.shape)
        assert got.tobytes() == np.ascontiguousarray(reference, dtype=np.float64).tobytes(), key


def _trees_of(model: Model) -> list[TreeLeaf]:
    from modelgen.ir import topological_order

    return [n for n in topological_order(model.roots) if isinstance(n, TreeLeaf) and n.splits]
