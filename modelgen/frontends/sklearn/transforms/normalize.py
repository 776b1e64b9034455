"""Binarizer and Normalizer, with numpy's exact summation orders for the row norms.

Binarizer (scikit-learn 1.9.1 ``binarize``): ``x > threshold`` in float64 gives 1.0, else 0.0.

Normalizer (``normalize``, axis=1, dense): the row norm is
- l1: ``np.sum(np.abs(X), axis=1)``: numpy's pairwise summation over a contiguous row
  (``pairwise_sum_DOUBLE``): below 8 terms a plain loop; up to 128 terms eight
  interleaved accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) then the
  remainder; above that, split at ``n2 = n//2 - (n//2) % 8`` and recurse;
- l2: ``sqrt(np.einsum('ij,ij->i', X, X))``: numpy 2.4's einsum sum-of-products with
  128-bit SIMD lanes (2 doubles, no FMA on the baseline build): lane l accumulates the
  squares of elements l, l+2, ... where each block of 8 adds elements 6,7 then 4,5 then
  2,3 then 0,1; the lanes are added at the end. Matched bit for bit against this numpy
  for 1..299 features (an AVX-512 or FMA einsum build would differ);
- max: ``np.max(np.abs(X), axis=1)`` (no NaN can reach it, so order is irrelevant).
Norms below ``10 * eps`` become 1.0 (``_handle_zeros_in_scale``), then ``x / norm``.
Both validate X, so NaN and infinity reject the row. All terms are >= +0.0, so the
accumulators' starting +0.0 never changes a sum and is omitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import Binarizer, Normalizer

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, require_finite
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import DOUBLE, Binary, Cast, Compare, Const, IfElse, Node, Sum, Unary

PAIRWISE_BLOCK = 128
"""numpy's ``PW_BLOCKSIZE``."""


def left_sum(terms: list[Node]) -> Node:
    """``((t0 + t1) + t2) + ...`` (a single term is itself)."""
    if len(terms) == 1:
        return terms[0]
    return Sum(tuple(terms))


def add(a: Node, b: Node) -> Node:
    return Binary("add", a, b)


def pairwise_sum(terms: list[Node]) -> Node:
    """numpy's ``pairwise_sum_DOUBLE`` over ``terms`` (non-negative, at least one), without recursion."""
    # the recursion only halves ranges; an explicit stack of (start, stop, parts) replays it
    results: dict[tuple[int, int], Node] = {}
    stack: list[tuple[int, int, bool]] = [(0, len(terms), False)]
    while stack:
        start, stop, expanded = stack.pop()
        n = stop - start
        if n < 8:
            results[(start, stop)] = left_sum(terms[start:stop])
        elif n <= PAIRWISE_BLOCK:
            accumulators = [[terms[start + j]] for j in range(8)]
            i = 8
            while i < n - (n % 8):
                for j in range(8):
                    accumulators[j].append(terms[start + i + j])
                i += 8
            r = [left_sum(a) for a in accumulators]
            head = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])))
            results[(start, stop)] = left_sum([head, *terms[start + i : stop]])
        else:
            half = n // 2
            half -= half % 8
            if expanded:
                results[(start, stop)] = add(results[(start, start + half)], results[(start + half, stop)])
            else:
                stack.append((start, stop, True))
                stack.append((start + half, stop, False))
                stack.append((start, start + half, False))
    return results[(0, len(terms))]


def einsum_square_sum(x: list[Node], lanes: int = 2) -> Node:
    """numpy's einsum 'ij,ij->i' row sum of squares (SIMD lanes, blocks of 4 vectors, tail)."""
    accumulators: list[list[Node]] = [[] for _ in range(lanes)]
    n = len(x)
    i = 0
    while n - i >= lanes * 4:
        for vector in (3, 2, 1, 0):
            for lane in range(lanes):
                value = x[i + vector * lanes + lane]
                accumulators[lane].append(Binary("mul", value, value))
        i += lanes * 4
    while i < n:
        for lane in range(lanes):
            if i + lane < n:  # the zero-filled tail adds +0.0, which changes nothing
                accumulators[lane].append(Binary("mul", x[i + lane], x[i + lane]))
        i += lanes
    lane_sums = [left_sum(a) for a in accumulators if a]
    total = lane_sums[0]
    for lane_sum in lane_sums[1:]:
        total = add(total, lane_sum)
    return total


def max_abs(x: list[Node]) -> Node:
    """``max(|x_i|)``; no NaN reaches it (rows with NaN are rejected)."""
    result = Unary("abs", x[0])
    for value in x[1:]:
        result = Binary("max", result, Unary("abs", value))
    return result


@lowers(Normalizer)
def lower_normalizer(normalizer: Any, columns: Columns, where: str) -> list[Column]:
    """Each feature divided by the row's l1 / l2 / max norm, computed in numpy's order."""
    if normalizer.norm not in ("l1", "l2", "max"):
        raise UnsupportedModelError(f"Normalizer norm={normalizer.norm!r}", where)
    if not columns:
        raise UnsupportedModelError("Normalizer over no features", where)
    x: list[Node] = []
    for column in columns:
        expr = column.as_double(where)
        require_finite(column, expr, where, allow_nan=False)
        x.append(expr)
    if normalizer.norm == "l1":
        norm = pairwise_sum([Unary("abs", v) for v in x])
    elif normalizer.norm == "l2":
        norm = Unary("sqrt", einsum_square_sum(x))
    else:
        norm = max_abs(x)
    tiny = float(10 * np.finfo(np.float64).eps)
    norm = IfElse(Compare("lt", norm, Const(tiny)), Const(1.0), norm)
    return [Column.of(column.name, Binary("div", v, norm)) for column, v in zip(columns, x)]


@lowers(Binarizer)
def lower_binarizer(binarizer: Any, columns: Columns, where: str) -> list[Column]:
    """1.0 where ``x > threshold`` else 0.0 (NaN and infinity reject the row, as sklearn raises)."""
    threshold = binarizer.threshold
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer)):
        raise UnsupportedModelError(f"Binarizer threshold={threshold!r}", where)
    value = float(np.float64(threshold))
    if value != threshold:
        raise UnsupportedModelError(f"Binarizer threshold={threshold!r} is not exactly a double", where)
    out: list[Column] = []
    for column in columns:
        x = column.as_double(where)
        require_finite(column, x, where, allow_nan=False)
        out.append(Column.of(column.name, Cast(Compare("gt", x, Const(value)), DOUBLE)))
    return out
