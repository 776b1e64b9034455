"""Hand-built IR models that together use every node type, for emitter tests.

Each sample comes with adversarial rows. Expected outputs come from
``modelgen.ir.evaluate`` (the IR's executable semantics), never from an emitter.
"""

from __future__ import annotations

import math

from modelgen.ir import (
    BOOL,
    DOUBLE,
    FLOAT32,
    STRING,
    And,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    InputField,
    IsIn,
    IsMissing,
    Lookup,
    Model,
    Not,
    Or,
    OutputField,
    RowCheck,
    Sum,
    Unary,
)

NASTY = "O'Brien\"; DROP TABLE x; --"
"""A category that must stay a string in every target."""


def arithmetic_model() -> Model:
    """Every unary/binary op, sums, casts, NaN/inf constants."""
    x = Input("x", DOUBLE)
    y = Input("weird name \"'; --", DOUBLE)
    ops = [Unary(op, x) for op in ("neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "floor")]
    ops += [Binary(op, x, y) for op in ("add", "sub", "mul", "div", "max", "min", "pow")]
    total = Sum((Const(0.1), x, Const(1e300), y, Const(-1e300), Const(5e-324)))
    f32 = Cast(Sum((Cast(x, FLOAT32), Cast(Const(0.1), FLOAT32), Const(0.5, FLOAT32))), DOUBLE)
    special = IfElse(Compare("gt", x, Const(math.inf)), Const(math.nan), Const(-math.inf))
    neg_zero = Binary("mul", Const(-0.0), Unary("abs", x))
    outputs = [OutputField(f"v{i}", "value", e) for i, e in enumerate(ops)]
    outputs += [
        OutputField("total", "value", total),
        OutputField("f32", "value", f32),
        OutputField("special", "value", special),
        OutputField("neg_zero", "value", neg_zero),
        OutputField("sum_x_y_long", "value", Sum(tuple(Binary("mul", x, Const(float(i) + 0.1)) for i in range(60)))),
    ]
    return Model((InputField("x", DOUBLE), InputField("weird name \"'; --", DOUBLE)), tuple(outputs))


ARITHMETIC_ROWS = [
    {"x": 0.5, "weird name \"'; --": 2.0},
    {"x": -0.0, "weird name \"'; --": 0.0},
    {"x": 0.0, "weird name \"'; --": -0.0},
    {"x": -3.5, "weird name \"'; --": 1e-300},
    {"x": 1000.0, "weird name \"'; --": -1000.0},
    {"x": -1000.0, "weird name \"'; --": 3.0},
    {"x": None, "weird name \"'; --": 1.0},
    {"x": math.inf, "weird name \"'; --": -math.inf},
    {"x": -math.inf, "weird name \"'; --": None},
    {"x": 1.7976931348623157e308, "weird name \"'; --": 5e-324},
    {"x": -1.0, "weird name \"'; --": 0.1},
    {"x": 3.4028235677973366e38, "weird name \"'; --": 2.5},
    {"x": 0.1, "weird name \"'; --": 0.2},
]


def categorical_model() -> Model:
    """Strings, membership, booleans, argmax, lookup labels, a row check."""
    color = Input("color", STRING)
    size = Input("size", DOUBLE)
    known = Or((IsMissing(color), IsIn(color, ("red", "green", NASTY, ""))))
    is_red = IsIn(color, ("red",))
    is_nasty = IsIn(color, (NASTY,))
    filled = IfElse(IsMissing(color), Const("green"), color)
    score_a = IfElse(is_red, Const(1.5), Const(-0.25))
    score_b = IfElse(And((Not(IsMissing(size)), Compare("le", size, Const(2.5)))), Const(1.5), Const(0.0))
    score_c = IfElse(Or((is_nasty, Compare("eq", filled, Const("green")))), Const(2.0), Const(0.5))
    winner = ArgMax((score_a, score_b, score_c))
    label = Lookup(winner, ("a", NASTY, "1.0"), STRING)
    numeric_cat = IfElse(IsIn(size, (1.0, 2.5, -0.0)), Const(1.0), Const(0.0))
    as_double = Cast(IsMissing(size), DOUBLE)
    return Model(
        inputs=(InputField("color", STRING), InputField("size", DOUBLE)),
        outputs=(
            OutputField("label", "label", label),
            OutputField(f"probability_{NASTY}", "probability", score_b, NASTY),
            OutputField("decision", "decision", Binary("add", score_a, score_c)),
            OutputField("numeric_cat", "value", numeric_cat),
            OutputField("missing_size", "value", as_double),
            OutputField("filled_is_green", "value", Cast(Compare("ne", filled, Const("green")), DOUBLE)),
            OutputField("winner", "value", Cast(winner, DOUBLE)),
        ),
        checks=(RowCheck(known, "color: unknown category (handle_unknown='error')"),),
    )


CATEGORICAL_ROWS = [
    {"color": "red", "size": 1.0},
    {"color": "green", "size": 2.5},
    {"color": NASTY, "size": 0.0},
    {"color": "", "size": -0.0},
    {"color": None, "size": None},
    {"color": "red", "size": math.nan},
    {"color": "green", "size": math.inf},
]
CATEGORICAL_BAD_ROWS = [{"color": "purple", "size": 1.0}]

__all__ = ["ARITHMETIC_ROWS", "BOOL", "CATEGORICAL_BAD_ROWS", "CATEGORICAL_ROWS", "NASTY", "arithmetic_model",
           "categorical_model"]
