"""``TreeLeaf`` in the python target: nested ``if`` functions and the packed-table walk
(emitters/python/trees.py), each compared bit for bit with ``modelgen.ir.evaluate`` through the
real runner and through ``score`` imported; a 1,000-tree forest and a 1,000-stage boosting model
must emit, import and score 200 random rows exactly.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import helpers_python as hp
import pytest
import runner_csv

import emitters.python.trees as python_trees
from emitters.base import EmitOptions, EmittedProgram
from emitters.python import PythonEmitter
from modelgen.ir import Model
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

MODES = ["if", "table"]


def _emit(model: Model, mode: str, monkeypatch: pytest.MonkeyPatch, name: str = "trees") -> EmittedProgram:
    # the table walk is what big models get; forcing it on small ones tests it on every edge row
    monkeypatch.setattr(python_trees, "IF_SPLIT_BUDGET", python_trees.IF_SPLIT_BUDGET if mode == "if" else -1)
    return PythonEmitter().emit(model, EmitOptions(name=name, runner=True))


def _failures(model: Model, program: EmittedProgram, outdir: Path, rows: list[dict[str, Any]]) -> list[str]:
    hp.write_program(program, outdir)
    hp.build(program, outdir)
    result = hp.run(program, outdir, hp.csv_text(model, rows))
    stdout, stderr = hp.decode(result)
    assert result.returncode == 0, stderr
    parsed = hp.parse_output(model, stdout)
    assert len(parsed) == len(rows)
    failures = []
    module = hp.import_module(outdir / f"{program.manifest['name']}.py")
    for index, (row, (_, actual)) in enumerate(zip(rows, parsed)):
        expected = evaluate(model, hp.as_csv_sees(model, row))
        failures += [f"row {index + 1} runner {row!r}: {m}" for m in hp.mismatches(actual, expected)]
        # score() sees the row itself: an empty-string category stays apart from a missing one
        direct = evaluate(model, row)
        failures += [f"row {index + 1} score {row!r}: {m}" for m in hp.mismatches(module.score(row), direct)]
    return failures


@pytest.mark.parametrize("passes", [False, True], ids=["raw", "float32-pass"])
@pytest.mark.parametrize("mode", MODES)
def test_every_split_test_and_missing_direction_matches_the_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, passes: bool
) -> None:
    model = runner_csv.edge_tree_model()
    if passes:
        model = run_passes(model)
    program = _emit(model, mode, monkeypatch)
    source = program.files[0][1]
    assert ("def _route(" in source) is (mode == "table")
    assert ("def _tree0(" in source) is (mode == "if")
    rows = runner_csv.edge_tree_rows()
    rows += [{"a": 0.5, "b": 1.0, "color": ""}, {"a": 3.0, "b": 2.0, "color": ""}]
    failures = _failures(model, program, tmp_path, rows)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("leftward", [False, True], ids=["right-path", "left-path"])
def test_ten_thousand_deep_path_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, leftward: bool) -> None:
    model = runner_csv.path_tree_model(10_000, leftward=leftward)
    program = _emit(model, "if", monkeypatch)
    source = program.files[0][1]
    # a right-going path is flat if/return code; a left-going one would nest 10,000 deep: table
    assert ("def _route(" in source) is leftward
    failures = _failures(model, program, tmp_path, runner_csv.path_tree_rows(10_000))
    assert not failures, "\n".join(failures[:20])


def test_emitting_twice_is_byte_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    for mode in MODES:
        for model in (runner_csv.edge_tree_model(), runner_csv.forest_model(20, 6, boosting=False, seed=3)):
            assert _emit(model, mode, monkeypatch) == _emit(model, mode, monkeypatch)


@pytest.mark.parametrize("kind", ["forest", "boosting"])
def test_thousand_tree_models_import_fast_and_match(tmp_path: Path, kind: str) -> None:
    model, rows, expected = runner_csv.big_tree_model(kind)
    started = time.perf_counter()
    program = PythonEmitter().emit(model, EmitOptions(name="big", runner=True))
    emit_seconds = time.perf_counter() - started
    source = program.files[0][1]
    assert "def _route(" in source and "def _tree0(" not in source, "big models use the table walk"
    hp.write_program(program, tmp_path)
    started = time.perf_counter()
    # a fresh interpreter compiles the source (no .pyc yet) and imports it, as a runner start does
    subprocess.run([sys.executable, "-c", "import big"], cwd=tmp_path, check=True)
    import_seconds = time.perf_counter() - started
    result = hp.run(program, tmp_path, hp.csv_text(model, rows))
    stdout, stderr = hp.decode(result)
    assert result.returncode == 0, stderr
    failures = []
    for index, ((_, actual), wanted) in enumerate(zip(hp.parse_output(model, stdout), expected)):
        failures += [f"row {index + 1}: {m}" for m in hp.mismatches(actual, wanted)]
    assert not failures, "\n".join(failures[:20])
    module = hp.import_module(tmp_path / "big.py")
    started = time.perf_counter()
    for row in rows:
        module.score(row)
    per_row = (time.perf_counter() - started) / len(rows)
    print(
        f"\n{kind}: emit {emit_seconds:.1f} s, source {len(source) / 1e6:.1f} MB, "
        f"compile+import {import_seconds:.1f} s, score {per_row * 1e3:.2f} ms/row"
    )
    assert emit_seconds < 30, "modelgen time budget (10 s on an idle machine)"
    assert import_seconds < 30
