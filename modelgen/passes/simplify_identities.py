"""Drop arithmetic that is the identity on every IEEE double, bit for bit.

Only rewrites that hold for all inputs, NaN and signed zeros included: ``x * 1``, ``x / 1``,
``x - 0.0`` and ``x + (-0.0)``. Note ``x + 0.0`` is *not* one: it turns -0.0 into +0.0.
"""

from __future__ import annotations

import math

from modelgen.ir import Binary, Const, Model, Node, transform


def _is_const(node: Node, value: float) -> bool:
    return (
        isinstance(node, Const)
        and isinstance(node.value, float)
        and node.value == value
        and math.copysign(1.0, node.value) == math.copysign(1.0, value)
    )


def _simplify(node: Node) -> Node:
    if not isinstance(node, Binary):
        return node
    if node.op in ("mul", "div") and _is_const(node.b, 1.0):
        return node.a
    if node.op == "mul" and _is_const(node.a, 1.0):
        return node.b
    if node.op == "sub" and _is_const(node.b, 0.0):
        return node.a
    if node.op == "add" and _is_const(node.b, -0.0):
        return node.a
    return node


def simplify_identities(model: Model) -> Model:
    """``model`` with bit-exact identity operations removed."""
    return model.with_roots(tuple(transform(model.roots, _simplify)))
