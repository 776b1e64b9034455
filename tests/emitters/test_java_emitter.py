"""The java target end to end: emit, compile with ``-Xlint:all -Werror``, run the CSV runner,
compare every output with the IR interpreter by bits (by ULP only where visitor.py measured a
budget for exp/log/log1p/expm1/pow). JVM start-ups are batched: one run per model and case.
"""

from __future__ import annotations

import csv
import io
import math
import random
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import helpers_java as hj
import pytest
from ir_samples import (
    ARITHMETIC_ROWS,
    CATEGORICAL_BAD_ROWS,
    CATEGORICAL_ROWS,
    NASTY,
    arithmetic_model,
    categorical_model,
)

from emitters.base import EmitOptions, EmittedProgram
from emitters.java import JavaEmitter
from emitters.java.literals import comment_text, double_literal, float_literal, string_literal
from emitters.java.names import mangle
from modelgen.errors import ModelgenError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    ArgMax,
    Binary,
    Cast,
    Const,
    IfElse,
    Input,
    InputField,
    IsIn,
    Lookup,
    Model,
    OutputField,
    Sum,
    Unary,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

KEY_VALUES = ["plain", "with,comma", 'with "quotes"', "multi\nline", "", "é😀", "x\r\ny"]
JIT_METHOD_LIMIT = 8000  # HotSpot's HugeMethodLimit: bigger methods are never compiled


class Built:
    """An emitted, compiled program in its own directory."""

    def __init__(self, model: Model, program: EmittedProgram, outdir: Path) -> None:
        self.model = model
        self.program = program
        self.outdir = outdir

    def run(self, stdin: str) -> tuple[int, str, str]:
        return hj.run(self.program, self.outdir, stdin)


def _build(model: Model, outdir: Path, name: str, keys: tuple[str, ...] = ()) -> Built:
    program = JavaEmitter().emit(model, EmitOptions(name=name, runner=True, keys=keys))
    hj.write_program(program, outdir)
    hj.build(program, outdir)
    return Built(model, program, outdir)


