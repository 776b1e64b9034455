"""Apache Spark 4 (local mode) for real: exact literals and loading, every guarded IEEE edge case
under ANSI mode (the default) and without it, NaN in comparisons, rejection.

Spark's EXP/LN/LOG1P/EXPM1/POWER are ``java.lang.StrictMath`` (fdlibm), not glibc: their finite
results are allowed :data:`STRICTMATH_ULP`; everything else must be bit-identical.
"""

from __future__ import annotations

import math
import random
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emitters"))

from helpers_sql import run_model
from ir_samples import ARITHMETIC_ROWS, CATEGORICAL_BAD_ROWS, CATEGORICAL_ROWS, arithmetic_model, categorical_model

from emitters.sql.spark_dialect import SparkDialect, spark_double_text
from modelgen.engines import spark_engine
from modelgen.errors import ModelgenError, TargetCannotExpressError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    Binary,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    IsMissing,
    Model,
    Node,
    Not,
    OutputField,
    Unary,
    evaluate,
    topological_order,
)
from modelgen.numerics import ulp_distance
from modelgen.passes import run_passes

DIALECT = SparkDialect()
STRICTMATH = frozenset({"exp", "log", "log1p", "expm1", "pow"})
STRICTMATH_ULP = 1
"""fdlibm's documented error is below 1 ULP: at most 1 ULP from glibc's (correctly rounded) result."""


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (isinstance(b, float) and _bits(a) == _bits(b))


def _select(spark: Any, expressions: list[str]) -> list[Any]:
    return list(spark.sql("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(expressions))).collect()[0])


def _random_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    values = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(count)]
    values += [5e-324, -5e-324, 2.2250738585072009e-308, 2.2250738585072014e-308, 1.7976931348623157e308]
    values += [0.0, -0.0, math.inf, -math.inf, math.nan, 0.1, 1 / 3, -2.5e-310, 1e-05, 1e22, 1e16]
    values += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(52)))[0] for _ in range(200)]  # subnormals
    return values


def test_ansi_mode_is_spark_4s_default(spark: Any) -> None:
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    assert spark.version.startswith("4.")


def test_missing_java_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_engine, "_SESSION", None)
    monkeypatch.setattr(spark_engine.shutil, "which", lambda name: None)
    with pytest.raises(ModelgenError, match=r"Java 17\+ runtime"):
        spark_engine.get_session()


def test_literals_round_trip_on_random_bit_patterns(spark: Any) -> None:
    values = _random_doubles(2000, seed=11)
    got: list[Any] = []
    for start in range(0, len(values), 250):
        got += _select(spark, [spark_double_text(v) for v in values[start : start + 250]])
    bad = [(v, g) for v, g in zip(values, got) if not _same(v, g)]
    assert not bad, bad[:5]
    assert all(isinstance(g, float) for g in got)  # DOUBLE, never DECIMAL


def test_double_text_is_what_sqlglot_prints() -> None:
    for value in _random_doubles(300, seed=5):
        assert DIALECT.double(value).sql(dialect="spark") == DIALECT.double_text(value)


def test_engine_loads_doubles_exactly_and_missing_as_null(spark: Any) -> None:
    values = _random_doubles(500, seed=6)
    rows = [[i, None if math.isnan(v) else v, None if i % 7 == 0 else f"s{i}'\"é"] for i, v in enumerate(values)]
    query = "SELECT `r`, `x`, `s`, `x` IS NULL AS `missing` FROM `input`"
    got = spark_engine.run(query, "input", [("r", "BIGINT"), ("x", "DOUBLE"), ("s", "STRING")], rows)
    got.sort(key=lambda r: r["r"])
    assert len(got) == len(rows)
    for row, out in zip(rows, got):
        if row[1] is None:
            assert out["x"] is None and out["missing"] is True
        else:
            assert _same(row[1], out["x"]) and out["missing"] is False
        assert out["s"] == row[2]


def _unary(op: str, x: float) -> str:
    built = SparkDialect.UNARY_OVERRIDES[op](DIALECT, exp.Paren(this=DIALECT.double(x)))
    return built.sql(dialect="spark")


