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

FLOAT32_OVERFLOW_BOUNDARY = 3.4028235677973366e38
"""The smallest double that rounds to float32 +inf (the tie above FLT_MAX rounds to infinity)."""


def equivalent_thresholds(thresholds: np.ndarray, strict: np.ndarray) -> np.ndarray:
    """Vectorised ``equivalent_threshold``: one ``t'`` per threshold (``strict`` marks ``<`` splits).

    ``f`` is the largest float32 with ``f <= t`` (``f < t`` if strict); ``t'`` is the largest
    double that rounds to a float32 no greater than ``f``: the rounding boundary above ``f``
    when the tie there rounds down to ``f`` (even mantissa), else the double just below it.
    """
    t = np.asarray(thresholds, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        f32 = t.astype(np.float32)
        too_high = (f32.astype(np.float64) > t) | (strict & (f32.astype(np.float64) == t))
        f32 = np.where(too_high, np.nextafter(f32, np.float32(-np.inf)), f32)
        f = f32.astype(np.float64)
        up = np.nextafter(f32, np.float32(np.inf)).astype(np.float64)
        boundary = np.where(up == np.inf, FLOAT32_OVERFLOW_BOUNDARY, f + (up - f) / 2)
        rounds_down = boundary.astype(np.float32).astype(np.float64) <= f
        moved = np.where(rounds_down, boundary, np.nextafter(boundary, -np.inf))
    moved = np.where(f == np.inf, np.inf, moved)
    # the tie below -FLT_MAX rounds to -inf too: every double up to -boundary rounds to -inf
    return np.where(f == -np.inf, -FLOAT32_OVERFLOW_BOUNDARY, moved)


def equivalent_threshold(t: float, strict: bool = False) -> float:
    """``t'`` such that ``x <= t'`` iff ``float32(x) <= t`` (``< t`` if strict), for every non-NaN double x.

    ``float32(x) < -inf`` holds for no x at all, which no ``x <= t'`` can say: see ``equivalent_split``.

    >>> equivalent_threshold(0.5) == 0.5 + 2.0**-25  # float32 step 2**-24 here; the tie rounds to even 0.5
    True
    """
    return float(equivalent_thresholds(np.array([t]), np.array([strict]))[0])


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
    on_sets = {s.feature for s in node.splits if s.test != "le" and s.test != "lt"}
    rewritable = {i for i, feature in enumerate(features) if i not in on_sets and _uncast(feature) is not None}
    if not rewritable:
        return node
    moving = [s for s in node.splits if s.feature in rewritable]
    moved = equivalent_thresholds(
        np.array([s.operand for s in moving], dtype=np.float64), np.array([s.test == "lt" for s in moving])
    ).tolist()
    replacements = {}
    for split, threshold in zip(moving, moved):
        if split.test == "lt" and split.operand == -math.inf:
            replacements[id(split)] = Split(split.feature, "lt", -math.inf, split.missing_left, split.left, split.right)
        else:
            replacements[id(split)] = Split(split.feature, "le", threshold, split.missing_left, split.left, split.right)
    splits = [replacements.get(id(s), s) for s in node.splits]
    for i in rewritable:
        features[i] = _uncast(features[i])  # type: ignore[assignment]
    return TreeLeaf(tuple(features), tuple(splits))


def rewrite_float32_thresholds(model: Model) -> Model:
    """``model`` with float32-cast tree features replaced by moved double thresholds."""
    return model.with_roots(tuple(transform(model.roots, _rewrite)))
