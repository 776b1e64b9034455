"""The row checks' guard (``emitters/sql/checks.py``): which checks a guard sum covers, and on
the real engines that every row is accepted or refused exactly as the IR reference says, with
the first failing check's message (NaN, +-inf, abs sums that overflow, the float32 boundary)."""

from __future__ import annotations

import math
import re
import sqlite3
from typing import Any

import duckdb
import psycopg
import pytest
from helpers_sql import compile_query, same_value  # tests/emitters is not a package

from emitters.sql.checks import plan_checks
from emitters.sql.dialects import DIALECTS
from modelgen.engines import run_query
from modelgen.errors import InputRowError, ModelgenError
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    And,
    Binary,
    Cast,
    Compare,
    Const,
    Input,
    InputField,
    IsIn,
    IsMissing,
    Model,
    Node,
    Not,
    Or,
    OutputField,
    RowCheck,
    Sum,
    Unary,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes.float32_thresholds import FLOAT32_OVERFLOW_BOUNDARY

INF = Const(math.inf)
F32 = Const(FLOAT32_OVERFLOW_BOUNDARY)
X = [Input(f"x{i}", DOUBLE) for i in range(70)]


def _finite(x: Node, bound: Const = INF) -> Node:
    # require_finite(allow_nan=False) and the trees' float32 check: abs(x) < C
    return Compare("lt", Unary("abs", x), bound)


def _finite_or_missing(x: Node, bound: Const = INF) -> Node:
    # require_finite(allow_nan=True): IsMissing(x) OR abs(x) < C
    return Or((IsMissing(x), _finite(x, bound)))


def _checks(*conditions: Node) -> list[RowCheck]:
    return [RowCheck(condition, f"[c{i}]") for i, condition in enumerate(conditions)]


def _abs_terms(guard: Node) -> list[list[object]]:
    """Each comparison of ``guard`` as (op, bound, its sum's terms) flattened to the terms' x."""
    comparisons: list[Node] = []
    pending = [guard]
    while pending:
        node = pending.pop(0)
        if isinstance(node, And):
            pending.extend(node.terms)
        else:
            comparisons.append(node)
    out: list[list[object]] = []
    for comparison in comparisons:
        assert isinstance(comparison, Compare) and isinstance(comparison.a, Sum)
        out.append([comparison.op, comparison.b.value, *(term.x.name for term in comparison.a.terms)])
    return out


# --- the guard builder: input checks -> expected plan ---------------------------------------


def test_lr_shape_one_sum_covers_all_twelve_checks() -> None:
    scaled = [Binary("div", Binary("sub", x, Const(0.5)), Const(2.0)) for x in X[:6]]
    plan = plan_checks(_checks(*(_finite_or_missing(x) for x in X[:6]), *(_finite(s) for s in scaled)))
    assert plan.guarded == tuple(range(12)) and plan.others == ()
    assert plan.guard == Compare("lt", Sum(tuple(Unary("abs", e) for e in [*X[:6], *scaled])), INF)
    assert plan.sums == (plan.guard.a,)


def test_groups_by_constant_and_op_keep_other_checks_in_order() -> None:
    checks = _checks(
        Not(IsMissing(X[0])),  # an imputer's check: not covered
        _finite(X[0]),
        _finite(X[1], F32),
        _finite_or_missing(X[2]),
        IsIn(Input("plan", STRING), ("basic", "pro")),  # an encoder's unknown-category check
        _finite_or_missing(X[3], F32),
        Compare("le", Unary("abs", X[4]), Const(1e300)),  # le: its own group, alone: no guard
        _finite(X[5]),
    )
    plan = plan_checks(checks)
    assert _abs_terms(plan.guard) == [["lt", math.inf, "x0", "x2", "x5"], ["lt", FLOAT32_OVERFLOW_BOUNDARY, "x1", "x3"]]
    assert plan.guarded == (1, 2, 3, 5, 7)
    assert plan.others == (0, 4, 6)


def test_no_guard_for_a_single_check_or_a_single_distinct_term() -> None:
    assert plan_checks(_checks(_finite(X[0]))).guard is None
    # one-vs-rest re-uses: the same condition twice is one term, and a guard would be no cheaper
    plan = plan_checks(_checks(_finite(X[0]), Not(IsMissing(X[1])), _finite_or_missing(X[0]), _finite(X[1], F32)))
    assert plan.guard is None and plan.guarded == () and plan.others == (0, 1, 2, 3)
    assert plan_checks([]).guard is None


def test_repeated_terms_count_once_and_checks_are_all_covered() -> None:
    plan = plan_checks(_checks(_finite(X[0]), _finite(X[1]), _finite_or_missing(X[0])))
    assert _abs_terms(plan.guard) == [["lt", math.inf, "x0", "x1"]]
    assert plan.guarded == (0, 1, 2) and plan.others == ()


