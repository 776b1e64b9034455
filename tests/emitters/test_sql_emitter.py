"""The SQL target on DuckDB and SQLite: every sample model, scored by the real engines, equals
the IR interpreter bit for bit (on SQLite NULL stands for NaN, see emitters/sql/README.md)."""

from __future__ import annotations

import json
import math
import random
import sqlite3
import struct
from typing import Any

import duckdb
import pytest
import sqlglot
from helpers_sql import (
    compile_query,
    is_float32,
    is_log1p_or_expm1,
    mismatches,
    run_model,
    same_value,
    sqlite_storable,
    without_outputs,
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
from emitters.sql import SqlEmitter
from modelgen.engines import ROW_KEY, run_query
from modelgen.errors import ModelgenError, TargetCannotExpressError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    IsIn,
    IsMissing,
    Model,
    Not,
    OutputField,
    RowCheck,
    Sum,
    Unary,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

DIALECTS = ["duckdb", "sqlite"]


def _arithmetic(dialect: str) -> Model:
    # log1p/expm1 are within a measured budget, not bit-exact (tested below); SQLite: no float32
    model = without_outputs(arithmetic_model(), is_log1p_or_expm1)
    return without_outputs(model, is_float32) if dialect == "sqlite" else model


def _rows(dialect: str, rows: list[dict]) -> list[dict]:
    return sqlite_storable(rows) if dialect == "sqlite" else rows


@pytest.mark.parametrize("dialect", DIALECTS)
def test_arithmetic_matches_interpreter(dialect: str) -> None:
    model = run_passes(_arithmetic(dialect))
    assert mismatches(model, dialect, _rows(dialect, ARITHMETIC_ROWS)) == []


def test_duckdb_keeps_float32_outputs() -> None:
    assert any(o.name == "f32" for o in _arithmetic("duckdb").outputs)


LOG1P_EXPM1_ULP = 2
"""Measured: Kahan's log1p/expm1 forms against glibc, at most 2 ULP (modelgen/budget.py)."""


def _log1p_expm1_inputs() -> list[float]:
    rng = random.Random(7)
    values = [rng.uniform(-1.0, 1.0) for _ in range(3000)]
    values += [math.exp(rng.uniform(-700.0, 700.0)) for _ in range(3000)]
    values += [-math.exp(rng.uniform(-700.0, 0.0)) for _ in range(1000)]
    values += [rng.uniform(-40.0, 40.0) for _ in range(3000)]
    return [*values, 0.0, -0.0, -1.0, -2.0, math.inf, -math.inf, 1e-300, 5e-324, 709.78, 710.0, -745.0, 1e308]


def _glibc(function: Any, x: float) -> float:
    try:
        return function(x)
    except OverflowError:
        return math.inf
    except ValueError:
        return -math.inf if x == -1.0 else math.nan


@pytest.mark.parametrize("dialect", DIALECTS)
def test_log1p_and_expm1_are_within_their_budget(dialect: str) -> None:
    from modelgen.numerics import ulp_distance

    x = Input("x", DOUBLE)
    model = Model(
        (InputField("x", DOUBLE),),
        (OutputField("log1p", "value", Unary("log1p", x)), OutputField("expm1", "value", Unary("expm1", x))),
    )
    rows = [{"x": v} for v in _log1p_expm1_inputs()]
    got = run_model(model, dialect, _rows(dialect, rows))
    worst = {"log1p": 0, "expm1": 0}
    for row, out in zip(rows, got):
        for name, function in (("log1p", math.log1p), ("expm1", math.expm1)):
            want = _glibc(function, 0.0 if dialect == "sqlite" and row["x"] == 0 else row["x"])
            value = math.nan if out[name] is None else out[name]
            worst[name] = max(worst[name], ulp_distance(want, value))
    assert max(worst.values()) <= LOG1P_EXPM1_ULP, worst
    assert max(worst.values()) > 0  # the budget is real: these are not glibc's functions


def test_sqlite_rejects_float32_at_compile_time() -> None:
    model = without_outputs(arithmetic_model(), is_log1p_or_expm1)
    with pytest.raises(TargetCannotExpressError, match="float32"):
        compile_query(model, "sqlite")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_categorical_matches_interpreter(dialect: str) -> None:
    assert mismatches(categorical_model(), dialect, _rows(dialect, CATEGORICAL_ROWS)) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bad_row_raises_with_the_check_message(dialect: str) -> None:
    error = duckdb.Error if dialect == "duckdb" else sqlite3.Error
    with pytest.raises(error, match="unknown category"):
        run_model(categorical_model(), dialect, CATEGORICAL_ROWS + CATEGORICAL_BAD_ROWS)


def _two_checks_model() -> Model:
    a, b = Input("a", DOUBLE), Input("b", DOUBLE)
    label = IfElse(Compare("gt", a, Const(0.0)), Const("yes"), Const("no"))
    return Model(
        inputs=(InputField("a", DOUBLE), InputField("b", DOUBLE)),
        outputs=(OutputField("label", "label", label), OutputField("total", "value", Binary("add", a, b))),
        checks=(RowCheck(Not(IsMissing(a)), "a is missing"), RowCheck(Compare("lt", b, Const(10.0)), "b is too big")),
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_row_checks_once_first_failing_wins_never_pruned(dialect: str) -> None:
    # the checks are one column read by every output: each message is in the query once, the
    # first failing check names the row, and an output fetched alone still rejects the row
    model = _two_checks_model()
    query = compile_query(model, dialect).rstrip().rstrip(";")
    for check in model.checks:
        assert query.count(check.message) == 1, check.message
    error = duckdb.Error if dialect == "duckdb" else sqlite3.Error
    cases = [((None, 20.0), "a is missing"), ((1.0, 20.0), "b is too big"), ((1.0, None), "b is too big")]
    for (a, b), message in cases:
        connection = duckdb.connect() if dialect == "duckdb" else sqlite3.connect(":memory:")
        connection.execute(f'CREATE TABLE "input" ("{ROW_KEY}" INTEGER, "a" DOUBLE, "b" DOUBLE)')
        connection.execute('INSERT INTO "input" VALUES (0, 1.0, 2.0), (1, ?, ?), (2, -1.0, 3.0)', [a, b])
        for selected in ("*", '"label"', '"total"'):
            with pytest.raises(error, match=message):
                connection.execute(f"SELECT {selected} FROM ({query}) AS scored").fetchall()
        connection.execute('DELETE FROM "input" WHERE "__modelgen_row" = 1')
        got = connection.execute(f'SELECT "label", "total" FROM ({query}) AS scored ORDER BY 1').fetchall()
        assert got == [("no", 2.0), ("yes", 3.0)]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_non_numeric_input_raises(dialect: str) -> None:
    # a text column holding a non-number: DuckDB's CAST raises, SQLite rejects via typeof()
    query = compile_query(categorical_model(), dialect)
    ddl = f'CREATE TABLE "input" ("{ROW_KEY}" INTEGER, "color" TEXT, "size" TEXT)'
    insert = "INSERT INTO \"input\" VALUES (0, 'red', 'abc')"
    connection = duckdb.connect() if dialect == "duckdb" else sqlite3.connect(":memory:")
    connection.execute(ddl)
    connection.execute(insert)
    error = duckdb.Error if dialect == "duckdb" else sqlite3.Error
    with pytest.raises(error, match="abc" if dialect == "duckdb" else "not a number"):
        connection.execute(query).fetchall()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_nasty_names_table_and_keys(dialect: str) -> None:
    model = categorical_model()
    table = 'my "table"; --'
    keys = (ROW_KEY, NASTY)
    query = compile_query(model, dialect, keys=keys, table=table)
    inputs = [(f.name, f.dtype) for f in model.inputs]
    key_values = [f"k'{i}\"" for i in range(len(CATEGORICAL_ROWS))]
    got = run_query(dialect, query, table, inputs, _rows(dialect, CATEGORICAL_ROWS), keys={NASTY: key_values})
    assert [r[NASTY] for r in got] == key_values
    assert list(got[0]) == [NASTY] + [o.name for o in model.outputs]
    assert [r["label"] for r in got] == [evaluate(model, row)["label"] for row in CATEGORICAL_ROWS]


def test_key_named_like_an_output_is_an_error() -> None:
    with pytest.raises(ModelgenError, match="same name"):
        compile_query(categorical_model(), "duckdb", keys=("label",))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_query_parses_back_with_sqlglot(dialect: str) -> None:
    query = compile_query(_arithmetic(dialect), dialect)
    parsed = sqlglot.parse_one(query, read=dialect)
    assert isinstance(parsed, sqlglot.exp.Select)
    assert [e.alias_or_name for e in parsed.expressions][1:] == [o.name for o in _arithmetic(dialect).outputs]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_emitting_twice_is_byte_identical(dialect: str) -> None:
    first = SqlEmitter().emit(categorical_model(), EmitOptions(dialect=dialect, name="m"))
    second = SqlEmitter().emit(categorical_model(), EmitOptions(dialect=dialect, name="m"))
    assert first == second
    assert first.manifest == {"target": "sql", "name": "m", "dialect": dialect, "files": ["m.sql"], "query": "m.sql"}
    json.dumps(first.manifest)


def test_default_dialect_is_duckdb_and_unknown_is_an_error() -> None:
    assert SqlEmitter().emit(categorical_model(), EmitOptions()).manifest["dialect"] == "duckdb"
    with pytest.raises(ModelgenError, match="duckdb, sqlite"):
        SqlEmitter().emit(categorical_model(), EmitOptions(dialect="informix"))


def _special_values(rng: random.Random) -> float | None:
    pool = [None, 0.0, -0.0, math.inf, -math.inf, 1.0, -1.0, 5e-324, 1.7976931348623157e308, 0.5, 2.0]
    choice = rng.random()
    if choice < 0.3:
        return rng.choice(pool)
    if choice < 0.6:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
    return rng.uniform(-20.0, 20.0)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_randomized_rows(dialect: str) -> None:
    rng = random.Random(20240613)
    names = [f.name for f in arithmetic_model().inputs]
    rows = [{n: _special_values(rng) for n in names} for _ in range(400)]
    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
    assert mismatches(run_passes(_arithmetic(dialect)), dialect, _rows(dialect, rows)) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_comparisons_with_nan_and_not(dialect: str) -> None:
    # IEEE: every comparison with NaN is false except ne; NOT of it must not become NULL
    x, y = Input("x", DOUBLE), Input("y", DOUBLE)
    outputs = []
    for op in ("lt", "le", "gt", "ge", "eq", "ne"):
        test = Compare(op, x, y)
        outputs.append(OutputField(op, "value", IfElse(test, Const(1.0), Const(0.0))))
        outputs.append(OutputField(f"not_{op}", "value", IfElse(Not(test), Const(1.0), Const(0.0))))
    outputs.append(OutputField("missing", "value", IfElse(IsMissing(Binary("div", x, y)), Const(1.0), Const(0.0))))
    outputs.append(OutputField("max", "value", Binary("max", x, y)))
    outputs.append(OutputField("min", "value", Binary("min", x, y)))
    model = Model((InputField("x", DOUBLE), InputField("y", DOUBLE)), tuple(outputs))
    values = [None, -math.inf, -1.0, -0.0, 0.0, 1.0, math.inf]
    rows = [{"x": a, "y": b} for a in values for b in values]
    assert mismatches(model, dialect, _rows(dialect, rows)) == []


def test_sqlite_neg_abs_keep_the_sign_of_zero_from_untyped_storage() -> None:
    # a REAL column cannot hold -0.0 in SQLite; an untyped one can, and the query keeps its sign
    x = Input("x", DOUBLE)
    model = Model(
        (InputField("x", DOUBLE),),
        (
            OutputField("neg", "value", Unary("neg", x)),
            OutputField("abs", "value", Unary("abs", x)),
            OutputField("inv", "value", Binary("div", Const(1.0), x)),
        ),
    )
    query = compile_query(model, "sqlite")
    connection = sqlite3.connect(":memory:")
    connection.execute(f'CREATE TABLE "input" ("{ROW_KEY}" INTEGER, "x")')
    connection.executemany("INSERT INTO input VALUES (?, ?)", [(0, -0.0), (1, 0.0)])
    got = connection.execute(query).fetchall()
    assert [tuple(struct.pack("<d", v) for v in r[1:]) for r in got] == [
        tuple(struct.pack("<d", v) for v in evaluate(model, {"x": x0}).values()) for x0 in (-0.0, 0.0)
    ]


def test_duckdb_float32_rounding_ties_to_even_and_overflow() -> None:
    x = Input("x", DOUBLE)
    model = Model((InputField("x", DOUBLE),), (OutputField("f", "value", Cast(Cast(x, FLOAT32), DOUBLE)),))
    ties = [1.0 + 2.0**-24, 1.0 + 3 * 2.0**-24, -(1.0 + 2.0**-24), 2.0**-149 * 1.5, 2.0**-150]
    edges = [3.4028235677973366e38, 3.4028235677973362e38, -3.4028235677973366e38, 1e300, -1e300, math.inf, None]
    rows = [{"x": v} for v in ties + edges]
    assert mismatches(model, "duckdb", rows) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_literals_round_trip_exactly(dialect: str) -> None:
    rng = random.Random(7)
    constants = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(300)]
    constants = [c for c in constants if not math.isnan(c)] + [0.1, -0.0, 5e-324, 1e-320, 2.0**60, math.inf]
    x = Input("x", DOUBLE)
    outputs = tuple(OutputField(f"c{i}", "value", Binary("add", Const(c), Binary("mul", x, Const(0.0))))
                    for i, c in enumerate(constants))
    model = Model((InputField("x", DOUBLE),), outputs)
    assert mismatches(model, dialect, [{"x": 1.0}]) == []


def _chain(length: int) -> Model:
    x = Input("x", DOUBLE)
    node = x
    ops = ["add", "mul", "div", "max", "sub", "min"]
    for i in range(length):
        node = Binary(ops[i % len(ops)], node, Const(1.0 + (i % 7) * 0.125))
    return Model((InputField("x", DOUBLE),), (OutputField("y", "value", node),))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ten_thousand_node_chain(dialect: str) -> None:
    model = _chain(10_000)
    rows = [{"x": 0.3}, {"x": None}, {"x": -2.0}]
    assert mismatches(model, dialect, rows) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_thousand_term_sum(dialect: str) -> None:
    x = Input("x", DOUBLE)
    total = Sum(tuple(Binary("mul", x, Const(i + 0.1)) for i in range(1000)))
    model = Model((InputField("x", DOUBLE),), (OutputField("y", "value", total),))
    rows = [{"x": 0.3}, {"x": None}, {"x": -1e-3}]
    assert mismatches(run_passes(model), dialect, rows) == []
    assert mismatches(model, dialect, rows) == []  # the emitter splits long sums itself


def test_same_value_is_strict() -> None:
    assert not same_value(0.0, -0.0, "duckdb")
    assert not same_value(math.nan, None, "duckdb")
    assert same_value(math.nan, None, "sqlite")
    assert not same_value(1.0, 1.0000000000000002, "sqlite")


def _membership_model() -> Model:
    plan = Input("plan", STRING)
    member = IsIn(plan, ("basic", "pro"))
    chain = IfElse(member, Const(1.5), IfElse(IsIn(plan, ("team",)), Const(-2.5), Const(-0.0)))
    return Model(
        inputs=(InputField("plan", STRING),),
        outputs=(
            OutputField("chain", "value", chain),
            OutputField("negated", "value", IfElse(Not(member), Const(1.0), Const(0.0))),
        ),
    )


@pytest.mark.parametrize("dialect", [*DIALECTS, "postgres"])
def test_string_membership_in_a_when_has_no_null_guard(dialect: str) -> None:
    # a WHEN takes NULL as not true: `plan IN (...)` alone routes a missing plan to ELSE, while
    # under NOT the guard must stay (NOT NULL would be NULL: the missing plan must give 1.0)
    model = _membership_model()
    query = compile_query(model, dialect)
    assert query.count("IS NULL") == 1, query
    rows = [{"plan": p} for p in ("basic", "pro", "team", "plus", "", None, "BASIC")]
    assert mismatches(model, dialect, rows) == []
    missing = evaluate(model, {"plan": None})
    assert missing["chain"] == 0.0 and math.copysign(1.0, missing["chain"]) == -1.0
    assert missing["negated"] == 1.0
