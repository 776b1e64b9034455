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
from collections.abc import Iterable
from itertools import repeat

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
    uncast = [_uncast(feature) for feature in features]
    if all(u is None for u in uncast):
        return node
    # column by column (a 1,000-tree forest has a million splits): no Split is touched one by one
    columns = tuple(zip(*node.splits)) or ((),) * 6
    feature_col, test_col, operand_col, missing_col, left_col, right_col = columns
    test_kinds = {*test_col}
    if test_kinds <= {"le", "lt"}:
        on_sets: set[int] = set()
    else:
        on_sets = {f for f, t in zip(feature_col, test_col) if t != "le" and t != "lt"}
    rewritable = [u is not None and i not in on_sets for i, u in enumerate(uncast)]
    if not any(rewritable):
        return node
    everything = all(rewritable)
    moving = repeat(True) if everything else [rewritable[f] for f in feature_col]
    # category operands are tuples; they never move (their features are not rewritable)
    operands = operand_col if everything else [o if m else 0.0 for o, m in zip(operand_col, moving)]
    if "lt" in test_kinds:
        strict = np.array([t == "lt" for t in test_col], dtype=bool)
    else:
        strict = np.zeros(len(test_col), dtype=bool)
    moved = equivalent_thresholds(np.array(operands, dtype=np.float64), strict).tolist()
    tests: Iterable[str]
    if everything and "lt" not in test_kinds:
        tests, thresholds = repeat("le"), moved
    else:
        # "< -inf" holds for no double: it stays as it is (NaN follows the missing side either way)
        keep = [not m or (t == "lt" and o == -math.inf) for t, o, m in zip(test_col, operand_col, moving)]
        tests = [t if k else "le" for t, k in zip(test_col, keep)]
        thresholds = [old if k else new for old, new, k in zip(operand_col, moved, keep)]
    rows = zip(feature_col, tests, thresholds, missing_col, left_col, right_col)
    splits = tuple(map(tuple.__new__, repeat(Split), rows))
    for i, is_rewritable in enumerate(rewritable):
        if is_rewritable:
            features[i] = uncast[i]  # type: ignore[assignment]
    return TreeLeaf(tuple(features), splits)


def rewrite_float32_thresholds(model: Model) -> Model:
    """``model`` with float32-cast tree features replaced by moved double thresholds."""
    return model.with_roots(tuple(transform(model.roots, _rewrite)))
