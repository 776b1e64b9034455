"""The python target end to end: generate, py_compile, run the CSV runner and import ``score``;
every output is compared bit for bit with ``modelgen.ir.evaluate``."""

from __future__ import annotations

import hashlib
import math
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import runner_csv
from helpers_python import (
    as_csv_sees,
    build,
    csv_text,
    decode,
    import_module,
    mismatches,
    parse_output,
    run,
    write_program,
)
from ir_samples import (
    ARITHMETIC_ROWS,
    CATEGORICAL_BAD_ROWS,
    CATEGORICAL_ROWS,
    NASTY,
    arithmetic_model,
    categorical_model,
)

from emitters.base import EmitOptions, EmittedProgram
from emitters.common.schedule import render, schedule
from emitters.python import PythonEmitter
from emitters.python.emitter import MAX_DEPTH
from emitters.python.visitor import PythonVisitor, wraps_in_parens
from modelgen.errors import InputRowError, TargetCannotExpressError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    NODE_TYPES,
    STRING,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    Lookup,
    Model,
    OutputField,
    Sum,
    Unary,
    depth,
    topological_order,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

Row = dict[str, Any]


def float32_model() -> Model:
    """Every unary/binary op in float32, a float32 sum and float32 overflow at the rounding boundary."""
    a = Cast(Input("a", DOUBLE), FLOAT32)
    b = Cast(Input("b", DOUBLE), FLOAT32)
    ops = [Unary(op, a) for op in ("neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "floor")]
    ops += [Binary(op, a, b) for op in ("add", "sub", "mul", "div", "max", "min", "pow")]
    total = Sum((a, b, Const(16777216.0, FLOAT32), Const(1.0, FLOAT32), b))
    wide = Cast(Binary("mul", Input("a", DOUBLE), Input("b", DOUBLE)), FLOAT32)
    chosen = IfElse(Compare("lt", a, b), a, Const(-0.0, FLOAT32))
    outputs = [OutputField(f"f{i}", "value", Cast(e, DOUBLE)) for i, e in enumerate(ops)]
    outputs += [
        OutputField("sum32", "value", Cast(total, DOUBLE)),
        OutputField("wide", "value", Cast(wide, DOUBLE)),
        OutputField("chosen", "value", Cast(chosen, DOUBLE)),
    ]
    return Model((InputField("a", DOUBLE), InputField("b", DOUBLE)), tuple(outputs))


FLOAT32_ROWS: list[Row] = [
    {"a": 0.1, "b": 0.2},
    {"a": -0.0, "b": 0.0},
    {"a": 3.4028234663852886e38, "b": 2.0},
    {"a": 1e39, "b": -1e39},
    {"a": -2.0, "b": 0.5},
    {"a": 1e20, "b": 1e20},
    {"a": None, "b": 1.0},
    {"a": 88.8, "b": -0.0},
]

def argmax_model() -> Model:
    """ArgMax over inputs (first maximum, first NaN wins) feeding a label lookup, in double and float32."""
    terms = tuple(Input(n, DOUBLE) for n in ("p", "q", "r"))
    winner = ArgMax(terms)
    winner32 = ArgMax(tuple(Cast(t, FLOAT32) for t in terms))
    return Model(
        tuple(InputField(n, DOUBLE) for n in ("p", "q", "r")),
        (
            OutputField("label", "label", Lookup(winner, ("p", "q", "r"), STRING)),
            OutputField("winner32", "value", Cast(winner32, DOUBLE)),
            OutputField("best", "value", Lookup(winner, (0.5, -0.0, math.inf), DOUBLE)),
        ),
    )


ARGMAX_ROWS: list[Row] = [
    {"p": 1.0, "q": 2.0, "r": 2.0},
    {"p": 1.0, "q": None, "r": None},
    {"p": None, "q": 5.0, "r": 1.0},
    {"p": 0.0, "q": -0.0, "r": 0.0},
    {"p": -math.inf, "q": -math.inf, "r": -1e308},
    {"p": 1.0000000000000002, "q": 1.0, "r": None},
    {"p": 1.0000000000000002, "q": 1.0, "r": 0.5},
]

SAMPLES: dict[str, tuple[Callable[[], Model], list[Row]]] = {
    "argmax": (argmax_model, ARGMAX_ROWS),
    "arithmetic": (arithmetic_model, ARITHMETIC_ROWS),
    "categorical": (categorical_model, CATEGORICAL_ROWS),
    "float32": (float32_model, FLOAT32_ROWS),
    "trees": (runner_csv.edge_tree_model, runner_csv.edge_tree_rows()),
}


def emit(model: Model, name: str = "scorer", keys: tuple[str, ...] = ()) -> EmittedProgram:
    return PythonEmitter().emit(model, EmitOptions(name=name, runner=True, keys=keys))


def reference(model: Model, row: Row) -> dict[str, Any]:
    return evaluate(model, row)


def check_runner(model: Model, rows: list[Row], tmp_path: Path, keys: list[str] | None = None) -> None:
    """Build and run the runner on ``rows``; every output must equal evaluate() bit for bit."""
    key_values = keys if keys is not None else [f"id-{i}" for i in range(len(rows))]
    program = emit(model, keys=("id",))
    write_program(program, tmp_path)
    build(program, tmp_path)
    result = run(program, tmp_path, csv_text(model, rows, keys=[("id", key_values)]))
    stdout, stderr = decode(result)
    assert result.returncode == 0, stderr
    assert stderr == ""
    scored = parse_output(model, stdout, keys=["id"])
    assert len(scored) == len(rows)
    for index, (row, (key_fields, values)) in enumerate(zip(rows, scored)):
        assert key_fields == [key_values[index]]
        expected = reference(model, as_csv_sees(model, row))
        assert mismatches(values, expected) == [], f"row {index + 1}: {row!r}"


def check_score(model: Model, rows: list[Row], tmp_path: Path) -> None:
    """Import the generated module and call score() on ``rows`` directly."""
    program = emit(model)
    write_program(program, tmp_path)
    module = import_module(tmp_path / "scorer.py")
    for index, row in enumerate(rows):
        expected = reference(model, row)
        assert mismatches(module.score(dict(row)), expected) == [], f"row {index + 1}: {row!r}"


@pytest.mark.parametrize("sample", sorted(SAMPLES))
@pytest.mark.parametrize("passes", [True, False], ids=["passes", "raw"])
def test_runner_matches_evaluate(sample: str, passes: bool, tmp_path: Path) -> None:
    build_model, rows = SAMPLES[sample]
    model = run_passes(build_model()) if passes else build_model()
    check_runner(model, rows, tmp_path)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_score_matches_evaluate(sample: str, tmp_path: Path) -> None:
    build_model, rows = SAMPLES[sample]
    check_score(run_passes(build_model()), rows, tmp_path)


def test_samples_exercise_every_node_type() -> None:
    used = {type(n).__name__ for f, _ in SAMPLES.values() for n in topological_order(f().roots)}
    assert used == set(NODE_TYPES)


def test_wrapped_texts_really_are_wrapped() -> None:
    # the emitter strips one outer pair of parentheses based on wraps_in_parens: it must agree with the text
    for build_model, _ in SAMPLES.values():
        model = build_model()
        plan = schedule(model)
        visitor = PythonVisitor({f.name: f"x_{i}" for i, f in enumerate(model.inputs)})
        for node in topological_order(model.roots):
            text = render(node, plan, visitor.render_node, defining=True)
            if wraps_in_parens(node):
                assert text.startswith("(") and text.endswith(")"), text
                compile(text[1:-1], "<expr>", "eval")
            compile(text, "<expr>", "eval")


def test_string_inputs_keep_empty_string_apart_from_missing(tmp_path: Path) -> None:
    model = categorical_model()
    module = import_module(write_and_path(model, tmp_path))
    empty, missing = module.score({"color": "", "size": 1.0}), module.score({"color": None, "size": 1.0})
    assert empty["filled_is_green"] == 1.0 and missing["filled_is_green"] == 0.0


def write_and_path(model: Model, tmp_path: Path) -> Path:
    write_program(emit(model), tmp_path)
    return tmp_path / "scorer.py"


def test_failing_check_raises_value_error(tmp_path: Path) -> None:
    model = categorical_model()
    module = import_module(write_and_path(model, tmp_path))
    with pytest.raises(InputRowError) as expected:
        evaluate(model, CATEGORICAL_BAD_ROWS[0])
    with pytest.raises(ValueError) as actual:
        module.score(dict(CATEGORICAL_BAD_ROWS[0]))
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("good_rows_before", [0, 2])
def test_runner_rejects_bad_row(good_rows_before: int, tmp_path: Path) -> None:
    model = categorical_model()
    program = emit(model)
    write_program(program, tmp_path)
    rows = CATEGORICAL_ROWS[:good_rows_before] + CATEGORICAL_BAD_ROWS
    result = run(program, tmp_path, csv_text(model, rows))
    stdout, stderr = decode(result)
    assert result.returncode == 1
    number = good_rows_before + 1
    assert stderr == f"row {number}: color: unknown category (handle_unknown='error')\n"
    assert len(parse_output(model, stdout)) == good_rows_before  # nothing written for the bad row


@pytest.mark.parametrize("text", ["abc", "1_000", " 1", "1 ", "1.", "0x10", "1e", "e5", "--1", "in f", "\u0661", "1,5"])
def test_runner_rejects_non_numbers(text: str, tmp_path: Path) -> None:
    model = categorical_model()
    program = emit(model)
    write_program(program, tmp_path)
    field = '"1,5"' if "," in text else text
    stdin = f"color,size\nred,1.0\nred,{field}\n"
    result = run(program, tmp_path, stdin)
    _, stderr = decode(result)
    assert result.returncode == 1
    assert stderr == f'row 2: column "size": "{text}" is not a number\n'


@pytest.mark.parametrize(
    "text", ["+1.5", ".5", "-.5e-3", "1E+3", "1e999", "-Infinity", "INF", "+inf", "nan", "NaN", "-nan", "007", "5e-324"]
)
def test_runner_accepts_the_number_grammar(text: str, tmp_path: Path) -> None:
    model = categorical_model()
    program = emit(model)
    write_program(program, tmp_path)
    result = run(program, tmp_path, f"size,color\n{text},red\n")
    stdout, stderr = decode(result)
    assert result.returncode == 0, stderr
    value = float(text)
    expected = reference(model, {"color": "red", "size": None if math.isnan(value) else value})
    assert mismatches(parse_output(model, stdout)[0][1], expected) == []


@pytest.mark.parametrize("missing", ["color", "size", "id"])
def test_runner_names_a_missing_column(missing: str, tmp_path: Path) -> None:
    model = categorical_model()
    program = emit(model, keys=("id",))
    write_program(program, tmp_path)
    columns = [c for c in ("id", "color", "size", "ignored") if c != missing]
    result = run(program, tmp_path, ",".join(columns) + "\n" + ",".join("1" for _ in columns) + "\n")
    stdout, stderr = decode(result)
    assert result.returncode == 1
    assert f'"{missing}"' in stderr and "missing column" in stderr
    assert stdout == ""


def test_runner_rejects_ragged_rows(tmp_path: Path) -> None:
    model = categorical_model()
    program = emit(model)
    write_program(program, tmp_path)
    result = run(program, tmp_path, "color,size\nred,1\nred\n")
    _, stderr = decode(result)
    assert result.returncode == 1 and stderr == "row 2: expected 2 fields, got 1\n"


def test_key_passthrough_with_quotes_commas_and_newlines(tmp_path: Path) -> None:
    keys = ['a,b "c"', NASTY, "line\nbreak", "", "plain", "cr\rhere", "é ünïcode", "x"]
    rows = (CATEGORICAL_ROWS * 2)[: len(keys)]
    check_runner(categorical_model(), rows, tmp_path, keys=keys)
    stdout, _ = decode(run(emit(categorical_model(), keys=("id",)), tmp_path, csv_text(
        categorical_model(), rows, keys=[("id", keys)])))
    assert '"a,b ""c"""' in stdout and '"cr\rhere"' in stdout  # RFC 4180 quoting, CR included


def test_output_header_and_labels_are_quoted(tmp_path: Path) -> None:
    model = categorical_model()
    program = emit(model)
    write_program(program, tmp_path)
    stdout, _ = decode(run(program, tmp_path, csv_text(model, CATEGORICAL_ROWS)))
    assert stdout.splitlines()[0].startswith('label,"probability_O\'Brien""; DROP TABLE x; --",decision,')


def chain_model(length: int) -> Model:
    """A chain of ``length`` binary nodes over one input, mixing ops so every link matters."""
    x = Input("x", DOUBLE)
    node = x
    for i in range(length):
        if i % 4 == 0:
            node = Binary("mul", node, Const(1.0000001))
        elif i % 4 == 1:
            node = Binary("add", node, x)
        elif i % 4 == 2:
            node = Binary("div", node, Const(1.5))
        else:
            node = Binary("max", node, Const(-1e300))
    return Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", node),))


CHAIN_ROWS: list[Row] = [{"x": v} for v in (0.5, -0.0, 1e-300, -3.25, None, math.inf, 1e300)]


def test_ten_thousand_node_chain(tmp_path: Path) -> None:
    model = run_passes(chain_model(10_000))
    assert depth(model.roots) > 10_000
    limit = sys.getrecursionlimit()
    check_runner(model, CHAIN_ROWS, tmp_path / "runner")
    check_score(model, CHAIN_ROWS, tmp_path / "score")
    assert sys.getrecursionlimit() == limit
    text = emit(model).files[0][1]
    assert max(len(line) for line in text.splitlines()) < 2_000


def sum_model(terms: int) -> Model:
    """A sum of ``terms`` products over 10 inputs, in an order where reassociation changes the bits."""
    inputs = [Input(f"x{i}", DOUBLE) for i in range(10)]
    parts = tuple(Binary("mul", inputs[i % 10], Const(1.0 + i / 7.0)) for i in range(terms))
    total = Sum((Const(1e16), *parts, Const(-1e16)))
    f32 = Sum(tuple(Cast(p, FLOAT32) for p in parts))
    return Model(
        tuple(InputField(f"x{i}", DOUBLE) for i in range(10)),
        (OutputField("total", "value", total), OutputField("total32", "value", Cast(f32, DOUBLE))),
    )


def sum_rows(count: int) -> list[Row]:
    rng = random.Random(1000)
    rows: list[Row] = [{f"x{i}": rng.uniform(-10, 10) for i in range(10)} for _ in range(count)]
    rows.append({f"x{i}": (None if i == 3 else 0.1 * i) for i in range(10)})
    return rows


@pytest.mark.parametrize("passes", [True, False], ids=["passes", "raw"])
def test_thousand_term_sum(passes: bool, tmp_path: Path) -> None:
    model = sum_model(1_000)
    model = run_passes(model) if passes else model
    check_runner(model, sum_rows(20), tmp_path / "runner")
    check_score(model, sum_rows(20), tmp_path / "score")


def test_deep_expressions_are_split_into_statements() -> None:
    text = emit(run_passes(chain_model(2_000))).files[0][1]
    score_body = text[text.index("def score(row):") : text.index("\nKEYS = (")]
    deepest = max(line.count("(") for line in score_body.splitlines())
    assert deepest <= 2 * MAX_DEPTH + 2


INTERESTING = [
    0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 2.5, 3.0, -3.0, 0.1, 1e-300, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 709.782712893384, 710.0, -745.2, 3.4028234663852886e38, 3.4028235677973366e38,
    16777216.0, 1e16, math.inf, -math.inf, math.nan,
]


def interesting_value(rng: random.Random) -> float | None:
    """A value on or next to an interesting point (or a random one, or missing)."""
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.25:
        return rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-10, 10)
    base = rng.choice(INTERESTING)
    if rng.random() < 0.3:
        base = -base
    step = rng.choice([0, 0, 1, -1, 2])
    for _ in range(abs(step)):
        base = math.nextafter(base, math.inf if step > 0 else -math.inf)
    return base


def random_rows(model: Model, count: int, seed: int) -> list[Row]:
    rng = random.Random(seed)
    colors = ["red", "green", NASTY, "", None]
    rows = []
    for _ in range(count):
        row: Row = {}
        for field_ in model.inputs:
            row[field_.name] = rng.choice(colors) if field_.dtype.value == "string" else interesting_value(rng)
        rows.append(row)
    return rows


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_random_rows_match_evaluate(sample: str, tmp_path: Path) -> None:
    build_model, _ = SAMPLES[sample]
    model = run_passes(build_model())
    rows = random_rows(model, 300, seed=20240611)
    check_runner(model, rows, tmp_path / "runner")
    check_score(model, rows, tmp_path / "score")


def test_pow_edge_cases_match_c_pow(tmp_path: Path) -> None:
    a, b = Input("a", DOUBLE), Input("b", DOUBLE)
    model = Model((InputField("a", DOUBLE), InputField("b", DOUBLE)), (OutputField("p", "value", Binary("pow", a, b)),))
    specials = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 2.5, -2.5, 1e308, -1e308, 1e-308, 1e300,
                2.0**53 + 2.0, -(2.0**53), math.inf, -math.inf, math.nan, 1025.0, -1075.0]
    rows = [{"a": x, "b": y} for x in specials for y in specials]
    check_score(model, rows, tmp_path)


