"""A plain interpreter of the IR: the executable definition of each node's semantics.

Used by tests to check emitters node by node (the reference for whole models is the
source library itself, e.g. scikit-learn's ``predict``). Iterative, like every walk.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from modelgen.errors import InputRowError
from modelgen.ir.model import Model
from modelgen.ir.nodes import (
    And,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    IsIn,
    IsMissing,
    Lookup,
    Node,
    Not,
    Or,
    Split,
    Sum,
    TreeLeaf,
    Unary,
)
from modelgen.ir.traversal import topological_order
from modelgen.ir.types import FLOAT32, STRING

Value = Any


def to_float32(x: float) -> float:
    """Round a double to the nearest float32 (ties to even), as a double; overflow -> +-inf."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        # struct refuses values that round past FLT_MAX; IEEE rounding gives +-inf there
        limit = 3.4028235677973366e38  # (FLT_MAX + next float32 step) / 2: the rounding boundary
        if abs(x) >= limit:
            return math.copysign(math.inf, x)
        return math.copysign(3.4028234663852886e38, x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if math.isnan(x) or x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    return math.log(x)


def _log1p(x: float) -> float:
    if math.isnan(x) or x < -1:
        return math.nan
    if x == -1:
        return -math.inf
    return math.log1p(x)


def _sqrt(x: float) -> float:
    if math.isnan(x) or x < 0:
        return math.nan
    return math.sqrt(x)


def _div(a: float, b: float) -> float:
    if b == 0:
        if math.isnan(a) or a == 0:
            return math.nan
        sign = math.copysign(1.0, a) * math.copysign(1.0, b)
        return math.copysign(math.inf, sign)
    return a / b


def _max(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a >= b else b


def _min(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return a if a <= b else b


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        import numpy

        with numpy.errstate(all="ignore"):
            return float(numpy.power(numpy.float64(a), numpy.float64(b)))


UNARY: dict[str, Callable[[float], float]] = {
    "neg": lambda x: -x,
    "abs": abs,
    "exp": _exp,
    "log": _log,
    "log1p": _log1p,
    "expm1": _expm1,
    "sqrt": _sqrt,
    # x == 0 returns x itself so floor(-0.0) stays -0.0, as IEEE floor / numpy.floor / C floor do
    "floor": lambda x: x if not math.isfinite(x) or x == 0 else float(math.floor(x)),
}

BINARY: dict[str, Callable[[float, float], float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": _div,
    "max": _max,
    "min": _min,
    "pow": _pow,
}

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


def _argmax(values: list[float]) -> int:
    best = 0
    for i, v in enumerate(values):
        if math.isnan(v):
            return i
        if v > values[best]:
            best = i
    return best


def _route(node: TreeLeaf, features: list[Any]) -> int:
    """Walk one tree from the root split to a leaf number."""
    if not node.splits:
        return 0
    child = 0
    while child >= 0:
        split: Split = node.splits[child]
        x = features[split.feature]
        if _is_missing(x):
            go_left = split.missing_left
        elif split.test == "le":
            go_left = x <= split.operand
        elif split.test == "lt":
            go_left = x < split.operand
        elif split.test == "in":
            go_left = any(x == v for v in split.operand)  # type: ignore[union-attr]
        else:
            go_left = not any(x == v for v in split.operand)  # type: ignore[union-attr]
        child = split.left if go_left else split.right
    return -1 - child


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _evaluate_node(node: Node, args: list[Value], row: Mapping[str, Value]) -> Value:
    if isinstance(node, Input):
        value = row[node.name]
        if node.dtype is STRING:
            return value
        return math.nan if value is None else float(value)
    if isinstance(node, Const):
        return node.value
    f32 = node.dtype is FLOAT32
    if isinstance(node, Unary):
        result = UNARY[node.op](args[0])
    elif isinstance(node, Binary):
        result = BINARY[node.op](args[0], args[1])
    elif isinstance(node, Sum):
        result = args[0]
        for term in args[1:]:
            result = to_float32(result + term) if f32 else result + term
        return result
    elif isinstance(node, Compare):
        return COMPARE[node.op](args[0], args[1])
    elif isinstance(node, And):
        return all(args)
    elif isinstance(node, Or):
        return any(args)
    elif isinstance(node, Not):
        return not args[0]
    elif isinstance(node, IsMissing):
        return _is_missing(args[0])
    elif isinstance(node, IsIn):
        return not _is_missing(args[0]) and any(args[0] == v for v in node.values)
    elif isinstance(node, IfElse):
        return args[1] if args[0] else args[2]
    elif isinstance(node, ArgMax):
        return _argmax(args)
    elif isinstance(node, Lookup):
        return node.values[args[0]]
    elif isinstance(node, TreeLeaf):
        return _route(node, args)
    elif isinstance(node, Cast):
        if node.to is FLOAT32:
            return to_float32(args[0])
        return float(args[0]) if node.to.is_float else int(args[0])
    else:  # pragma: no cover - NODE_TYPES is closed
        raise TypeError(f"no semantics for {type(node).__name__}")
    return to_float32(result) if f32 else result


_ORDERS: dict[int, tuple[Model, list[Node]]] = {}
"""The last few models' evaluation orders: scoring many rows must not re-walk a big model per row."""


def _evaluation_order(model: Model) -> list[Node]:
    cached = _ORDERS.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1]
    if len(_ORDERS) >= 4:
        _ORDERS.pop(next(iter(_ORDERS)))
    order = topological_order(model.roots)
    _ORDERS[id(model)] = (model, order)
    return order


def evaluate(model: Model, row: Mapping[str, Value]) -> dict[str, Value]:
    """Score one row (input name -> float/None/str) into output name -> value.

    Raises ``InputRowError`` when a row check fails. Both branches of ``IfElse`` are
    evaluated (expressions are total), which is fine for a reference.
    """
    values: dict[int, Value] = {}
    for node in _evaluation_order(model):
        values[id(node)] = _evaluate_node(node, [values[id(c)] for c in node.children], row)
    for check in model.checks:
        if not values[id(check.condition)]:
            raise InputRowError(check.message)
    return {output.name: values[id(output.expr)] for output in model.outputs}
