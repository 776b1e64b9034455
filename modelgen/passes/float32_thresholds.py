"""Rewrite tree splits on ``float32(x)`` into splits on ``x`` itself, with moved thresholds.

scikit-learn's trees cast the input to float32 before comparing: ``float32(x) <= t``. For
every threshold there is a double ``t'`` with ``x <= t'`` exactly when ``float32(x) <= t``,
for every double ``x`` (NaN aside, which follows the split's missing direction either way):
the largest double that rounds to a float32 no greater than ``t``. Splitting on ``x`` with
``t'`` needs no float32 arithmetic at run time, so it works in every target, SQLite included.

A feature is rewritten when it is ``Cast(Cast(x, float32), double)`` and every split on it is
``le``/``lt``; anything else keeps the explicit cast.
"""

from __future__ import annotations

import math

import numpy as np

from modelgen.ir import DOUBLE, FLOAT32, Cast, Model, Node, Split, TreeLeaf, transform
from modelgen.ir.evaluate import to_float32

FLOAT32_OVERFLOW_BOUNDARY = 3.4028235677973366e38
"""The smallest double that rounds to float32 +inf (the tie above FLT_MAX rounds to infinity)."""


def _largest_float32_at_most(t: float, strict: bool) -> float:
    """The largest float32 ``f`` (as a double, possibly -inf) with ``f <= t`` (``f < t`` if strict)."""
    f = to_float32(t)
    if f > t or (strict and f == t):
        f = float(np.nextafter(np.float32(f), np.float32(-np.inf)))
    return f


def equivalent_threshold(t: float, strict: bool = False) -> float:
    """``t'`` such that ``x <= t'`` iff ``float32(x) <= t`` (``< t`` if strict), for every non-NaN double x.

    ``float32(x) < -inf`` holds for no x at all, which no ``x <= t'`` can say: see ``equivalent_split``.

    >>> equivalent_threshold(0.5) == 0.5 + 2.0**-25  # float32 step 2**-24 here; the tie rounds to even 0.5
    True
    """
    f = _largest_float32_at_most(t, strict)
    if f == math.inf:
        return math.inf
    if f == -math.inf:
        return -FLOAT32_OVERFLOW_BOUNDARY  # the tie below -FLT_MAX rounds to -inf too
    up = float(np.nextafter(np.float32(f), np.float32(np.inf)))
    boundary = FLOAT32_OVERFLOW_BOUNDARY if up == math.inf else f + (up - f) / 2
    return boundary if to_float32(boundary) <= f else math.nextafter(boundary, -math.inf)


def equivalent_split(test: str, t: float) -> tuple[str, float]:
    """The (test, threshold) on the double x deciding exactly like ``test`` on ``float32(x)``."""
    if test == "lt" and t == -math.inf:
        return "lt", -math.inf  # nothing but NaN goes left, and NaN follows the missing direction
    return "le", equivalent_threshold(t, strict=test == "lt")


def _uncast(feature: Node) -> Node | None:
    if (
        isinstance(feature, Cast)
        and feature.to is DOUBLE
        and isinstance(feature.x, Cast)
        and feature.x.to is FLOAT32
        and feature.x.x.dtype is DOUBLE
    ):
        return feature.x.x
    return None


def _rewrite(node: Node) -> Node:
    if not isinstance(node, TreeLeaf):
        return node
    features = list(node.features)
    rewritable = {
        i
        for i, feature in enumerate(features)
        if _uncast(feature) is not None and all(s.test in ("le", "lt") for s in node.splits if s.feature == i)
    }
    if not rewritable:
        return node
    splits = [
        Split(s.feature, *equivalent_split(s.test, s.operand), s.missing_left, s.left, s.right)  # type: ignore[arg-type]
        if s.feature in rewritable
        else s
        for s in node.splits
    ]
    for i in rewritable:
        features[i] = _uncast(features[i])  # type: ignore[assignment]
    return TreeLeaf(tuple(features), tuple(splits))


def rewrite_float32_thresholds(model: Model) -> Model:
    """``model`` with float32-cast tree features replaced by moved double thresholds."""
    return model.with_roots(tuple(transform(model.roots, _rewrite)))
