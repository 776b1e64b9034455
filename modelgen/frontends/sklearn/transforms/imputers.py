"""SimpleImputer: ``IfElse(<x is the missing value>, statistic, x)`` per kept feature, then indicators.

Replays scikit-learn 1.9.1 ``SimpleImputer.transform``: the mask is ``_get_mask(X,
missing_values)`` (``isnan`` for NaN, ``==`` otherwise); features whose statistic is NaN
are dropped unless ``keep_empty_features``; the statistics are cast to ``_fill_dtype``;
``add_indicator`` appends one 1.0/0.0 column per ``indicator_.features_`` (the features
that had missing values at fit), after the imputed ones.

Types: a numeric fit (``_fit_dtype`` not object) reads every feature as a double. An
object fit reads a feature as a string when its statistic is a string, as a double when it
is a number. A string input's missing value (None in the IR) stands for the imputer's
``missing_values`` when that is None or NaN. Rows scikit-learn's validation refuses
(infinity; NaN when ``missing_values`` is not NaN) are rejected by row checks. In an
object fit the indicator columns are Python bools in scikit-learn; here they are 1.0/0.0.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.utils._mask import _get_mask

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, add_row_check, require_finite
from modelgen.frontends.sklearn.transforms.encoders import output_names
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import DOUBLE, STRING, And, Cast, Compare, Const, IfElse, IsMissing, Node, Not


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _reads_string(column: Column, statistic: Any, object_fit: bool, keep_empty: bool, where: str) -> bool:
    if not object_fit:
        return False
    if isinstance(statistic, str):
        return True
    if column.expr is not None:
        return column.expr.dtype is STRING
    if isinstance(statistic, numbers.Real) and not isinstance(statistic, bool) and not _is_nan(statistic):
        if keep_empty:
            # the 0 filled into an object feature empty at fit cannot be told from a numeric statistic
            raise UnsupportedModelError(
                f"SimpleImputer keep_empty_features=True with a numeric statistic {statistic!r} "
                f"on an object (string) fit, feature {column.name!r}",
                where,
            )
        return False
    # an object-fit feature dropped for having no values: strings are what object fits hold
    return True


def _missing_mask(x: Node, missing_values: Any, where: str) -> Node:
    """``_get_dense_mask`` for one feature read as ``x``."""
    if missing_values is None or _is_nan(missing_values):
        if x.dtype is STRING or _is_nan(missing_values):
            return IsMissing(x)
        return Const(False)  # a NaN in a numeric object column is not None
    if isinstance(missing_values, str):
        if x.dtype is STRING:
            return And((Not(IsMissing(x)), Compare("eq", x, Const(missing_values))))
        return Const(False)
    if isinstance(missing_values, numbers.Real) and not isinstance(missing_values, bool):
        if x.dtype is STRING:
            return Const(False)
        value = float(missing_values)
        if value != missing_values:
            raise UnsupportedModelError(f"SimpleImputer missing_values={missing_values!r} (not a double)", where)
        return Compare("eq", x, Const(value))
    raise UnsupportedModelError(f"SimpleImputer missing_values={missing_values!r}", where)


def _fill(statistic: Any, x: Node, where: str) -> Node:
    if x.dtype is STRING:
        if not isinstance(statistic, str):
            raise UnsupportedModelError(f"SimpleImputer statistic {statistic!r} for a string feature", where)
        return Const(statistic)
    if isinstance(statistic, bool) or not isinstance(statistic, numbers.Real) or float(statistic) != statistic:
        if not _is_nan(statistic):
            raise UnsupportedModelError(f"SimpleImputer statistic {statistic!r} for a numeric feature", where)
    return Const(float(statistic))


@lowers(SimpleImputer)
def lower_simple_imputer(imputer: Any, columns: Columns, where: str) -> list[Column]:
    """Imputed features (minus the dropped ones), then the missing indicators, as sklearn orders them."""
    statistics = imputer.statistics_
    if len(columns) != len(statistics):
        raise UnsupportedModelError(
            f"SimpleImputer fitted on {len(statistics)} features receives {len(columns)}", where
        )
    missing_values = imputer.missing_values
    object_fit = imputer._fit_dtype.kind == "O"
    if not (missing_values is None or isinstance(missing_values, (numbers.Real, str))):
        raise UnsupportedModelError(f"SimpleImputer missing_values={missing_values!r}", where)
    # check_array's ensure_all_finite is 'allow-nan' only when NaN is the missing value
    allow_nan = _is_nan(missing_values)

    if imputer.keep_empty_features:
        kept = list(range(len(statistics)))
    else:
        kept = [int(i) for i in np.flatnonzero(np.logical_not(_get_mask(statistics, np.nan)))]
    fills = [v.item() if hasattr(v, "item") else v for v in statistics[kept].astype(imputer._fill_dtype, copy=False)]

    masks: list[Node] = []
    values: list[Node] = []
    for i, column in enumerate(columns):
        if _reads_string(column, statistics[i], object_fit, imputer.keep_empty_features, where):
            x = column.as_string(where)
        else:
            x = column.as_double(where)
            if not object_fit:
                require_finite(column, x, where, allow_nan=allow_nan)
            elif not allow_nan:
                # check_array on an object array only refuses NaN (when NaN is not the missing value)
                add_row_check(Not(IsMissing(x)), f"feature {column.name!r} is missing", where)
        masks.append(_missing_mask(x, missing_values, where))
        values.append(x)

    exprs: list[Node] = []
    for fill, i in zip(fills, kept):
        exprs.append(IfElse(masks[i], _fill(fill, values[i], where), values[i]))
    if imputer.add_indicator:
        exprs.extend(Cast(masks[int(i)], DOUBLE) for i in imputer.indicator_.features_)
    names = output_names(imputer, len(exprs), where)
    return [Column.of(name, expr) for name, expr in zip(names, exprs)]
