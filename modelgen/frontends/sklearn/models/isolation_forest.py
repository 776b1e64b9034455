"""``IsolationForest``: ``score_samples``, ``decision_function`` and ``predict`` (``sklearn.ensemble._iforest``).

``_compute_score_samples`` (per row; chunking over rows does not change a row's arithmetic):
``depths = 0.0``, then per tree in ``estimators_`` order
``depths += (node_depth[leaf] + average_path_length(n_node_samples)[leaf]) - 1.0`` (a
per-leaf constant); ``scores = 2 ** -(depths / (n_trees * average_path_length(max_samples)))``
(1 where that denominator is 0); ``score_samples = -scores``; ``decision_function =
score_samples - offset_``; ``predict = -1 where decision < 0 else 1``. Input validation uses
``ensure_all_finite=False``: NaN and infinities are scored, never refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.models.forests import forest_trees
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.models.trees import float32_features, tree_routing
from modelgen.frontends.sklearn.outputs import OutlierOutputs
from modelgen.ir import STRING, Binary, Compare, Const, IfElse, Node, Sum, Unary


def _tree_features(estimator: Any, features: list[Node], index: int, where: str) -> list[Node]:
    # _compute_chunked_score_samples subsets X only when _max_features differs from the
    # width of X, whatever estimators_features_ says (as predict does, not as fit did)
    if int(estimator._max_features) == len(features):
        return features
    subset = [int(f) for f in estimator.estimators_features_[index]]
    if any(not 0 <= f < len(features) for f in subset):
        raise UnsupportedModelError(f"estimators_features_[{index}] out of range", where)
    return [features[f] for f in subset]


@lowers_model(IsolationForest)
def lower_isolation_forest(estimator: Any, columns: Columns, where: str) -> OutlierOutputs:
    """The anomaly score with scikit-learn's exact order of operations (see the module docstring)."""
    trees = forest_trees(estimator, where)
    features = float32_features(columns, where, allow_nan=True, check_finite=False)
    depth_terms: list[Node] = [Const(0.0)]
    for i, tree in enumerate(trees):
        tree_where = f"{where} > estimators_[{i}]"
        routing = tree_routing(tree.tree_, _tree_features(estimator, features, i, tree_where), tree_where)
        node_depths = np.asarray(estimator._decision_path_lengths[i])
        path_lengths = np.asarray(estimator._average_path_length_per_tree[i], dtype=np.float64)
        # numpy's order: (depth + average path length) - 1.0, in float64
        depth_terms.append(routing.values(node_depths + path_lengths - 1.0))
    depths = Sum(tuple(depth_terms))
    denominator = float((len(trees) * _average_path_length([estimator._max_samples]))[0])
    ratio = Binary("div", depths, Const(denominator)) if denominator != 0 else Const(1.0)
    scores = Binary("pow", Const(2.0), Unary("neg", ratio))
    score_samples = Unary("neg", scores)
    decision = Binary("sub", score_samples, Const(float(estimator.offset_)))
    label = IfElse(Compare("lt", decision, Const(0.0)), Const("-1", STRING), Const("1", STRING))
    return OutlierOutputs(label, score_samples, decision)
