"""FunctionTransformer with a numpy ufunc from a short list, or the identity.

``transform`` is ``func(X)`` elementwise (``inverse_func``/``check_inverse`` only matter
for ``inverse_transform`` and fit). ``validate=True`` runs ``check_array`` with
``ensure_all_finite=True``, so NaN and infinity reject the row; with ``validate=False``
they flow through the function. The IR's ``log``/``exp``/... are libm's (glibc) functions;
numpy 2.4 on x86-64 without AVX-512 calls the same libm for float64, which the tests check
bit for bit on this machine (an AVX-512 numpy build uses its own SIMD exp/log: not exact).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import FunctionTransformer

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, require_finite
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import Node, Unary

UFUNCS: dict[Any, str] = {
    np.log: "log",
    np.log1p: "log1p",
    np.exp: "exp",
    np.expm1: "expm1",
    np.sqrt: "sqrt",
}
"""The numpy functions a FunctionTransformer may apply, with their IR ``Unary`` op."""


def _describe(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


@lowers(FunctionTransformer)
def lower_function_transformer(transformer: Any, columns: Columns, where: str) -> list[Column]:
    """``func`` applied to every column; ``func=None`` passes the columns through unchanged."""
    func = transformer.func
    if transformer.kw_args:
        raise UnsupportedModelError(f"FunctionTransformer kw_args={transformer.kw_args!r}", where)
    if func is not None and not any(func is known for known in UFUNCS):
        raise UnsupportedModelError(f"FunctionTransformer func={_describe(func)}", where)
    if func is None and not transformer.validate:
        return list(columns)
    out: list[Column] = []
    for column in columns:
        x: Node = column.as_double(where)
        if transformer.validate:
            require_finite(column, x, where, allow_nan=False)
        if func is not None:
            x = Unary(next(op for known, op in UFUNCS.items() if func is known), x)
        out.append(Column.of(column.name, x))
    return out
