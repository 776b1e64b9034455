"""Fold finiteness tests that cannot fail, and drop row checks that are always true.

Frontends check "feature is finite" on every column a strict scikit-learn step reads, even
on columns that cannot be anything but finite (a one-hot 0/1, an imputed constant where
the value was missing). ``abs(e) < inf`` is folded to TRUE when ``e`` is provably finite:
a finite constant, a cast of a bool or int, or an ``IfElse`` whose branches are. Then
``Or``/``And`` with constant terms fold, and a check whose condition is TRUE disappears.
Every fold is exact: the folded condition has the same value on every row.
"""

from __future__ import annotations

import math

from modelgen.ir import BOOL, INT, And, Cast, Compare, Const, IfElse, Model, Node, Not, Or, Unary, transform
from modelgen.ir.model import RowCheck

TRUE = Const(True)
FALSE = Const(False)


def _finite(node: Node, known: dict[Node, bool]) -> bool:
    if isinstance(node, Const):
        return isinstance(node.value, float) and math.isfinite(node.value)
    if isinstance(node, Cast):
        return node.x.dtype in (BOOL, INT)
    if isinstance(node, IfElse):
        return known.get(node.then, False) and known.get(node.otherwise, False)
    return False


def fold(model: Model) -> tuple[list[Node], dict[Node, bool]]:
    """The model's roots with trivial finiteness tests folded (and the finiteness facts found)."""
    finite: dict[Node, bool] = {}

    def rewrite(node: Node) -> Node:
        finite[node] = _finite(node, finite)
        if (
            isinstance(node, Compare)
            and node.op == "lt"
            and isinstance(node.a, Unary)
            and node.a.op == "abs"
            and isinstance(node.b, Const)
            and node.b.value == math.inf
            and finite.get(node.a.x, False)
        ):
            return TRUE
        if isinstance(node, Or):
            if any(t is TRUE for t in node.terms):
                return TRUE
            rest = tuple(t for t in node.terms if t is not FALSE)
            return FALSE if not rest else rest[0] if len(rest) == 1 else Or(rest)
        if isinstance(node, And):
            if any(t is FALSE for t in node.terms):
                return FALSE
            rest = tuple(t for t in node.terms if t is not TRUE)
            return TRUE if not rest else rest[0] if len(rest) == 1 else And(rest)
        if isinstance(node, Not) and isinstance(node.x, Const):
            return Const(not node.x.value)
        return node

    return transform(model.roots, rewrite), finite


def drop_trivial_checks(model: Model) -> Model:
    """``model`` without row checks that can never fail."""
    roots, _ = fold(model)
    folded = model.with_roots(tuple(roots))
    kept = tuple(RowCheck(c.condition, c.message) for c in folded.checks if c.condition is not TRUE)
    return Model(folded.inputs, folded.outputs, kept, folded.metadata)