@pytest.mark.parametrize(
    "condition",
    [
        Compare("lt", Unary("abs", Cast(X[0], FLOAT32)), Const(math.inf, FLOAT32)),  # float32 sum: not a double
        Compare("gt", Unary("abs", X[0]), INF),  # not a bound from above
        Compare("lt", Unary("neg", X[0]), INF),  # not an abs
        Compare("lt", Unary("abs", X[0]), X[9]),  # not a constant bound
        And((IsMissing(X[0]), _finite(X[0]))),  # an AND does not pass when its abs test passes
        Not(_finite(X[0])),
    ],
)
def test_other_shapes_are_never_covered(condition: Node) -> None:
    plan = plan_checks(_checks(condition, _finite(X[1]), _finite(X[2])))
    assert plan.guarded == (1, 2) and plan.others == (0,)


def test_or_with_the_abs_test_anywhere_is_covered() -> None:
    either = Or((Compare("gt", X[0], Const(5.0)), _finite(X[0]), IsMissing(X[0])))
    plan = plan_checks(_checks(either, _finite(X[1])))
    assert plan.guarded == (0, 1) and _abs_terms(plan.guard) == [["lt", math.inf, "x0", "x1"]]


@pytest.mark.parametrize(
    ("count", "sizes"), [(2, [2]), (25, [25]), (26, [13, 13]), (51, [17, 17, 17]), (70, [24, 23, 23])]
)
def test_long_groups_are_chunked_balanced(count: int, sizes: list[int]) -> None:
    plan = plan_checks(_checks(*(_finite(x) for x in X[:count])))
    chunks = _abs_terms(plan.guard)
    assert [len(c) - 2 for c in chunks] == sizes
    assert [name for c in chunks for name in c[2:]] == [x.name for x in X[:count]]  # check order kept
    assert all(len(s.terms) <= 25 for s in plan.sums) and len(plan.sums) == len(sizes)


def test_wide_guards_nest_their_conjunction() -> None:
    plan = plan_checks(_checks(*(_finite(x) for x in X[:40])), max_terms=2)
    assert isinstance(plan.guard, And) and len(plan.guard.terms) == 2  # 20 comparisons: 2 groups of 10
    assert all(isinstance(t, And) and len(t.terms) == 10 for t in plan.guard.terms)
    with pytest.raises(ModelgenError, match="max_terms=1"):
        plan_checks(_checks(_finite(X[0])), max_terms=1)


def _lr_like_model() -> Model:
    """Checks in the frontend's shapes, with uncovered ones between them, and an output that
    scores every accepted row (inf and NaN included)."""
    x0, x1, x2, x3 = X[:4]
    scaled = Binary("div", Binary("sub", x0, Const(1.0)), Const(2.0))
    checks = (
        RowCheck(_finite_or_missing(x0), "[c0] x0 is infinite"),
        RowCheck(_finite_or_missing(x1), "[c1] x1 is infinite"),
        RowCheck(Not(IsMissing(x2)), "[c2] x2 is missing"),
        RowCheck(_finite(scaled), "[c3] scaled x0 is missing or infinite"),
        RowCheck(_finite(x2, F32), "[c4] x2 is missing or infinite as a float32"),
        RowCheck(Compare("lt", x3, Const(1e30)), "[c5] x3 is too big"),
        RowCheck(_finite_or_missing(x3, F32), "[c6] x3 is infinite as a float32"),
        RowCheck(_finite_or_missing(x1), "[c7] x1 again (never first)"),
        RowCheck(Compare("gt", x0, Const(-1e30)), "[c8] x0 is too small"),
    )
    total = Sum((x0, x1, x2, x3))
    return Model(
        tuple(InputField(x.name, DOUBLE) for x in (x0, x1, x2, x3)),
        (OutputField("total", "value", total), OutputField("scaled", "value", scaled)),
        checks,
    )


