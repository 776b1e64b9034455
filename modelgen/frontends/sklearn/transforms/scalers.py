"""Scalers: each ``transform`` reproduced operation by operation (float64, in sklearn's order).

Every scaler validates with ``ensure_all_finite='allow-nan'``: NaN flows through the
arithmetic as NaN, infinity makes scikit-learn raise, so the row is rejected here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, require_finite
from modelgen.frontends.sklearn.models.numeric import numpy_clip
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import Binary, Const, Node


def _per_feature(values: Any, columns: Columns, where: str, what: str) -> list[float]:
    array = np.ravel(np.asarray(values, dtype=np.float64))
    if len(array) != len(columns):
        raise UnsupportedModelError(f"{what} has {len(array)} entries for {len(columns)} input features", where)
    return [float(v) for v in array]


def _doubles(columns: Columns, where: str) -> list[Node]:
    out = []
    for column in columns:
        expr = column.as_double(where)
        require_finite(column, expr, where, allow_nan=True)
        out.append(expr)
    return out


@lowers(StandardScaler)
def lower_standard_scaler(scaler: Any, columns: Columns, where: str) -> list[Column]:
    """``X -= mean_; X /= scale_`` (a true division, never a reciprocal multiply)."""
    xs = _doubles(columns, where)
    if scaler.with_mean:
        means = _per_feature(scaler.mean_, columns, where, "mean_")
        xs = [Binary("sub", x, Const(m)) for x, m in zip(xs, means)]
    if scaler.with_std:
        scales = _per_feature(scaler.scale_, columns, where, "scale_")
        xs = [Binary("div", x, Const(s)) for x, s in zip(xs, scales)]
    return [Column.of(c.name, x) for c, x in zip(columns, xs)]


@lowers(MinMaxScaler)
def lower_min_max_scaler(scaler: Any, columns: Columns, where: str) -> list[Column]:
    """``X *= scale_; X += min_``, then ``np.clip(X, *feature_range)`` when ``clip=True``."""
    xs = _doubles(columns, where)
    scales = _per_feature(scaler.scale_, columns, where, "scale_")
    minimums = _per_feature(scaler.min_, columns, where, "min_")
    out = [Binary("add", Binary("mul", x, Const(s)), Const(m)) for x, s, m in zip(xs, scales, minimums)]
    if scaler.clip:
        low, high = (float(v) for v in scaler.feature_range)
        out = [numpy_clip(x, low, high, where) for x in out]
    return [Column.of(c.name, x) for c, x in zip(columns, out)]


@lowers(MaxAbsScaler)
def lower_max_abs_scaler(scaler: Any, columns: Columns, where: str) -> list[Column]:
    """``X /= scale_``, then ``np.clip(X, -1.0, 1.0)`` when ``clip=True``."""
    xs = _doubles(columns, where)
    scales = _per_feature(scaler.scale_, columns, where, "scale_")
    out: list[Node] = [Binary("div", x, Const(s)) for x, s in zip(xs, scales)]
    if getattr(scaler, "clip", False):
        out = [numpy_clip(x, -1.0, 1.0, where) for x in out]
    return [Column.of(c.name, x) for c, x in zip(columns, out)]


@lowers(RobustScaler)
def lower_robust_scaler(scaler: Any, columns: Columns, where: str) -> list[Column]:
    """``X -= center_; X /= scale_``, each only when enabled."""
    xs = _doubles(columns, where)
    if scaler.with_centering:
        centers = _per_feature(scaler.center_, columns, where, "center_")
        xs = [Binary("sub", x, Const(m)) for x, m in zip(xs, centers)]
    if scaler.with_scaling:
        scales = _per_feature(scaler.scale_, columns, where, "scale_")
        xs = [Binary("div", x, Const(s)) for x, s in zip(xs, scales)]
    return [Column.of(c.name, x) for c, x in zip(columns, xs)]
