"""Each pass as input -> expected fixtures, plus the bit-exactness of its rewrites."""

from __future__ import annotations

import math

import pytest

from modelgen.ir import (
    DOUBLE,
    And,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    IsMissing,
    Model,
    Node,
    Or,
    OutputField,
    RowCheck,
    Sum,
    Unary,
)
from modelgen.ir.evaluate import evaluate
from modelgen.numerics import ulp_distance
from modelgen.passes import run_passes
from modelgen.passes.drop_trivial_checks import drop_trivial_checks
from modelgen.passes.simplify_identities import simplify_identities
from modelgen.passes.split_long_sums import MAX_TERMS, split_long_sums

X = Input("x", DOUBLE)


def model_of(node: Node) -> Model:
    return Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", node),))


SIMPLIFY_FIXTURES = [
    (Binary("mul", X, Const(1.0)), X),
    (Binary("mul", Const(1.0), X), X),
    (Binary("div", X, Const(1.0)), X),
    (Binary("sub", X, Const(0.0)), X),
    (Binary("add", X, Const(-0.0)), X),
    # not identities: x + 0.0 turns -0.0 into 0.0; x - (-0.0) likewise; x * -1.0 flips sign
    (Binary("add", X, Const(0.0)), Binary("add", X, Const(0.0))),
    (Binary("sub", X, Const(-0.0)), Binary("sub", X, Const(-0.0))),
    (Binary("mul", X, Const(-1.0)), Binary("mul", X, Const(-1.0))),
    (Binary("div", Const(1.0), X), Binary("div", Const(1.0), X)),
]


@pytest.mark.parametrize(("before", "after"), SIMPLIFY_FIXTURES)
def test_simplify_identities(before: Node, after: Node) -> None:
    assert simplify_identities(model_of(before)).outputs[0].expr is after


@pytest.mark.parametrize(("before", "_after"), SIMPLIFY_FIXTURES)
def test_simplify_identities_is_bit_exact(before: Node, _after: Node) -> None:
    model = model_of(before)
    simplified = simplify_identities(model)
    for x in (0.0, -0.0, 1.5, -2.5, math.inf, -math.inf, None, 5e-324, 1.7976931348623157e308):
        want = evaluate(model, {"x": x})["prediction"]
        got = evaluate(simplified, {"x": x})["prediction"]
        assert ulp_distance(want, got) == 0, (before, x)


def test_split_long_sums_keeps_order() -> None:
    terms = tuple(Binary("mul", X, Const(float(i))) for i in range(60))
    split = split_long_sums(model_of(Sum(terms))).outputs[0].expr
    assert isinstance(split, Sum) and len(split.terms) == 60 - 2 * (MAX_TERMS - 1)
    inner = split.terms[0]
    assert isinstance(inner, Sum) and inner.terms[1:] == terms[MAX_TERMS : 2 * MAX_TERMS - 1]
    innermost = inner.terms[0]
    assert isinstance(innermost, Sum) and innermost.terms == terms[:MAX_TERMS]


def test_short_sums_are_left_alone() -> None:
    node = Sum((X, Const(1.0), Const(2.0)))
    assert split_long_sums(model_of(node)).outputs[0].expr is node


def test_pipeline_runs_every_pass() -> None:
    model = model_of(Sum(tuple(Binary("mul", X, Const(1.0)) for _ in range(30))))
    passed = run_passes(model)
    assert evaluate(passed, {"x": 0.1}) == evaluate(model, {"x": 0.1})


def _check_model(condition: Node) -> Model:
    return Model(
        (InputField("x", DOUBLE),),
        (OutputField("prediction", "value", X),),
        (RowCheck(condition, "feature is infinite"),),
    )


ALWAYS_FINITE = [
    Cast(Compare("eq", X, Const(1.0)), DOUBLE),
    IfElse(IsMissing(X), Const(2.5), Const(-1.0)),
    Const(0.5),
]
MAYBE_INFINITE = [X, IfElse(IsMissing(X), Const(2.5), X), Const(math.inf), Binary("mul", X, Const(2.0))]


def _finite_test(node: Node) -> Node:
    return Compare("lt", Unary("abs", node), Const(math.inf))


@pytest.mark.parametrize("node", ALWAYS_FINITE)
def test_checks_on_provably_finite_values_are_dropped(node: Node) -> None:
    assert drop_trivial_checks(_check_model(_finite_test(node))).checks == ()
    assert drop_trivial_checks(_check_model(Or((IsMissing(X), _finite_test(node))))).checks == ()


@pytest.mark.parametrize("node", MAYBE_INFINITE)
def test_checks_that_can_fail_are_kept(node: Node) -> None:
    condition = _finite_test(node)
    assert drop_trivial_checks(_check_model(condition)).checks[0].condition is condition


def test_and_drops_true_terms() -> None:
    kept = _finite_test(X)
    folded = drop_trivial_checks(_check_model(And((_finite_test(Const(1.0)), kept)))).checks[0].condition
    assert folded is kept
