"""Comparisons against +-inf without an infinity (``emitters/sql/infinities.py``), the hook that
lets T-SQL, MySQL and Redshift compile models with range checks and ``x <= inf`` splits."""

from __future__ import annotations

import math
import struct
import sys
from typing import Any

import pytest
from helpers_sql import same_value

from emitters.sql.dialects import SQLiteDialect
from emitters.sql.infinities import DBL_MAX, without_infinite_comparisons
from emitters.sql.query import build_query, prepare
from modelgen.engines import ROW_KEY, run_query
from modelgen.errors import InputRowError
from modelgen.ir import (
    DOUBLE,
    Binary,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    Lookup,
    Model,
    Node,
    OutputField,
    Split,
    TreeLeaf,
    leaf_ref,
    topological_order,
)
from modelgen.ir.evaluate import evaluate

VALUES = [
    math.nan, math.inf, -math.inf, DBL_MAX, -DBL_MAX, 0.0, -0.0, 1.0, -1.5, 5e-324, -5e-324,
    sys.float_info.min, 1e308,
]
FINITE = [v for v in VALUES if math.isfinite(v)] + [math.nan]


def _bits(value: Any) -> Any:
    return struct.pack("<d", value) if isinstance(value, float) else value


def _every_infinite_comparison() -> Model:
    x = Input("x", DOUBLE)
    outputs = []
    for infinity in (math.inf, -math.inf):
        for op in ("lt", "le", "gt", "ge", "eq", "ne"):
            for left in (False, True):
                test = Compare(op, Const(infinity), x) if left else Compare(op, x, Const(infinity))
                outputs.append(test)
    for op in ("max", "min"):
        neutral = Const(-math.inf if op == "max" else math.inf)
        outputs += [Binary(op, x, neutral), Binary(op, neutral, x)]
    # a value used by a boolean, so both sides of each test are seen as doubles
    fields = tuple(
        OutputField(f"o{i}", "value", IfElse(o, Const(1.0), Const(0.0)) if o.dtype is not DOUBLE else o)
        for i, o in enumerate(outputs)
    )
    return Model((InputField("x", DOUBLE),), fields)


def _no_infinite_constant(model: Model) -> bool:
    for node in topological_order(model.roots):
        if isinstance(node, Const) and node.dtype is DOUBLE and math.isinf(node.value):  # type: ignore[arg-type]
            return False
        if isinstance(node, TreeLeaf) and any(
            isinstance(s.operand, float) and math.isinf(s.operand) for s in node.splits
        ):
            return False
    return True


def test_comparisons_and_neutral_max_min_are_ieee_identities() -> None:
    # exact for every double, the infinities and NaN included: the rewrite stays right even on an
    # engine that could hold an infinity
    model = _every_infinite_comparison()
    rewritten = without_infinite_comparisons(model)
    assert _no_infinite_constant(rewritten)
    for value in VALUES:
        expected, got = evaluate(model, {"x": value}), evaluate(rewritten, {"x": value})
        assert {k: _bits(v) for k, v in expected.items()} == {k: _bits(v) for k, v in got.items()}, value


def _tree_model(test: str, threshold: float, missing_left: bool) -> Model:
    x = Input("x", DOUBLE)
    tree = TreeLeaf((x,), (Split(0, test, threshold, missing_left, leaf_ref(0), leaf_ref(1)),))
    return Model((InputField("x", DOUBLE),), (OutputField("y", "value", Lookup(tree, (10.0, 20.0), DOUBLE)),))


@pytest.mark.parametrize("test", ["le", "lt"])
@pytest.mark.parametrize("threshold", [math.inf, -math.inf])
@pytest.mark.parametrize("missing_left", [False, True])
def test_infinite_tree_splits_route_every_finite_value_alike(test: str, threshold: float, missing_left: bool) -> None:
    # exact where no value is infinite (T-SQL, MySQL: an infinite result is unwritable or a
    # rejected row); x < inf and x <= -inf are exact for infinities too
    model = _tree_model(test, threshold, missing_left)
    rewritten = without_infinite_comparisons(model)
    assert _no_infinite_constant(rewritten)
    identity = (test, threshold) in (("lt", math.inf), ("le", -math.inf))
    for value in VALUES if identity else FINITE:
        assert evaluate(model, {"x": value}) == evaluate(rewritten, {"x": value}), value


def test_an_infinite_value_is_left_alone() -> None:
    # max(x, inf) is inf for every number: it needs the value, so the dialect refuses it
    x = Input("x", DOUBLE)
    node: Node = Binary("max", x, Const(math.inf))
    model = Model((InputField("x", DOUBLE),), (OutputField("y", "value", node),))
    assert without_infinite_comparisons(model).outputs[0].expr is node


class _SQLiteWithoutInfinities(SQLiteDialect):
    """SQLite (NULL is its NaN, as on T-SQL/MySQL) with the rewrite switched on: runs the SQL shape
    the no-infinity dialects get, on a real engine."""

    rewrite_infinities = True


def test_rewritten_queries_run_bit_for_bit_on_sqlite() -> None:
    model = _every_infinite_comparison()
    dialect = _SQLiteWithoutInfinities()
    query = build_query(prepare(model), dialect, "input", (ROW_KEY,))
    text = query.sql(dialect="sqlite")
    assert "9e999" not in text  # SQLite's infinity literal: none left
    rows = [{"x": v} for v in FINITE if not (v == 0 and math.copysign(1, v) < 0)]  # REAL stores -0.0 as 0
    got = run_query("sqlite", text, "input", [("x", DOUBLE)], rows)
    for row, result in zip(rows, got):
        expected = evaluate(model, row)
        for name, value in expected.items():
            assert same_value(value, result[name], "sqlite"), (row, name, value, result[name])


def test_golden_cases_score_alike_after_the_rewrite() -> None:
    # every golden row (and every row scikit-learn refuses) scores or is rejected the same way
    from golden_cases import golden_cases

    from modelgen.compiler import lower
    from modelgen.verify import read_rows

    def outcome(model: Model, row: dict[str, Any]) -> Any:
        try:
            return {k: _bits(v) for k, v in evaluate(model, row).items()}
        except InputRowError as error:
            return str(error)

    rewritten_cases = 0
    for case in golden_cases():
        model = prepare(lower(case.model_path))
        rewritten = without_infinite_comparisons(model)
        if rewritten.roots == model.roots:
            continue
        rewritten_cases += 1
        assert _no_infinite_constant(rewritten), case.name
        texts = [case.input_csv] + ([case.refused_csv] if case.refused_csv else [])
        for text in texts:
            for row in read_rows(text, model):
                if any(isinstance(v, float) and math.isinf(v) for v in row.values()):
                    continue  # cannot be stored by an engine without infinities
                assert outcome(model, row) == outcome(rewritten, row), (case.name, row)
    assert rewritten_cases >= 25
