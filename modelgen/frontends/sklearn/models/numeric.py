"""scikit-learn's / numpy's / scipy's elementwise arithmetic, written as IR.

Each helper says which library code it reproduces and in which order it rounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns, require_finite
from modelgen.ir import STRING, ArgMax, Binary, Compare, Const, IfElse, Lookup, Node, Sum, Unary

_PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


def finite_features(columns: Columns, where: str) -> list[Node]:
    """The features as doubles, with scikit-learn's ``ensure_all_finite=True`` row checks."""
    features = []
    for column in columns:
        expr = column.as_double(where)
        require_finite(column, expr, where, allow_nan=False)
        features.append(expr)
    return features


def constants(values: object, where: str, what: str) -> list[float]:
    """A fitted 1-D float array as Python floats (refusing anything that is not real numbers)."""
    array = np.ravel(np.asarray(values))
    if array.dtype.kind not in "fiu":
        raise UnsupportedModelError(f"{what} of dtype {array.dtype}", where)
    return [float(v) for v in array]


def linear_predictor(features: Sequence[Node], coefficients: Sequence[float], intercept: float) -> Node:
    """``X @ coef + intercept`` for one row, summed left to right then the intercept.

    scikit-learn's dot product goes through BLAS, whose accumulation order (and FMA use)
    cannot be reproduced portably; the natural order is the documented approximation and
    is exact for one feature. Zero coefficients are kept: ``x * 0.0`` is NaN for an
    infinite x and -0.0 for a negative one, so dropping it can change bits.
    """
    if len(features) != len(coefficients):
        raise UnsupportedModelError(f"{len(coefficients)} coefficients for {len(features)} features")
    terms: list[Node] = [Binary("mul", x, Const(c)) for x, c in zip(features, coefficients)]
    return Sum((*terms, Const(intercept)))


def numpy_pairwise_sum(terms: Sequence[Node]) -> Node:
    """numpy's float64 ``sum`` over a contiguous axis (``pairwise_sum`` in loops_utils.h).

    Below 8 terms a plain left fold; up to 128, eight interleaved accumulators combined as
    ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`` then the remainder folded in; above, the range
    is split at a multiple of 8 near the middle and both halves summed that way.
    Iterative (explicit stack), so any width goes through.
    """
    if not terms:
        raise UnsupportedModelError("sum of no terms")
    results: dict[tuple[int, int], Node] = {}
    stack: list[tuple[int, int]] = [(0, len(terms))]
    while stack:
        lo, hi = stack[-1]
        n = hi - lo
        if n <= _PAIRWISE_BLOCK:
            results[(lo, hi)] = _pairwise_block(terms[lo:hi])
            stack.pop()
            continue
        half = n // 2
        half -= half % 8
        left, right = (lo, lo + half), (lo + half, hi)
        missing = [part for part in (left, right) if part not in results]
        if missing:
            stack.extend(missing)
            continue
        results[(lo, hi)] = Binary("add", results[left], results[right])
        stack.pop()
    return results[(0, len(terms))]


def _pairwise_block(terms: Sequence[Node]) -> Node:
    n = len(terms)
    if n == 1:
        return terms[0]
    if n < 8:
        return Sum(tuple(terms))
    whole = n - n % 8
    accumulators = []
    for j in range(8):
        lane = tuple(terms[i] for i in range(j, whole, 8))
        accumulators.append(lane[0] if len(lane) == 1 else Sum(lane))
    r = accumulators
    tree = Binary(
        "add",
        Binary("add", Binary("add", r[0], r[1]), Binary("add", r[2], r[3])),
        Binary("add", Binary("add", r[4], r[5]), Binary("add", r[6], r[7])),
    )
    rest = tuple(terms[whole:])
    return Sum((tree, *rest)) if rest else tree


def numpy_clip(x: Node, low: float, high: float, where: str) -> Node:
    """``numpy.clip(x, low, high)`` for float64 with scalar bounds.

    numpy 2.x's compiled clip behaves as NaN-propagating ``minimum(maximum(x, low), high)``
    keeping ``x`` on ties (so clip(-0.0, 0.0, 1.0) is -0.0), which is exactly the IR's
    ``max``/``min``; a truth-table test pins this against the installed numpy.
    """
    if math.isnan(low) or math.isnan(high):
        raise UnsupportedModelError(f"clip bounds ({low!r}, {high!r}) contain NaN", where)
    return Binary("min", Binary("max", x, Const(low)), Const(high))


def expit(x: Node) -> Node:
    """scipy.special.expit for double: ``1 / (1 + exp(-x))``."""
    return Binary("div", Const(1.0), Binary("add", Const(1.0), Unary("exp", Unary("neg", x))))


def softmax(scores: Sequence[Node]) -> list[Node]:
    """sklearn.utils.extmath.softmax on one row: subtract the row max, exp, numpy sum, divide."""
    row_max = scores[0]
    for score in scores[1:]:
        # np.max reduction propagates NaN; its choice between +0.0 and -0.0 cannot matter
        # because exp(x - (+-0)) is the same for every x
        row_max = Binary("max", row_max, score)
    exps = [Unary("exp", Binary("sub", s, row_max)) for s in scores]
    total = numpy_pairwise_sum(exps)
    return [Binary("div", e, total) for e in exps]


def normalize_rows_zero_uniform(values: Sequence[Node]) -> list[Node]:
    """Divide by the numpy row sum; a row summing to exactly 0 becomes uniform (1/k).

    This is ``_predict_proba_lr``'s OvR normalisation and SGD's modified-Huber one:
    ``prob[all_zero, :] = 1; prob_sum[all_zero] = k; prob /= prob_sum``.
    """
    total = numpy_pairwise_sum(values)
    all_zero = Compare("eq", total, Const(0.0))
    uniform = Const(1.0 / len(values))
    return [IfElse(all_zero, uniform, Binary("div", v, total)) for v in values]


def argmax_label(scores: Sequence[Node], classes: Sequence[str]) -> Node:
    """``classes_[argmax(scores)]`` with numpy's tie rule (first maximum, first NaN wins)."""
    return Lookup(ArgMax(tuple(scores)), tuple(classes), STRING)


def binary_label(score: Node, classes: Sequence[str]) -> Node:
    """``classes_[int(score > 0)]``: zero and NaN go to the first class."""
    return IfElse(Compare("gt", score, Const(0.0)), Const(classes[1], STRING), Const(classes[0], STRING))


def one_minus(x: Node) -> Node:
    """``1 - p`` as numpy computes it (one rounding)."""
    return Binary("sub", Const(1.0), x)