def test_emitting_is_deterministic_across_hash_seeds(tmp_path: Path) -> None:
    script = (
        "import hashlib, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from ir_samples import arithmetic_model, categorical_model\n"
        "from emitters.python import PythonEmitter\n"
        "from emitters.base import EmitOptions\n"
        "from modelgen.passes import run_passes\n"
        "for m in (arithmetic_model(), categorical_model()):\n"
        "    p = PythonEmitter().emit(run_passes(m), EmitOptions(runner=True, keys=('k', 'id')))\n"
        "    print(hashlib.sha256(p.files[0][1].encode()).hexdigest(), p.manifest)\n"
    )
    outputs = set()
    for seed in ("1", "2", "random"):
        result = subprocess.run(
            [sys.executable, "-c", script], env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, check=True, cwd=tmp_path,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    here = [
        hashlib.sha256(PythonEmitter().emit(run_passes(f()), EmitOptions(runner=True, keys=("k", "id")))
                       .files[0][1].encode()).hexdigest()
        for f in (arithmetic_model, categorical_model)
    ]
    assert [line.split()[0] for line in outputs.pop().splitlines()] == here


def test_emitting_twice_is_byte_identical() -> None:
    for build_model, _ in SAMPLES.values():
        first = emit(run_passes(build_model()), keys=("id",))
        second = emit(run_passes(build_model()), keys=("id",))
        assert first.files == second.files and first.manifest == second.manifest


def test_manifest_and_generated_module_shape() -> None:
    model = categorical_model()
    with_runner = emit(model, name="churn")
    assert with_runner.manifest == {
        "target": "python",
        "name": "churn",
        "files": ["churn.py"],
        "build": [["python3", "-m", "py_compile", "churn.py"]],
        "run": ["python3", "churn.py"],
    }
    plain = PythonEmitter().emit(model, EmitOptions(name="churn"))
    assert "run" not in plain.manifest and "__main__" not in plain.files[0][1]
    text = plain.files[0][1]
    assert text.isascii()
    for forbidden in ("import csv", "import re", "import struct", "def _pow", "def _f32"):
        assert forbidden not in text  # only what the model needs


def test_metadata_cannot_break_out_of_the_docstring(tmp_path: Path) -> None:
    base = categorical_model()
    evil = 'x"""\nimport os; os.system("echo pwned")\n"""\\'
    model = Model(base.inputs, base.outputs, base.checks, {"source": evil, "émoji": "🙂", "n": [1, 2.5]})
    path = tmp_path / "scorer.py"
    path.write_text(emit(model).files[0][1], encoding="utf-8")
    module = import_module(path)
    assert "pwned" in module.__doc__ and module.__doc__.count('"""') == 0
    assert "source:" in module.__doc__
    assert set(dir(module)) >= {"score", "INPUTS", "OUTPUTS", "KEYS", "main"}
    assert module.INPUTS == (("color", "string"), ("size", "double"))
    assert module.OUTPUTS[1] == (f"probability_{NASTY}", "probability", NASTY)


@pytest.mark.parametrize("name", ["my-scorer", "1abc", "class", "", "a.b"])
def test_module_name_must_be_an_identifier(name: str) -> None:
    with pytest.raises(TargetCannotExpressError, match="identifier"):
        PythonEmitter().emit(categorical_model(), EmitOptions(name=name))


def test_score_rejects_strings_for_numbers(tmp_path: Path) -> None:
    module = import_module(write_and_path(categorical_model(), tmp_path))
    with pytest.raises(TypeError, match="size"):
        module.score({"color": "red", "size": "1.5"})