@pytest.fixture(scope="module")
def arithmetic(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(arithmetic_model(), tmp_path_factory.mktemp("arith"), "Arith", keys=("id",))


@pytest.fixture(scope="module")
def categorical(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(categorical_model(), tmp_path_factory.mktemp("cat"), "Cat", keys=("id",))


def _random_double(rng: random.Random) -> float | None:
    choice = rng.randrange(6)
    if choice == 0:
        return rng.choice([None, 0.0, -0.0, math.inf, -math.inf, 5e-324, -5e-324, 1.7976931348623157e308, 1.0, -1.0])
    if choice == 1:  # any finite bit pattern
        while True:
            value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            if math.isfinite(value):
                return value
    if choice == 2:
        return rng.uniform(-800.0, 800.0)  # exp/expm1 overflow and underflow ranges
    if choice == 3:
        return rng.uniform(-2.0, 2.0)
    if choice == 4:
        return float(rng.randint(-5, 5)) / 2  # exact halves: floor, pow with integral exponents
    return rng.uniform(-1e-3, 1e-3)


def _random_rows(model: Model, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    colors = ["red", "green", NASTY, None]
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {}
        for field_ in model.inputs:
            row[field_.name] = rng.choice(colors) if field_.dtype is STRING else _random_double(rng)
        rows.append(row)
    return rows


def _check_parity(built: Built, rows: list[dict[str, Any]]) -> None:
    model = built.model
    keys = [KEY_VALUES[i % len(KEY_VALUES)] + str(i) for i in range(len(rows))]
    status, stdout, stderr = built.run(hj.csv_text(model, rows, keys=[("id", keys)]))
    assert status == 0, stderr
    parsed = hj.parse_output(model, stdout, keys=["id"])
    assert len(parsed) == len(rows)
    failures = []
    for index, (row, (key_fields, actual)) in enumerate(zip(rows, parsed)):
        assert key_fields == [keys[index]], "key columns pass through untouched"
        expected = evaluate(model, hj.as_csv_sees(model, row))
        failures += [f"row {index + 1} {row!r}: {m}" for m in hj.mismatches(model, actual, expected)]
    assert not failures, "\n".join(failures[:20])


def _pow_and_max_edge_rows(model: Model) -> list[dict[str, Any]]:
    """Where Java's Math.pow / Math.max differ from C pow / the IR max."""
    y = model.inputs[1].name
    pairs = [
        (1.0, None),
        (1.0, math.inf),
        (1.0, -math.inf),
        (-1.0, math.inf),
        (-1.0, -math.inf),
        (None, 0.0),
        (None, -0.0),
        (0.0, -1.0),
        (-0.0, -3.0),
        (-0.0, -math.inf),
        (-8.0, 1 / 3),
        (0.5, math.inf),
        (-0.0, 0.0),
        (0.0, -0.0),
        (-2.0, 3.0),
        (2.0, 1025.0),
        (2.0, -1075.0),
    ]
    return [{"x": a, y: b} for a, b in pairs]


def test_arithmetic_sample_and_random_rows_match_the_interpreter(arithmetic: Built) -> None:
    rows = [*ARITHMETIC_ROWS, *_pow_and_max_edge_rows(arithmetic.model)]
    _check_parity(arithmetic, [*rows, *_random_rows(arithmetic.model, 400, seed=20240607)])


def test_categorical_sample_and_random_rows_match_the_interpreter(categorical: Built) -> None:
    _check_parity(categorical, [*CATEGORICAL_ROWS, *_random_rows(categorical.model, 300, seed=7)])


def test_only_transcendental_outputs_get_a_ulp_budget() -> None:
    budgets = hj.ulp_budgets(arithmetic_model())
    assert sorted(name for name, budget in budgets.items() if budget) == ["v14", "v2", "v3", "v4", "v5"]
    assert set(budgets.values()) == {0, 1}


def test_failing_check_exits_1_naming_the_row(categorical: Built) -> None:
    model = categorical.model
    status, _, stderr = categorical.run(hj.csv_text(model, CATEGORICAL_BAD_ROWS, keys=[("id", ["a"])]))
    assert status == 1
    assert stderr.startswith("row 1: color: unknown category"), stderr
    rows = [CATEGORICAL_ROWS[0], *CATEGORICAL_BAD_ROWS]
    status, _, stderr = categorical.run(hj.csv_text(model, rows, keys=[("id", ["a", "b"])]))
    assert (status, stderr.splitlines()[0]) == (1, "row 2: color: unknown category (handle_unknown='error')")


@pytest.mark.parametrize("text", ["abc", "1_000", " 1", "1 ", "1d", "0x1p3", "1e", "--1", "in f", "\u0661"])
def test_non_numeric_field_exits_1_naming_row_and_column(arithmetic: Built, text: str) -> None:
    y = arithmetic.model.inputs[1].name
    stdin = f'x,id,"{y.replace(chr(34), chr(34) * 2)}"\n1.0,k,"{text}"\n2.0,k,3.0\n'
    status, stdout, stderr = arithmetic.run(stdin)
    assert status == 1
    assert stderr.strip() == f'row 1: column "{y}": "{text}" is not a number'
    assert stdout.count("\n") == 1, "only the header was written"


def test_accepted_number_spellings(arithmetic: Built) -> None:
    spellings = {
        "1": 1.0,
        "+1.5": 1.5,
        "-.5": -0.5,
        "2E3": 2000.0,
        "1e-400": 0.0,
        "-1e400": -math.inf,
        "INF": math.inf,
        "-Infinity": -math.inf,
        "nan": None,
        "-NaN": None,
        "": None,
        "1.5e+2": 150.0,
    }
    lines = ['x,id,"weird name ""\'; --"'] + [f"{text},,0" for text in spellings]
    status, stdout, stderr = arithmetic.run("\n".join(lines) + "\n")
    assert status == 0, stderr
    rows = hj.parse_output(arithmetic.model, stdout, keys=["id"])
    y = arithmetic.model.inputs[1].name
    for (text, value), (_, actual) in zip(spellings.items(), rows):
        expected = evaluate(arithmetic.model, {"x": value, y: 0.0})
        assert not hj.mismatches(arithmetic.model, actual, expected), text


def test_missing_column_exits_1_naming_it(arithmetic: Built) -> None:
    status, stdout, stderr = arithmetic.run("x,id,other\n1,a,2\n")
    assert status == 1
    assert stderr.strip() == 'header: missing column "weird name "\'; --"'
    assert stdout == ""


def test_missing_key_column_and_ragged_rows_are_errors(arithmetic: Built, categorical: Built) -> None:
    status, _, stderr = categorical.run("color,size\nred,1\n")
    assert (status, stderr.strip()) == (1, 'header: missing column "id"')
    status, _, stderr = categorical.run("id,color,size\na,red,1\nb,red\n")
    assert status == 1 and stderr.startswith("row 2: 2 fields"), stderr


def test_quoted_fields_and_crlf_are_parsed_per_rfc_4180(categorical: Built) -> None:
    nasty = NASTY.replace('"', '""')
    stdin = f'size,"id",color\r\n1,"a ""b"", c\r\nd","{nasty}"\r\n"",,red\r\n'
    status, stdout, stderr = categorical.run(stdin)
    assert status == 0, stderr
    rows = hj.parse_output(categorical.model, stdout, keys=["id"])
    assert [keys for keys, _ in rows] == [['a "b", c\r\nd'], [""]]
    assert rows[0][1] == evaluate(categorical.model, {"color": NASTY, "size": 1.0})
    assert not hj.mismatches(categorical.model, rows[1][1], evaluate(categorical.model, {"color": "red", "size": None}))


def _chain_model(length: int) -> Model:
    x = Input("x", DOUBLE)
    node = x
    for i in range(length):
        node = (
            Binary("add", Binary("mul", node, Const(0.5)), Const(float(i % 7) + 0.25))
            if i % 2
            else Binary("max", node, x)
        )
    return Model((InputField("x", DOUBLE),), (OutputField("chain", "value", node),))


def _sum_model(terms: int) -> Model:
    x = Input("x", DOUBLE)
    parts = tuple(Binary("mul", x, Const(1.0 + i / 1024)) for i in range(terms))
    return Model((InputField("x", DOUBLE),), (OutputField("total", "value", Sum(parts)),))


@pytest.mark.parametrize(("make", "size"), [(_chain_model, 10_000), (_sum_model, 1_000)], ids=["chain", "sum"])
def test_huge_models_compile_run_and_keep_methods_jit_sized(tmp_path: Path, make: Any, size: int) -> None:
    model = run_passes(make(size))
    built = _build(model, tmp_path, "Big")
    rows = [{"x": v} for v in (0.0, -0.0, 1.5, -3.25, 1e300, None, math.inf, 0.1)]
    status, stdout, stderr = built.run(hj.csv_text(model, rows))
    assert status == 0, stderr
    for row, (_, actual) in zip(rows, hj.parse_output(model, stdout)):
        assert not hj.mismatches(model, actual, evaluate(model, row)), row
    sizes = hj.method_code_sizes(tmp_path)
    too_big = {method: size for method, size in sizes.items() if size > JIT_METHOD_LIMIT}
    assert sizes and not too_big
    # the class-file reader the tree tests use agrees with javap (every scorer method ends in a 1-byte return)
    class_file = tmp_path / "classes" / "Big.class"
    assert sorted(hj.class_method_code_sizes(class_file.read_bytes()).values()) == hj.javap_code_sizes(class_file)


def test_emitting_twice_is_byte_identical() -> None:
    for model in (arithmetic_model(), categorical_model(), run_passes(_chain_model(300))):
        options = EmitOptions(name="Twice", runner=True, keys=("k",), package="com.example.scoring")
        first = JavaEmitter().emit(model, options)
        second = JavaEmitter().emit(model, options)
        assert first == second


def _literal_model() -> Model:
    doubles = [
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        2.225073858507201e-308,
        1.7976931348623157e308,
        1e23,
        0.1,
        -0.0,
        0.0,
        9007199254740993.0,
        123456789012345680.0,
        4.35,
        math.inf,
        -math.inf,
        math.nan,
    ]
    rng = random.Random(3)
    doubles += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(40)]
    doubles = [d for d in doubles if not math.isnan(d)] + [math.nan]
    floats = [
        1.401298464324817e-45,
        3.4028234663852886e38,
        1.1754943508222875e-38,
        0.10000000149011612,
        -0.0,
        16777216.0,
        0.3333333432674408,
        math.inf,
    ]
    floats += [struct.unpack("<f", struct.pack("<I", rng.getrandbits(32) & 0x7F7FFFFF))[0] for _ in range(40)]
    strings = ["\n", "\\u000a", "\\", "\\\\u0022", '"', "*/", "\x00\x01\x7f", "é", "😀", "\u2028", "\ud7ff", "\\u"]
    x = Input("x", DOUBLE)
    index = Cast(Binary("max", Binary("min", x, Const(1000.0)), Const(0.0)), FLOAT32)
    pick = ArgMax(tuple(IfElse(IsIn(index, (float(i),)), Const(1.0), Const(0.0)) for i in range(len(strings))))
    outputs = [
        OutputField(f"d{i}", "value", Binary("add", Const(v), Binary("mul", x, Const(0.0))))
        for i, v in enumerate(doubles)
    ]
    outputs += [
        OutputField(
            f"f{i}", "value", Cast(Sum((Const(v, FLOAT32), Cast(Binary("mul", x, Const(0.0)), FLOAT32))), DOUBLE)
        )
        for i, v in enumerate(floats)
    ]
    outputs.append(OutputField("text", "label", Lookup(pick, tuple(strings), STRING)))
    outputs.append(
        OutputField("f32ops", "value", Cast(Binary("pow", Unary("sqrt", index), Const(1.5, FLOAT32)), DOUBLE))
    )
    return Model((InputField("x", DOUBLE),), tuple(outputs))


def test_literals_round_trip_through_javac(tmp_path: Path) -> None:
    model = _literal_model()
    built = _build(model, tmp_path, "Literals")
    rows = [{"x": float(i)} for i in range(12)] + [{"x": 0.0}, {"x": 1.0}, {"x": 7.0}]
    rows[0]["x"] = 0.0
    status, stdout, stderr = built.run(hj.csv_text(model, rows))
    assert status == 0, stderr
    parsed = hj.parse_output(model, stdout)
    # 0 * x is 0 only for finite x; all rows here are finite, so each dN/fN must be the constant itself
    for row, (_, actual) in zip(rows, parsed):
        assert not hj.mismatches(model, actual, evaluate(model, row)), row


def test_literal_spelling() -> None:
    assert double_literal(-1.5) == "(-1.5)"
    assert double_literal(math.nan) == "Double.NaN"
    assert float_literal(1.401298464324817e-45) == "1e-45f"
    assert float_literal(3.4028234663852886e38) == "3.4028235e+38f"
    assert string_literal("\n\x00\\u000a\u2028😀") == '"\\n\\000\\\\u000a\\u2028\\uD83D\\uDE00"'
    assert "*/" not in comment_text("a*/b") and "\\u" not in comment_text("\\u002a/").replace("\\\\", "")


def test_names_are_mangled_once_and_invalid_names_rejected() -> None:
    assert mangle(["a b", "a_b", "int", "9x", "ü", "?", "_"]) == ["a_b", "a_b_2", "int_", "_9x", "__", "___2", "___3"]
    model = arithmetic_model()
    for bad in ("1abc", "class", "Input", "my-scorer", "Math", ""):
        with pytest.raises(ModelgenError, match="java"):
            JavaEmitter().emit(model, EmitOptions(name=bad))
    for bad_package in ("com.1x", "com..x", "com.class"):
        with pytest.raises(ModelgenError, match="package"):
            JavaEmitter().emit(model, EmitOptions(name="Ok", package=bad_package))


def test_package_and_manifest(tmp_path: Path) -> None:
    model = categorical_model()
    options = EmitOptions(name="PkgScorer", runner=True, package="com.example.scoring")
    program = JavaEmitter().emit(model, options)
    assert program.manifest == {
        "target": "java",
        "name": "PkgScorer",
        "files": ["PkgScorer.java", "PkgScorerRunner.java"],
        "build": [["javac", "--release", "11", "-d", "classes", "PkgScorer.java", "PkgScorerRunner.java"]],
        "run": ["java", "-cp", "classes", "com.example.scoring.PkgScorerRunner"],
    }
    scorer_only = JavaEmitter().emit(model, replace(options, runner=False))
    assert [name for name, _ in scorer_only.files] == ["PkgScorer.java"]
    assert scorer_only.manifest["build"] == [["javac", "--release", "11", "-d", "classes", "PkgScorer.java"]]
    hj.write_program(scorer_only, tmp_path)
    hj.build(scorer_only, tmp_path)
    assert (tmp_path / "classes" / "com" / "example" / "scoring" / "PkgScorer.class").exists()
    for _, text in program.files:
        assert text.isascii()


def test_output_csv_quotes_labels(categorical: Built) -> None:
    status, stdout, _ = categorical.run(f"id,color,size\nk,{'red'},0\n")
    assert status == 0
    rows = list(csv.reader(io.StringIO(stdout, newline="")))
    assert rows[0][2] == f"probability_{NASTY}"
    assert f'"probability_{NASTY.replace(chr(34), chr(34) * 2)}"' in stdout.splitlines()[0]