BIG = 1.5e308
B = FLOAT32_OVERFLOW_BOUNDARY
BELOW_B = math.nextafter(B, 0.0)
ROWS: list[list[float]] = [
    [1.0, 2.0, 3.0, 4.0],
    [-0.5, -2.0, -3.0, -4.0],
    [math.nan, 2.0, 3.0, 4.0],  # x0 missing: c0 passes, c3 fails (scaled is NaN)
    [1.0, math.nan, 3.0, math.nan],  # allowed NaNs: scored, NaN total
    [1.0, 2.0, math.nan, 4.0],  # c2
    [math.inf, 2.0, 3.0, 4.0],  # c0
    [-math.inf, math.inf, 3.0, 4.0],  # c0 before c1
    [1.0, -math.inf, math.nan, 4.0],  # c1 before c2
    [1.0, 2.0, math.inf, 4.0],  # c4 (c2 passes: inf is not missing)
    [1.0, 2.0, 3.0, math.inf],  # c5 before c6
    [1.0, 2.0, 3.0, -math.inf],  # c6
    [BIG, BIG, 3.0, 4.0],  # abs sum overflows: accepted, total inf
    [BIG, -BIG, 3.0, 4.0],  # abs sum overflows: accepted, total finite
    [-BIG, -BIG, -BELOW_B, -BELOW_B],  # both sums over their bounds: accepted
    [1.0, 2.0, BELOW_B, BELOW_B],  # float32 sum over the boundary, each below: accepted
    [1.0, 2.0, B, 4.0],  # exactly at the boundary: c4
    [1.0, 2.0, 3.0, -B],  # c6
    [1.0, 2.0, -B, B],  # c4 first
    [1.7976931348623157e308, 0.0, 0.0, -0.0],  # (max - 1) / 2 is finite: accepted
    [-1.7976931348623157e308, 5e-324, -5e-324, 1e30],  # c5 (x3 == 1e30 is not < 1e30), then c8
    [-1e35, 2.0, 3.0, 1e35],  # the guard holds: c5 and c8 fail, c5 first
    [-1e35, 2.0, 3.0, 4.0],  # the guard holds: c8
    [1.0, 2.0, B, 0.0],  # the float32 sum is exactly the boundary: c4
    [math.nan, math.nan, 1.0, math.nan],  # c3 (scaled NaN), not a guard artefact
]


def _expected(model: Model, row: dict[str, float]) -> str | dict[str, Any]:
    try:
        return evaluate(model, row)
    except InputRowError as error:
        return str(error)


def _rejected_code(error: Exception) -> str:
    found = re.findall(r"modelgen row rejected: (\[c\d+\])", str(error))
    assert len(set(found)) == 1, f"no single rejection message in {error}"
    return found[0]


ENGINE_ERRORS: dict[str, type[Exception]] = {"duckdb": duckdb.Error, "sqlite": sqlite3.Error, "postgres": psycopg.Error}


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres"])
def test_rows_accepted_and_refused_as_the_reference_says(dialect: str) -> None:
    model = _lr_like_model()
    text = compile_query(model, dialect)
    # the guard is in the query (one sum per group), the uncovered checks in both arms
    assert text.count("[c0]") == 1 and text.count("[c2]") == 2 and text.count("[c8]") == 2
    inputs = [(f.name, f.dtype) for f in model.inputs]
    rows = [dict(zip(("x0", "x1", "x2", "x3"), values)) for values in ROWS]
    expected = [_expected(model, row) for row in rows]
    assert sum(isinstance(e, str) for e in expected) >= 10  # the rows do exercise refusals
    assert not isinstance(expected[11], str) and expected[11]["total"] == math.inf
    good = [row for row, e in zip(rows, expected) if not isinstance(e, str)]
    got = run_query(dialect, text, "input", inputs, good)
    for row, result, wanted in zip(good, got, [e for e in expected if not isinstance(e, str)]):
        for name, value in wanted.items():
            assert same_value(value, result[name], dialect), (row, name, value, result[name])
    for row, wanted in zip(rows, expected):
        if isinstance(wanted, str):
            with pytest.raises(ENGINE_ERRORS[dialect]) as raised:
                run_query(dialect, text, "input", inputs, [rows[0], row, rows[1]])
            assert _rejected_code(raised.value) == re.match(r"\[c\d+\]", wanted).group(), row


@pytest.mark.parametrize("dialect", ["mysql", "tsql"])
def test_no_guard_where_an_overflowing_sum_raises(dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # T-SQL and MySQL raise on an overflowing addition: a guard sum would refuse good rows
    assert not DIALECTS[dialect].sums_overflow_to_infinity
    model = _lr_like_model()
    assert compile_query(model, dialect).count("[c2]") == 1  # no guard: every check once
    monkeypatch.setattr(DIALECTS[dialect], "sums_overflow_to_infinity", True)
    assert compile_query(model, dialect).count("[c2]") == 2  # a guard would print c2 in both arms


def test_guard_is_deterministic_and_bound_once() -> None:
    model = _lr_like_model()
    first, second = compile_query(model, "duckdb"), compile_query(model, "duckdb")
    assert first == second
    # each guard sum is a column of its own (its comparison reads it twice: NaN test and bound)
    assert len(re.findall(r'ABS\("__mg_in0"\) \+ ABS\("__mg_in1"\)', first)) == 1
