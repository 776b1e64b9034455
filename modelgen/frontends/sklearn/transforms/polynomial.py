"""PolynomialFeatures: the dense ``transform`` loop replayed on expressions, column for column.

scikit-learn 1.9.1 fills ``XP`` left to right: the bias, then X, then for each degree d
and feature f the block ``XP[:, start:end] * X[:, f]`` (``np.multiply``, one rounding per
product) where ``XP[:, start:end]`` are the degree d-1 terms from feature f on (from
f+1 with ``interaction_only``). Each output is therefore one specific product
``previous_column * x_f``; the replay below builds exactly those. With a minimum degree
the low-degree columns are cut out afterwards, keeping the bias. Validation refuses NaN
and infinity, so such rows are rejected.
"""

from __future__ import annotations

from typing import Any

from sklearn.preprocessing import PolynomialFeatures

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, require_finite
from modelgen.frontends.sklearn.transforms.encoders import output_names
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import Binary, Const, Node

MAX_OUTPUTS = 100_000
"""A bound on generated columns, so a typo'd degree fails clearly instead of exhausting memory."""


def polynomial_columns(x: list[Node], max_degree: int, include_bias: bool, interaction_only: bool) -> list[Node]:
    """The full ``XP`` (before the minimum-degree cut) as expressions, in scikit-learn's order."""
    n_features = len(x)
    xp: list[Node] = [Const(1.0)] if include_bias else []
    if max_degree == 0:
        return xp
    current = len(xp)
    xp.extend(x)
    index = [*range(current, current + n_features), current + n_features]
    current += n_features
    for _ in range(2, max_degree + 1):
        new_index: list[int] = []
        end = index[-1]
        for feature in range(n_features):
            start = index[feature]
            new_index.append(current)
            if interaction_only:
                start += index[feature + 1] - index[feature]
            next_col = current + end - start
            if next_col <= current:
                break
            xp.extend(Binary("mul", xp[c], x[feature]) for c in range(start, end))
            current = next_col
        new_index.append(current)
        index = new_index
    return xp


@lowers(PolynomialFeatures)
def lower_polynomial_features(transformer: Any, columns: Columns, where: str) -> list[Column]:
    """Every monomial column, as the same left-to-right products scikit-learn computes."""
    if transformer.n_output_features_ > MAX_OUTPUTS or transformer._n_out_full > MAX_OUTPUTS:
        raise UnsupportedModelError(
            f"PolynomialFeatures with {transformer._n_out_full} output columns (limit {MAX_OUTPUTS})", where
        )
    if len(columns) != transformer.n_features_in_:
        raise UnsupportedModelError(
            f"PolynomialFeatures fitted on {transformer.n_features_in_} features receives {len(columns)}", where
        )
    x: list[Node] = []
    for column in columns:
        expr = column.as_double(where)
        require_finite(column, expr, where, allow_nan=False)
        x.append(expr)
    xp = polynomial_columns(x, transformer._max_degree, transformer.include_bias, transformer.interaction_only)
    if len(xp) != transformer._n_out_full:  # pragma: no cover - a replay bug, not a user error
        raise UnsupportedModelError(f"PolynomialFeatures replay gave {len(xp)} != {transformer._n_out_full}", where)
    if transformer._min_degree > 1:
        n_out = transformer.n_output_features_
        xp = [Const(1.0), *xp[len(xp) - n_out + 1 :]] if transformer.include_bias else xp[len(xp) - n_out :]
    names = output_names(transformer, len(xp), where)
    return [Column.of(name, expr) for name, expr in zip(names, xp)]
