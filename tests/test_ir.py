"""IR nodes: validation, interning, immutability, serialisation, deep structures without recursion."""

from __future__ import annotations

import math
import sys

import pytest

from modelgen.errors import IRValidationError
from modelgen.ir import (
    BOOL,
    DOUBLE,
    FLOAT32,
    INT,
    STRING,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    IsIn,
    Lookup,
    Model,
    OutputField,
    Split,
    Sum,
    TreeLeaf,
    Unary,
    depth,
    leaf_ref,
    model_from_json,
    model_to_json,
    topological_order,
    transform,
    use_counts,
)
from modelgen.ir.evaluate import evaluate, to_float32
from modelgen.passes import run_passes

X = Input("x", DOUBLE)


def test_identical_nodes_are_one_object() -> None:
    assert Binary("add", X, Const(0.1)) is Binary("add", X, Const(0.1))
    assert Const(math.nan) is Const(math.nan)


@pytest.mark.parametrize(("a", "b"), [(0.0, -0.0), (1.0, 1), (1.0, True)])
def test_constants_differ_by_bits_and_type(a: object, b: object) -> None:
    assert Const(a) is not Const(b)  # type: ignore[arg-type]


def test_nodes_are_immutable() -> None:
    node = Binary("mul", X, X)
    with pytest.raises(AttributeError):
        node.op = "add"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Binary("add", Input("s", STRING), X), "operands must be double"),
        (lambda: Binary("add", X, Cast(X, FLOAT32)), "operand dtypes differ"),
        (lambda: Binary("xor", X, X), "unknown op 'xor'"),
        (lambda: Unary("exp", Compare("lt", X, X)), "must be double or float32"),
        (lambda: IfElse(X, X, X), "condition must be bool"),
        (lambda: IfElse(Compare("lt", X, X), X, Const("a")), "branch dtypes differ"),
        (lambda: Sum((X,)), "at least two terms"),
        (lambda: Const(0.1, FLOAT32), "not exactly a float32"),
        (lambda: Const(2**53 + 1, DOUBLE), "not exactly a double"),
        (lambda: IsIn(X, (1.0, 1.0)), "distinct"),
        (lambda: IsIn(X, (math.nan,)), "NaN is never a member"),
        (lambda: Lookup(X, ("a",), STRING), "index must be int"),
        (lambda: Cast(Input("s", STRING), DOUBLE), "no cast from string"),
        (lambda: Compare("lt", Input("s", STRING), Const("a")), "strings only support eq/ne"),
        (lambda: Input("x", BOOL), "inputs are double or string"),
        (lambda: Binary("add", X), "takes 3 arguments"),
    ],
)
def test_invalid_nodes_raise_named_errors(build: object, message: str) -> None:
    with pytest.raises(IRValidationError, match=message):
        build()  # type: ignore[operator]


def test_model_refuses_undeclared_and_mistyped_inputs() -> None:
    with pytest.raises(IRValidationError, match="undeclared input 'x'"):
        Model((), (OutputField("prediction", "value", X),))
    with pytest.raises(IRValidationError, match="declared string but read as double"):
        Model((InputField("x", STRING),), (OutputField("prediction", "value", X),))
    with pytest.raises(IRValidationError, match="a label is a string"):
        Model((InputField("x", DOUBLE),), (OutputField("label", "label", X),))


def chain(length: int) -> Model:
    node = X
    for i in range(length):
        node = Binary("add" if i % 2 else "mul", node, Const(1.0 + i / length))
    return Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", node),))


def long_sum(terms: int) -> Model:
    node = Sum(tuple(Binary("mul", X, Const(float(i) + 0.5)) for i in range(terms)))
    return Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", node),))


def test_deep_chain_goes_through_every_walk_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    model = chain(10_000)
    assert depth(model.roots) == 10_001
    assert len(topological_order(model.roots)) > 10_000
    again = model_from_json(model_to_json(model))
    assert again.outputs[0].expr is model.outputs[0].expr
    assert transform(model.roots, lambda n: n)[0] is model.roots[0]
    passed = run_passes(model)
    assert evaluate(passed, {"x": 0.5}) == evaluate(model, {"x": 0.5})
    assert sys.getrecursionlimit() == limit


def test_long_sum_keeps_left_to_right_order_through_passes() -> None:
    model = long_sum(1_000)
    passed = run_passes(model)
    total = 0.0
    terms = [0.1 * (float(i) + 0.5) for i in range(1_000)]
    total = terms[0]
    for term in terms[1:]:
        total += term
    assert evaluate(passed, {"x": 0.1})["prediction"] == total
    assert max(len(n.terms) for n in topological_order(passed.roots) if isinstance(n, Sum)) <= 25


