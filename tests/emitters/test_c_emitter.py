"""The c target end to end: emit, build with gcc -Wall -Wextra -Werror -pedantic, run the CSV
runner (and a struct-level harness), and compare every output bit for bit with
``modelgen.ir.evaluate``."""

from __future__ import annotations

import hashlib
import math
import os
import random
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers_c import (
    as_csv_sees,
    build,
    compile_c,
    csv_text,
    emit_and_build,
    expected_harness_lines,
    harness_source,
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

from emitters.base import EmitOptions
from emitters.c import CEmitter
from emitters.c.emitter import CFLAGS as CFLAGS_UNDER_TEST
from emitters.c.literals import (
    comment_text,
    format_double,
    format_float32,
    mangle_identifiers,
    string_literal,
)
from modelgen.errors import ModelgenError, TargetCannotExpressError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    INT,
    STRING,
    And,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    DType,
    IfElse,
    Input,
    InputField,
    IsIn,
    IsMissing,
    Lookup,
    Model,
    Node,
    Not,
    OutputField,
    Sum,
    Unary,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

# ---------------------------------------------------------------- extra sample models


def float32_model() -> Model:
    """Every float32 op (each result must round to float32), float32 membership, argmax and lookups."""
    x32 = Cast(Input("x", DOUBLE), FLOAT32)
    y32 = Cast(Input("y", DOUBLE), FLOAT32)
    outputs: list[OutputField] = []
    for op in ("neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "floor"):
        outputs.append(OutputField(f"u_{op}", "value", Cast(Unary(op, x32), DOUBLE)))
    for op in ("add", "sub", "mul", "div", "max", "min", "pow"):
        outputs.append(OutputField(f"b_{op}", "value", Cast(Binary(op, x32, y32), DOUBLE)))
    third = Const(0.3333333432674408, FLOAT32)
    winner = ArgMax((x32, y32, third))
    outputs += [
        OutputField("sum", "value", Cast(Sum((x32, y32, third, Const(-0.0, FLOAT32))), DOUBLE)),
        OutputField("lt", "value", Cast(Compare("lt", x32, y32), DOUBLE)),
        OutputField("isin", "value", Cast(IsIn(x32, (0.5, -0.0, 3.4028234663852886e38)), DOUBLE)),
        OutputField("missing", "value", Cast(IsMissing(x32), DOUBLE)),
        OutputField("argmax", "value", Cast(winner, DOUBLE)),
        OutputField("f32_table", "value", Cast(Lookup(winner, (0.1 and 0.10000000149011612, math.inf, math.nan),
                                                      FLOAT32), DOUBLE)),
        OutputField("int_table", "value", Cast(Lookup(winner, (-(2**63), 7, 2**53), INT), DOUBLE)),
        OutputField("double_table", "value", Lookup(winner, (-0.0, 5e-324, 1e308), DOUBLE)),
        OutputField("int_isin", "value", Cast(IsIn(winner, (0, 2)), DOUBLE)),
        OutputField("bool_int", "value", Cast(Cast(And((Not(Compare("ne", x32, x32)),)), INT), DOUBLE)),
    ]
    return Model((InputField("x", DOUBLE), InputField("y", DOUBLE)), tuple(outputs))


FLOAT32_ROWS = [
    {"x": 0.1, "y": 0.2},
    {"x": -0.0, "y": 0.0},
    {"x": 3.4028235677973366e38, "y": -3.4028235677973366e38},
    {"x": 3.4028235677973362e38, "y": 1e-46},
    {"x": None, "y": 1.0},
    {"x": 88.7, "y": -104.0},
    {"x": 16777217.0, "y": 1.0000000596046448},
    {"x": -2.5, "y": 0.5},
    {"x": math.inf, "y": math.nan},
    {"x": 0.3333333432674408, "y": 0.3333333432674408},
]


SAMPLES: dict[str, tuple[Callable[[], Model], list[dict[str, Any]]]] = {
    "arithmetic": (arithmetic_model, ARITHMETIC_ROWS),
    "categorical": (categorical_model, CATEGORICAL_ROWS),
    "float32": (float32_model, FLOAT32_ROWS),
}


def _check_runner(model: Model, rows: list[dict[str, Any]], directory: Path) -> None:
    executable = emit_and_build(model, directory)
    result = run(executable, csv_text(model, rows))
    assert result.returncode == 0, result.stderr
    scored = parse_output(model, result.stdout)
    expected = [evaluate(model, as_csv_sees(model, row)) for row in rows]
    assert mismatches(expected, scored) == []


# ---------------------------------------------------------------- parity


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_runner_matches_evaluate_bit_for_bit(sample: str, tmp_path: Path) -> None:
    make, rows = SAMPLES[sample]
    _check_runner(make(), rows, tmp_path)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_struct_api_matches_evaluate_bit_for_bit(sample: str, tmp_path: Path) -> None:
    """Through the C struct, bypassing CSV: exact input bits, and "" is a real (non-missing) string."""
    make, rows = SAMPLES[sample]
    model = make()
    rows = [*rows, *(CATEGORICAL_BAD_ROWS if sample == "categorical" else [])]
    program = CEmitter().emit(model, EmitOptions(name="scorer"))
    write_program(program, tmp_path)
    fields = mangle_identifiers(f.name for f in model.inputs)
    outputs = mangle_identifiers(o.name for o in model.outputs)
    (tmp_path / "harness.c").write_text(harness_source(model, "scorer", rows, fields, outputs), encoding="utf-8")
    compile_c(["cc", *CFLAGS_UNDER_TEST, "-o", "harness", "scorer.c", "harness.c", "-lm"], tmp_path)
    printed = subprocess.run([str(tmp_path / "harness")], capture_output=True, text=True, check=True).stdout
    expected: list[Mapping[str, Any] | None] = []
    for row in rows:
        try:
            expected.append(evaluate(model, row))
        except ModelgenError:
            expected.append(None)
    assert printed.splitlines() == expected_harness_lines(model, expected)


def _interesting_doubles() -> list[float]:
    points = [0.0, 1.0, 0.5, 2.5, 0.1, 0.2, 1.5, 3.0, 1e-300, 5e-324, 2.2250738585072014e-308,
              709.782712893384, 745.1332191019412, 710.0, 1e308, 1.7976931348623157e308,
              3.4028234663852886e38, 3.4028235677973366e38, 16777217.0, math.pi, 1e16, 2.0**53 + 1]
    values: list[float] = []
    for p in points:
        for v in (p, -p):
            values += [v, math.nextafter(v, math.inf), math.nextafter(v, -math.inf)]
    return [*values, math.inf, -math.inf, math.nan]


def _random_double(rng: random.Random, interesting: list[float]) -> float | None:
    kind = rng.randrange(5)
    if kind == 0:
        return rng.choice(interesting)
    if kind == 1:
        return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if kind == 2:
        return rng.uniform(-5.0, 5.0)
    if kind == 3:
        return None
    return rng.uniform(-800.0, 800.0)


def test_randomized_rows_match_evaluate(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    interesting = _interesting_doubles()
    for sample in sorted(SAMPLES):
        make, _ = SAMPLES[sample]
        model = make()
        rows: list[dict[str, Any]] = []
        for _ in range(300):
            row: dict[str, Any] = {}
            for f in model.inputs:
                if f.dtype is STRING:
                    row[f.name] = rng.choice(["red", "green", NASTY, "", None])
                else:
                    row[f.name] = _random_double(rng, interesting)
            rows.append(row)
        _check_runner(model, rows, tmp_path / sample)


# ---------------------------------------------------------------- runner protocol


def test_failing_row_check_exits_1_naming_the_row(tmp_path: Path) -> None:
    model = categorical_model()
    executable = emit_and_build(model, tmp_path)
    result = run(executable, csv_text(model, CATEGORICAL_BAD_ROWS))
    assert result.returncode == 1
    assert result.stderr.startswith("row 1: color: unknown category")
    later = run(executable, csv_text(model, [*CATEGORICAL_ROWS[:2], *CATEGORICAL_BAD_ROWS]))
    assert later.returncode == 1 and later.stderr.startswith("row 3: ")


@pytest.mark.parametrize("text", ["abc", "1_000", " 1", "1 ", "0x10", "1.", "1e", "e5", "+", "-", ".", "1e+",
                                  "nan1", "infinit", "1,5", "\u0661", "1.5.2", "--1", "0x1p3", "1d"])
def test_non_numeric_field_exits_1_naming_row_and_column(text: str, tmp_path: Path) -> None:
    model = arithmetic_model()
    executable = emit_and_build(model, tmp_path)
    good = {"x": 1.0, "weird name \"'; --": 2.0}
    csv_input = csv_text(model, [good]) + f'2.0,"{text}",\n'
    result = run(executable, csv_input)
    assert result.returncode == 1, result.stdout
    assert result.stderr == f'row 2: column "x": "{text}" is not a number\n'
    assert len(result.stdout.splitlines()) == 2  # header and the good row only


@pytest.mark.parametrize(
    ("text", "value"),
    [("+1.5e3", 1500.0), (".5", 0.5), ("-.5E-1", -0.05), ("007", 7.0), ("INF", math.inf), ("-Infinity", -math.inf),
     ("+inf", math.inf), ("NaN", math.nan), ("-nan", math.nan), ("", math.nan), ("1e999", math.inf),
     ("-1e-999", -0.0), ("4.9406564584124654e-324", 5e-324), ("-0", -0.0),
     ("0.1000000000000000055511151231257827", 0.1)],
)
def test_number_grammar_accepts(text: str, value: float, tmp_path: Path) -> None:
    x = Input("x", DOUBLE)
    model = Model((InputField("x", DOUBLE),), (OutputField("y", "value", x),))
    executable = emit_and_build(model, tmp_path)
    result = run(executable, f'x\n"{text}"\n')
    assert result.returncode == 0, result.stderr
    assert mismatches([{"y": value}], parse_output(model, result.stdout)) == []


def test_missing_input_column_exits_1_naming_it(tmp_path: Path) -> None:
    model = arithmetic_model()
    executable = emit_and_build(model, tmp_path)
    result = run(executable, "x,other\n1,2\n")
    assert result.returncode == 1
    assert 'missing input column "weird name "\'; --"' in result.stderr


def test_quoted_keys_pass_through(tmp_path: Path) -> None:
    model = categorical_model()
    keys = {"id": ["a,b", 'say "hi"', "multi\nline", "", "plain", "x\r\ny", "é ünïcode"], "k2": list("1234567")}
    executable = emit_and_build(model, tmp_path, keys=("id", "k2"))
    rows = [CATEGORICAL_ROWS[i % len(CATEGORICAL_ROWS)] for i in range(7)]
    result = run(executable, csv_text(model, rows, list(keys.items())))
    assert result.returncode == 0, result.stderr
    scored = parse_output(model, result.stdout, keys=["id", "k2"])  # the header is id, k2, then the outputs
    assert [k[0] for k, _ in scored] == keys["id"]
    assert [k[1] for k, _ in scored] == keys["k2"]
    assert mismatches([evaluate(model, as_csv_sees(model, r)) for r in rows], scored) == []


def test_csv_edge_cases(tmp_path: Path) -> None:
    """CRLF line ends, quoted numbers, blank lines, a missing final newline, extra columns; bad CSV fails."""
    model = categorical_model()
    executable = emit_and_build(model, tmp_path)
    text = 'extra,size,color\r\n"1,2","2.5","red"\r\n\r\nz,,\n"q""",1.0,"gr""een"\n'
    result = run(executable, text.replace('"gr""een"', "green"))
    assert result.returncode == 0, result.stderr
    scored = parse_output(model, result.stdout)
    rows = [{"color": "red", "size": 2.5}, {"color": None, "size": None}, {"color": "green", "size": 1.0}]
    assert mismatches([evaluate(model, r) for r in rows], scored) == []
    no_newline = run(executable, "size,color\n1.0,red")
    assert no_newline.returncode == 0 and len(no_newline.stdout.splitlines()) == 2
    for bad, message in [("size,color\n1.0\n", "row 1: expected 2 fields, got 1"),
                         ('size,color\n1.0,"red\n', "row 1: unterminated quoted field"),
                         ('size,color\n1.0,"red"x\n', "row 1: malformed CSV"),
                         ('size,color\n1.0,re"d\n', "row 1: malformed CSV"),
                         ("size,color\n1.0,red\x00x\n", "row 1: a field contains a NUL byte"),
                         ("size,color,size\n1,red,1\n", 'header: column "size": appears more than once'),
                         ("", "empty input")]:
        result = run(executable, bad)
        assert result.returncode == 1, bad
        assert result.stderr.startswith(message), (bad, result.stderr)


def test_output_strings_are_quoted(tmp_path: Path) -> None:
    color = Input("color", STRING)
    model = Model((InputField("color", STRING),), (OutputField('la,"bel', "label", color),))
    executable = emit_and_build(model, tmp_path)
    values = ['a,b', 'q"q', "new\nline", "plain", None]
    result = run(executable, csv_text(model, [{"color": v} for v in values]))
    assert result.returncode == 0, result.stderr
    scored = parse_output(model, result.stdout)
    assert result.stdout.startswith('"la,""bel"\n')
    assert [values['la,"bel'] for _, values in scored] == ["a,b", 'q"q', "new\nline", "plain", ""]


# ---------------------------------------------------------------- scale


def _chain(n_nodes: int) -> Model:
    x = Input("x", DOUBLE)
    node: Any = x
    for i in range(n_nodes // 2):
        node = Binary("add", Binary("mul", node, Const(0.75)), Const(float(i % 7) + 0.25))
    return Model((InputField("x", DOUBLE),), (OutputField("y", "value", node),))


def test_10000_node_chain_compiles_and_runs(tmp_path: Path) -> None:
    model = run_passes(_chain(10_000))
    start = time.monotonic()
    executable = emit_and_build(model, tmp_path)
    elapsed = time.monotonic() - start
    assert elapsed < 120, f"emit+build took {elapsed:.1f}s"
    assert "mg_part1(" in (tmp_path / "scorer.c").read_text()  # the big body is split into part functions
    rows = [{"x": v} for v in (0.0, -1.5, 1e300, None, math.inf, 3.0)]
    result = run(executable, csv_text(model, rows))
    assert result.returncode == 0, result.stderr
    assert mismatches([evaluate(model, r) for r in rows], parse_output(model, result.stdout)) == []


@pytest.mark.parametrize("passes", [True, False])
def test_1000_term_sum(passes: bool, tmp_path: Path) -> None:
    x, y = Input("x", DOUBLE), Input("y", DOUBLE)
    terms = tuple(Binary("mul", (x, y)[i % 2], Const(float(i) + 0.1)) for i in range(1000))
    model = Model((InputField("x", DOUBLE), InputField("y", DOUBLE)), (OutputField("s", "value", Sum(terms)),))
    if passes:
        model = run_passes(model)
    rows = [{"x": 0.1, "y": -0.3}, {"x": 1e300, "y": -1e300}, {"x": 1e-320, "y": 3.0}, {"x": None, "y": 1.0}]
    _check_runner(model, rows, tmp_path)


# ---------------------------------------------------------------- determinism, names, literals


_EMIT_SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from ir_samples import arithmetic_model, categorical_model
from emitters.base import EmitOptions
from emitters.c import CEmitter
for make in (arithmetic_model, categorical_model):
    program = CEmitter().emit(make(), EmitOptions(name="s", runner=True, keys=("id",)))
    for name, text in program.files:
        print(name, hashlib.sha256(text.encode()).hexdigest())
"""


def test_emitting_is_byte_identical_across_runs_and_hash_seeds() -> None:
    script = _EMIT_SCRIPT.format(tests=str(Path(__file__).resolve().parents[1]))
    digests = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout)
    assert len(digests) == 1
    for make in (arithmetic_model, categorical_model, float32_model):
        first = CEmitter().emit(make(), EmitOptions(name="s", runner=True))
        second = CEmitter().emit(make(), EmitOptions(name="s", runner=True))
        assert first == second
    in_process = "".join(
        f"{name} {hashlib.sha256(text.encode()).hexdigest()}\n"
        for make in (arithmetic_model, categorical_model)
        for name, text in CEmitter().emit(make(), EmitOptions(name="s", runner=True, keys=("id",))).files
    )
    assert digests == {in_process}


def test_manifest_shapes(tmp_path: Path) -> None:
    with_runner = CEmitter().emit(categorical_model(), EmitOptions(name="scorer", runner=True))
    assert with_runner.manifest == {
        "target": "c", "name": "scorer", "files": ["scorer.h", "scorer.c", "scorer_main.c"],
        "build": [["cc", *CFLAGS_UNDER_TEST, "-o", "scorer", "scorer.c", "scorer_main.c", "-lm"]],
        "run": ["./scorer"],
    }
    alone = CEmitter().emit(categorical_model(), EmitOptions(name="scorer"))
    assert alone.manifest == {"target": "c", "name": "scorer", "files": ["scorer.h", "scorer.c"],
                              "build": [["cc", *CFLAGS_UNDER_TEST, "-c", "scorer.c"]]}
    for argv in with_runner.manifest["build"] + alone.manifest["build"]:
        assert "-ffp-contract=off" in argv and not any("fast-math" in a or a == "-Ofast" for a in argv)
    write_program(alone, tmp_path)
    build(alone, tmp_path)
    assert (tmp_path / "scorer.o").exists()
    source = (tmp_path / "scorer.c").read_text()
    includes = sorted(line for line in source.splitlines() if line.startswith("#include"))
    assert includes == ['#include "scorer.h"', "#include <math.h>", "#include <string.h>"]


@pytest.mark.parametrize("name", ["bad-name", "1abc", "", "a b", "__x", "_X", "x.y", "é"])
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(ModelgenError, match="name"):
        CEmitter().emit(categorical_model(), EmitOptions(name=name))


def test_unusual_models_compile(tmp_path: Path) -> None:
    """No inputs (ISO C forbids an empty struct), label-only outputs, an odd but valid NAME."""
    constant = Model((), (OutputField("c", "value", Unary("exp", Const(1.0))),),
                     metadata={"source": "*/ evil /* comment\n#error x", "version": [1, "??/"]})
    _check_runner(constant, [{}, {}], tmp_path / "constant")
    color = Input("int", STRING)
    labels = Model((InputField("int", STRING), InputField("1 x", DOUBLE), InputField("_1_x", DOUBLE)),
                   (OutputField("label", "label", IfElse(IsMissing(color), Const("?"), color)),))
    rows = [{"int": "a", "1 x": 1.0, "_1_x": 2.0}, {"int": None, "1 x": None, "_1_x": None}]
    _check_runner(labels, rows, tmp_path / "labels")


def test_constant_libm_calls_match_the_runtime_libm(tmp_path: Path) -> None:
    """gcc folds libm calls on constants with MPFR; the reference uses the run-time libm. Those differ
    in the last bit (e.g. log1p(3.5593641966277523)), which -fno-builtin in the build flags prevents."""
    values = [3.5593641966277523, 0.7, 1.3, 2.2, 5.5, 0.001, 17.25]
    outputs = tuple(OutputField(f"{op}{i}", "value", Unary(op, Const(v)))
                    for op in ("exp", "expm1", "log1p", "log") for i, v in enumerate(values))
    model = Model((), outputs)
    _check_runner(model, [{}], tmp_path)


def test_registered_as_the_c_target() -> None:
    from modelgen.registry import get_emitter

    assert isinstance(get_emitter("c"), CEmitter)


def test_mangle_identifiers() -> None:
    names = ["a b", "a_b", "1x", "int", "a_b", "weird name \"'; --", "a_b_2", "é", "NULL"]
    assert mangle_identifiers(names) == ["a_b", "a_b_2", "_1x", "int_", "a_b_3", "weird_name_______", "a_b_2_2",
                                         "_", "NULL_"]


def test_double_literals_round_trip() -> None:
    rng = random.Random(7)
    values = [0.1, -0.0, 0.0, 5e-324, -1.7976931348623157e308, 1e22, 123456789012345678.0, *_interesting_doubles()]
    values += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(2000)]
    for value in values:
        text = format_double(value)
        if math.isnan(value):
            assert text == "NAN"
        elif math.isinf(value):
            assert text in ("INFINITY", "(-INFINITY)")
        else:
            assert struct.pack("<d", float(text.strip("()"))) == struct.pack("<d", value), text
            assert ("." in text or "e" in text) and (not text.startswith("-"))


def test_float32_literals_round_trip() -> None:
    rng = random.Random(8)
    singles = [np.float32(v) for v in (0.1, -0.0, 3.4028234663852886e38, 1e-45, 16777216.0, 1.0)]
    singles += [np.frombuffer(rng.getrandbits(32).to_bytes(4, "little"), dtype=np.float32)[0] for _ in range(2000)]
    for single in singles:
        value = float(single)
        text = format_float32(value)
        if math.isnan(value) or math.isinf(value):
            continue
        assert text.strip("()").endswith("f")
        assert np.float32(text.strip("()")[:-1]).tobytes() == single.tobytes(), text
    with pytest.raises(TargetCannotExpressError):
        format_float32(0.1)


def test_string_literals_and_comments_in_c(tmp_path: Path) -> None:
    """Compile the escaper's output and compare the bytes C sees with the UTF-8 of each string."""
    strings = ["plain", 'q"uote', "back\\slash", "??=trigraph??/", "new\nline\r\t", "\x01" + "7digit", "\x7f",
               "é€𝄞", "*/ /* // end", NASTY, "?", "\\0", ""]
    body = "\n".join(f"    show({string_literal(s)}); /* {comment_text(s)} */" for s in strings)
    source = (
        "#include <stdio.h>\n"
        "static void show(const char *s) { for (; *s; s++) printf(\"%02x\", (unsigned)(unsigned char)*s);"
        " printf(\"/\\n\"); }\n"
        f"int main(void)\n{{\n{body}\n    return 0;\n}}\n"
    )
    (tmp_path / "strings.c").write_text(source, encoding="ascii")
    compile_c(["cc", "-std=c99", "-o", "strings", "strings.c"], tmp_path)
    printed = subprocess.run([str(tmp_path / "strings")], capture_output=True, text=True, check=True).stdout
    assert printed.splitlines() == [s.encode("utf-8").hex() + "/" for s in strings]
    with pytest.raises(TargetCannotExpressError):
        string_literal("a\x00b")


def test_header_documents_original_names(tmp_path: Path) -> None:
    program = CEmitter().emit(arithmetic_model(), EmitOptions(name="scorer"))
    header = dict(program.files)["scorer.h"]
    assert "double weird_name_______; /* input \"weird name \\\"'; --\" (double, NaN = missing) */" in header
    assert header.count("*/") == header.count("/*")
    assert "#ifndef MODELGEN_SCORER_H" in header


def test_unknown_node_type_raises_cannot_express() -> None:
    from emitters.c.visitor import ExpressionPrinter

    class Alien(Node):
        """A node type the C printer has never heard of."""

        __slots__ = ("x",)
        _fields = ("x",)
        _child_fields = ("x",)

        @classmethod
        def _validate(cls, x: Any) -> tuple[tuple[Any, ...], DType]:
            return (x,), DOUBLE

    node = Not(Compare("lt", Input("x", DOUBLE), Const(1.0)))
    printer = ExpressionPrinter({"x": "x"})
    assert printer.render_node(node, ["a"]) == "(!a)"
    with pytest.raises(TargetCannotExpressError, match="Alien"):
        printer.render_node(Alien(Input("x", DOUBLE)), ["in->x"])
