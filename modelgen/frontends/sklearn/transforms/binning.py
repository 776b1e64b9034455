"""KBinsDiscretizer: ``np.searchsorted(bin_edges[1:-1], x, side="right")`` as a compare chain.

scikit-learn 1.9.1 ``KBinsDiscretizer.transform`` validates X (NaN and infinity raise,
so they reject the row here), then for each feature counts the inner edges ``e <= x``
(``searchsorted`` side='right' on sorted edges; ``-0.0`` equals ``0.0``). Every strategy
(uniform, quantile, kmeans) ends in ``bin_edges_``, so the strategy does not matter here.
'ordinal' outputs the bin index; 'onehot-dense' and 'onehot' (sparse, same values) output
one 1.0/0.0 column per bin, which is what the internal OneHotEncoder over
``arange(n_bins)`` produces.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from sklearn.preprocessing import KBinsDiscretizer

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, require_finite
from modelgen.frontends.sklearn.transforms.encoders import output_names
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import DOUBLE, Cast, Compare, Const, IfElse, Node


def bin_index(x: Node, inner_edges: list[float]) -> Node:
    """``searchsorted(inner_edges, x, side='right')`` as a double, for sorted edges and finite x."""
    expr: Node = Const(0.0)
    # the outermost test is the highest edge: the first edge <= x from the top gives the count
    for k, edge in enumerate(inner_edges):
        expr = IfElse(Compare("ge", x, Const(edge)), Const(float(k + 1)), expr)
    return expr


@lowers(KBinsDiscretizer)
def lower_kbins_discretizer(discretizer: Any, columns: Columns, where: str) -> list[Column]:
    """Bin index per feature ('ordinal') or one indicator per bin ('onehot', 'onehot-dense')."""
    if discretizer.dtype not in (None, np.float64):
        raise UnsupportedModelError(f"KBinsDiscretizer dtype={discretizer.dtype!r}", where)
    if discretizer.encode not in ("ordinal", "onehot", "onehot-dense"):
        raise UnsupportedModelError(f"KBinsDiscretizer encode={discretizer.encode!r}", where)
    edges_per_feature = discretizer.bin_edges_
    if len(columns) != len(edges_per_feature):
        raise UnsupportedModelError(
            f"KBinsDiscretizer fitted on {len(edges_per_feature)} features receives {len(columns)}", where
        )
    exprs: list[Node] = []
    for j, column in enumerate(columns):
        inner = [float(e) for e in np.asarray(edges_per_feature[j], dtype=np.float64)[1:-1]]
        if any(math.isnan(e) for e in inner) or any(b < a for a, b in itertools.pairwise(inner)):
            raise UnsupportedModelError(f"KBinsDiscretizer bin_edges_[{j}] are not sorted numbers", where)
        x = column.as_double(where)
        require_finite(column, x, where, allow_nan=False)
        index = bin_index(x, inner)
        if discretizer.encode == "ordinal":
            exprs.append(index)
        else:
            n_bins = int(discretizer.n_bins_[j])
            exprs.extend(Cast(Compare("eq", index, Const(float(k))), DOUBLE) for k in range(n_bins))
    names = output_names(discretizer, len(exprs), where)
    return [Column.of(name, expr) for name, expr in zip(names, exprs)]