def _binary(op: str, a: float, b: float) -> str:
    # parenthesised operands are not literals: no constant shortcut skips the guards
    wrap = lambda v: exp.Paren(this=DIALECT.double(v))  # noqa: E731
    return SparkDialect.BINARY_OVERRIDES[op](DIALECT, wrap(a), wrap(b)).sql(dialect="spark")


EDGE = [0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, -0.999, 709.782712893384, 710.0,
        -745.1332191019412, -746.0, 1e308, -1e308, 4503599627370495.5, -4503599627370495.5, 4503599627370496.0,
        -1e300, math.inf, -math.inf, math.nan]


def _close(op: str, want: float, got: float) -> bool:
    if op in STRICTMATH and math.isfinite(want) and want != 0:
        return ulp_distance(want, got) <= STRICTMATH_ULP
    return _same(want, got)


@pytest.mark.parametrize("op", ["log", "log1p", "expm1", "floor"])
def test_guarded_unary_edge_cases_are_ieee(spark: Any, ansi: str, op: str) -> None:
    got = _select(spark, [_unary(op, x) for x in EDGE])
    want = [evaluate.UNARY[op](x) for x in EDGE]  # the IR's executable semantics (glibc)
    bad = [(x, w, g) for x, w, g in zip(EDGE, want, got) if not _close(op, w, g)]
    assert not bad, bad


@pytest.mark.parametrize("op", ["neg", "abs", "exp", "sqrt"])
def test_plain_unary_edge_cases_are_ieee(spark: Any, ansi: str, op: str) -> None:
    x = Input("x", DOUBLE)
    model = Model((InputField("x", DOUBLE),), (OutputField("y", "value", Unary(op, x)),))
    rows = [{"x": v} for v in EDGE]
    got = run_model(model, "spark", rows)
    bad = [(r["x"], evaluate.evaluate(model, r)["y"], g["y"]) for r, g in zip(rows, got)
           if not _close(op, evaluate.evaluate(model, r)["y"], g["y"])]
    assert not bad, bad


@pytest.mark.parametrize("op", ["div", "pow", "max", "min"])
def test_binary_edge_cases_are_ieee(spark: Any, ansi: str, op: str) -> None:
    operands = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 3.0, 1e308, math.inf, -math.inf, math.nan]
    pairs = [(a, b) for a in operands for b in operands]
    got = _select(spark, [_binary(op, a, b) for a, b in pairs])
    want = [evaluate.BINARY[op](a, b) for a, b in pairs]  # C pow, numpy.maximum (first on ties)
    bad = [(a, b, w, g) for (a, b), w, g in zip(pairs, want, got) if not _close(op, w, g)]
    assert not bad, bad


def _strictmath_outputs(model: Model) -> set[str]:
    def through(node: Node) -> bool:
        return any(isinstance(n, (Unary, Binary)) and n.op in STRICTMATH for n in topological_order([node]))

    return {o.name for o in model.outputs if through(o.expr)}


def _mismatches(model: Model, rows: list[dict[str, Any]]) -> list[str]:
    loose = _strictmath_outputs(model)
    problems = []
    for index, (row, got) in enumerate(zip(rows, run_model(model, "spark", rows), strict=True)):
        for name, want in evaluate.evaluate(model, row).items():
            if isinstance(want, float):
                ok = _close("exp" if name in loose else "", want, got[name])
            else:
                ok = type(want) is type(got[name]) and want == got[name]
            if not ok:
                problems.append(f"row {index}: {name}: expected {want!r}, got {got[name]!r}")
    return problems


def _arithmetic() -> Model:
    model = arithmetic_model()
    kept = tuple(o for o in model.outputs if not any(n.dtype is FLOAT32 for n in topological_order([o.expr])))
    return Model(model.inputs, kept, model.checks)


def test_arithmetic_matches_interpreter(spark: Any, ansi: str) -> None:
    assert _mismatches(run_passes(_arithmetic()), ARITHMETIC_ROWS) == []


def test_float32_nodes_are_refused_at_compile_time() -> None:
    from helpers_sql import compile_query

    with pytest.raises(TargetCannotExpressError, match="spark has no float32"):
        compile_query(arithmetic_model(), "spark")


