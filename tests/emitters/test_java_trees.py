"""``TreeLeaf`` in the java target: packed node tables and one routing loop (emitters/java/trees.py).

Every output is compared bit for bit with ``modelgen.ir.evaluate`` through the real runner
(javac ``-Xlint:all -Werror``), on rows exactly on thresholds and their neighbours, NaN, +-inf,
every category and unseen ones; then a 1,000-tree forest and a 1,000-stage boosting model
must emit, compile within the JVM's limits and score 200 random rows exactly.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import helpers_java as hj
import pytest
import runner_csv

from emitters.base import EmitOptions, EmittedProgram
from emitters.java import JavaEmitter
from emitters.java.trees import CHUNK_CHARS
from modelgen.ir import Model
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
    status, stdout, stderr = hj.run(program, outdir, hj.csv_text(model, rows))
    assert status == 0, stderr
    parsed = hj.parse_output(model, stdout)
    assert len(parsed) == len(rows)
    failures = []
    for index, (row, (_, actual)) in enumerate(zip(rows, parsed)):
        expected = evaluate(model, hj.as_csv_sees(model, row))
        failures += [f"row {index + 1} {row!r}: {m}" for m in hj.mismatches(model, actual, expected)]
    return failures


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
