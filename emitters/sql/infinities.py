"""Comparisons against +-inf without writing an infinity, for engines that have none.

T-SQL, MySQL (and Redshift, taken the same way) cannot write the constant +-inf, yet most
models compare with it: every input range check is ``abs(x) < inf``, and scikit-learn trees
carry ``x <= inf`` splits. Each such comparison is rewritten to one against ``DBL_MAX`` or to
a NaN test, before the SQL is built (the dialect hook ``SqlDialect.rewrite_infinities``):

- ``x < inf`` is ``x <= DBL_MAX``, ``x >= inf`` and ``x == inf`` are ``x > DBL_MAX``, ``x != inf``
  is ``NOT x > DBL_MAX``, ``x <= inf`` is ``NOT isnan(x)``, ``x > inf`` is FALSE (and the
  mirror images for ``-inf``). These are IEEE identities: exact for *every* double, infinite
  ones included, so they stay right even if an engine could hold an infinity after all.
- ``max(x, -inf)``, ``max(-inf, x)``, ``min(x, inf)``, ``min(inf, x)`` are ``x`` (numpy's
  NaN-propagating max/min keeping the first operand on ties: also IEEE identities).
- Tree splits ``x <= inf`` / ``x < -inf`` become ``x <= DBL_MAX`` / ``x < -DBL_MAX``: these two
  are exact only where no value is infinite, which holds on these engines (an infinite IEEE
  result there is either unwritable or a rejected row: ``x / 0``, ``ln(0)``, ``exp`` overflow,
  and arithmetic overflow raises). ``x < inf`` / ``x <= -inf`` splits are IEEE identities.

What still needs an infinite *value* (a constant inf used as a number, ``max(inf, x)``) is not
rewritten and stays refused at compile time by the dialect's literal.
"""

from __future__ import annotations

import math
import sys

from modelgen.ir import (
    DOUBLE,
    Binary,
    Compare,
    Const,
    IsMissing,
    Model,
    Node,
    Not,
    Split,
    TreeLeaf,
    transform,
)

DBL_MAX = sys.float_info.max

_MIRRORED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
"""``c op x`` is ``x mirrored[op] c``."""


def _infinite(node: Node) -> float | None:
    """The constant's value when ``node`` is a double constant +-inf, else None."""
    if isinstance(node, Const) and node.dtype is DOUBLE and math.isinf(node.value):  # type: ignore[arg-type]
        return node.value  # type: ignore[return-value]
    return None


def _against_infinity(op: str, x: Node, infinity: float) -> Node:
    """``x op infinity`` (``x`` a double) without an infinite constant, exactly."""
    big = Const(math.copysign(DBL_MAX, infinity))
    if infinity < 0:
        table: dict[str, Node] = {
            "gt": Compare("ge", x, big),
            "ge": Not(IsMissing(x)),
            "lt": Const(False),
            "le": Compare("lt", x, big),
            "eq": Compare("lt", x, big),
            "ne": Not(Compare("lt", x, big)),
        }
    else:
        table = {
            "lt": Compare("le", x, big),
            "le": Not(IsMissing(x)),
            "gt": Const(False),
            "ge": Compare("gt", x, big),
            "eq": Compare("gt", x, big),
            "ne": Not(Compare("gt", x, big)),
        }
    return table[op]


def _compare(node: Compare) -> Node:
    a_inf, b_inf = _infinite(node.a), _infinite(node.b)
    if a_inf is not None and isinstance(node.b, Const):
        # both constants: Python floats compare as IEEE (a NaN operand: false, ne: true)
        b = node.b.value
        result = {"lt": a_inf < b, "le": a_inf <= b, "gt": a_inf > b, "ge": a_inf >= b, "eq": a_inf == b}
        return Const(result[node.op] if node.op != "ne" else a_inf != b)
    if b_inf is not None:
        return _against_infinity(node.op, node.a, b_inf)
    if a_inf is not None:
        return _against_infinity(_MIRRORED[node.op], node.b, a_inf)
    return node


def _binary(node: Binary) -> Node:
    neutral = {"max": -math.inf, "min": math.inf}.get(node.op)
    if neutral is None:
        return node
    if _infinite(node.a) == neutral:
        return node.b
    if _infinite(node.b) == neutral:
        return node.a
    return node


def _split(split: Split) -> Split:
    operand = split.operand
    if split.test not in ("le", "lt") or not isinstance(operand, float) or not math.isinf(operand):
        return split
    # x <= inf, x < inf: x <= DBL_MAX; x <= -inf, x < -inf: x < -DBL_MAX (no value is infinite)
    if operand > 0:
        return split._replace(test="le", operand=DBL_MAX)
    return split._replace(test="lt", operand=-DBL_MAX)


def _tree(node: TreeLeaf) -> Node:
    splits = tuple(map(_split, node.splits))
    if all(new is old for new, old in zip(splits, node.splits)):
        return node
    return TreeLeaf(node.features, splits)


def _rewrite(node: Node) -> Node:
    if isinstance(node, Compare) and node.a.dtype is DOUBLE:
        return _compare(node)
    if isinstance(node, Binary) and node.dtype is DOUBLE:
        return _binary(node)
    if isinstance(node, TreeLeaf):
        return _tree(node)
    return node


def without_infinite_comparisons(model: Model) -> Model:
    """``model`` with every comparison against a +-inf constant rewritten as above (same results
    on engines where no value is infinite; every rewrite but the two tree splits is exact in IEEE)."""
    return model.with_roots(tuple(transform(model.roots, _rewrite)))