def test_categorical_matches_interpreter_and_rejects_bad_rows(spark: Any, ansi: str) -> None:
    assert _mismatches(categorical_model(), CATEGORICAL_ROWS) == []
    with pytest.raises(Exception, match="modelgen row rejected"):
        run_model(categorical_model(), "spark", CATEGORICAL_BAD_ROWS)


def test_computed_nans_compare_like_ieee(spark: Any, ansi: str) -> None:
    # Spark: NaN = NaN and NaN > everything; the IR: every comparison with NaN is false but ne.
    # Operands are computed NaNs (inf - inf, 0 * inf, x / y with 0/0), not only missing inputs
    x, y = Input("x", DOUBLE), Input("y", DOUBLE)
    operands = {"x": x, "diff": Binary("sub", x, y), "prod": Binary("mul", x, y), "quot": Binary("div", x, y)}
    outputs = []
    for (na, a), (nb, b) in [(p, q) for p in operands.items() for q in operands.items() if p[0] != q[0]]:
        for op in ("lt", "le", "gt", "ge", "eq", "ne"):
            test = Compare(op, a, b)
            outputs.append(OutputField(f"{na}_{op}_{nb}", "value", IfElse(test, Const(1.0), Const(0.0))))
            outputs.append(OutputField(f"not_{na}_{op}_{nb}", "value", IfElse(Not(test), Const(1.0), Const(0.0))))
    for name, node in operands.items():
        outputs.append(OutputField(f"missing_{name}", "value", IfElse(IsMissing(node), Const(1.0), Const(0.0))))
        outputs.append(OutputField(f"max_{name}", "value", Binary("max", node, Const(1.0))))
        outputs.append(OutputField(f"min_{name}", "value", Binary("min", Const(1.0), node)))
    model = Model((InputField("x", DOUBLE), InputField("y", DOUBLE)), tuple(outputs))
    values = [None, -math.inf, -1.0, -0.0, 0.0, 1.0, math.inf]
    rows = [{"x": a, "y": b} for a in values for b in values]
    assert _mismatches(model, rows) == []


def test_reject_raises_only_when_evaluated(spark: Any, ansi: str) -> None:
    rejecting = DIALECT.reject("x too big").sql(dialect="spark")
    query = f"SELECT CASE WHEN `x` > 1 THEN {rejecting} ELSE `x` END AS `y` FROM `t`"
    assert spark_engine.run(query, "t", [("x", "DOUBLE")], [[0.5]]) == [{"y": 0.5}]
    with pytest.raises(Exception, match="modelgen row rejected: x too big"):
        spark_engine.run(query, "t", [("x", "DOUBLE")], [[0.5], [2.0]])


def test_run_each_plans_once_and_runs_every_set_alone(spark: Any) -> None:
    rejecting = DIALECT.reject("x too big").sql(dialect="spark")
    query = f"SELECT CASE WHEN `x` > 1 THEN {rejecting} ELSE `x` * 2.0D END AS `y` FROM `t`"
    results = spark_engine.run_each(query, "t", [("x", "DOUBLE")], [[[0.5]], [[2.0]], [[-0.0], [3.0]], [[1.0]]])
    assert results[0] == [{"y": 1.0}] and results[3] == [{"y": 2.0}]
    assert all(isinstance(r, Exception) and "x too big" in str(r) for r in results[1:3])


def test_non_numeric_input_is_rejected_with_ansi_off_too(spark: Any, ansi: str) -> None:
    x = Input("x", DOUBLE)
    model = Model((InputField("x", DOUBLE),), (OutputField("y", "value", Binary("add", x, Const(1.0))),))
    from helpers_sql import compile_query

    query = compile_query(model, "spark", keys=())
    with pytest.raises(Exception, match=r"CAST_INVALID_INPUT|is not a number"):
        spark_engine.run(query, "input", [("x", "STRING")], [["abc"]])
    assert spark_engine.run(query, "input", [("x", "STRING")], [["2.5"], [None]])[0] == {"y": 3.5}