def test_shared_subtrees_are_counted_once() -> None:
    square = Binary("mul", X, X)
    counts = use_counts([Binary("add", square, square)])
    assert counts[square] == 2
    assert len(topological_order([Binary("add", square, square)])) == 3


def test_json_round_trip_keeps_special_values() -> None:
    values = (math.nan, math.inf, -math.inf, -0.0, 5e-324, 0.1)
    terms = tuple(Binary("add", X, Const(v)) for v in values)
    model = Model(
        (InputField("x", DOUBLE),),
        (
            OutputField("prediction", "value", Sum(terms)),
            OutputField("label", "label", Lookup(ArgMax(terms), tuple(str(i) for i in range(6)), STRING)),
        ),
    )
    again = model_from_json(model_to_json(model))
    assert again.outputs[0].expr is model.outputs[0].expr
    assert again.outputs[1].expr is model.outputs[1].expr


def test_float32_rounding_matches_numpy_on_overflow_and_ties() -> None:
    import numpy as np

    for value in (3.4028235677973366e38, 3.4028235677973362e38, 1e39, -1e39, 1.0000000596046448, 0.1, 5e-324):
        with np.errstate(over="ignore"):
            want = float(np.float32(value))
        assert to_float32(value) == want or (math.isnan(want) and math.isnan(to_float32(value)))


def test_argmax_first_nan_wins_and_ties_go_first() -> None:
    y = Input("y", DOUBLE)
    model = Model(
        (InputField("x", DOUBLE), InputField("y", DOUBLE)),
        (OutputField("i", "value", Cast(ArgMax((X, y)), DOUBLE)),),
    )
    assert evaluate(model, {"x": 1.0, "y": 1.0})["i"] == 0.0
    assert evaluate(model, {"x": 1.0, "y": None})["i"] == 1.0
    assert evaluate(model, {"x": None, "y": None})["i"] == 0.0
    assert INT is ArgMax((X, y)).dtype


def _deep_tree(depth_: int) -> TreeLeaf:
    # a path tree: split i sends left to a leaf, right to split i+1
    splits = [Split(0, "le", float(i), i % 2 == 0, leaf_ref(i), i + 1) for i in range(depth_ - 1)]
    splits.append(Split(0, "le", float(depth_), True, leaf_ref(depth_ - 1), leaf_ref(depth_)))
    return TreeLeaf((X,), splits)


def test_tree_leaf_routes_iteratively_through_a_deep_tree() -> None:
    tree = _deep_tree(5_000)
    assert tree.n_leaves == 5_001
    model = Model((InputField("x", DOUBLE),), (OutputField("leaf", "value", Cast(tree, DOUBLE)),))
    assert evaluate(model, {"x": 4_999.5})["leaf"] == 4_999.0
    assert evaluate(model, {"x": 6_000.0})["leaf"] == 5_000.0
    assert evaluate(model, {"x": None})["leaf"] == 0.0
    assert model_from_json(model_to_json(model)).outputs[0].expr is model.outputs[0].expr


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ([Split(1, "le", 0.5, True, leaf_ref(0), leaf_ref(1))], "feature 1 out of range"),
        ([Split(0, "le", math.nan, True, leaf_ref(0), leaf_ref(1))], "non-NaN"),
        ([Split(0, "in", (), True, leaf_ref(0), leaf_ref(1))], "empty category set"),
        ([Split(0, "le", 0.5, True, leaf_ref(0), leaf_ref(0))], "numbered 0..n-1"),
        ([Split(0, "le", 0.5, True, 1, leaf_ref(0)), Split(0, "le", 0.5, True, 1, leaf_ref(1))], "reached twice"),
        ([Split(0, "le", 0.5, True, leaf_ref(0), leaf_ref(1)), Split(0, "le", 1.0, True, -3, -4)], "unreachable"),
        ([Split(0, "eq", 0.5, True, leaf_ref(0), leaf_ref(1))], "unknown split test"),
    ],
)
def test_invalid_trees_raise(splits: list[Split], message: str) -> None:
    with pytest.raises(IRValidationError, match=message):
        TreeLeaf((X,), splits)


def test_string_trees_split_on_category_sets() -> None:
    s = Input("s", STRING)
    tree = TreeLeaf((s,), [Split(0, "notin", ("a", "O'Brien"), False, leaf_ref(0), leaf_ref(1))])
    model = Model((InputField("s", STRING),), (OutputField("leaf", "value", Cast(tree, DOUBLE)),))
    assert [evaluate(model, {"s": v})["leaf"] for v in ("a", "b", None, "O'Brien")] == [1.0, 0.0, 1.0, 1.0]
