"""Single decision trees (``sklearn.tree``) and the routing every tree ensemble shares.

scikit-learn validates ``X`` to float32 and ``Tree.apply`` walks ``X[i, f] <= threshold``
(float32 promoted to double against a double threshold); NaN follows the node's stored
``missing_go_to_left``. So a feature is ``Cast(Cast(x, float32), double)`` and each fitted
node becomes a ``Split(.., "le", threshold, missing_go_to_left, ..)``; the pass
``float32_thresholds`` later moves the thresholds so targets need no float32 arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns, add_row_check
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.outputs import (
    ClassifierOutputs,
    MultiOutputRegressorOutputs,
    RegressorOutputs,
    class_strings,
)
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    Cast,
    Compare,
    Const,
    IsMissing,
    Lookup,
    Node,
    Or,
    Split,
    TreeLeaf,
    Unary,
)
from modelgen.passes.float32_thresholds import FLOAT32_OVERFLOW_BOUNDARY

_TREE_LEAF = -1  # sklearn.tree._tree.TREE_LEAF


def float32_features(columns: Columns, where: str, *, allow_nan: bool, check_finite: bool = True) -> list[Node]:
    """The features as scikit-learn's trees see them: ``double(float32(x))``.

    With ``check_finite`` a row is rejected as ``validate_data(dtype=np.float32)`` rejects it:
    a value that is infinite after the cast to float32 (|x| >= the float32 overflow boundary),
    and NaN unless ``allow_nan``. Every column is checked, also those no split reads.
    """
    features: list[Node] = []
    for column in columns:
        x = column.as_double(where)
        if check_finite:
            fits = Compare("lt", Unary("abs", x), Const(FLOAT32_OVERFLOW_BOUNDARY))
            if allow_nan:
                add_row_check(Or((IsMissing(x), fits)), f"feature {column.name!r} is infinite as a float32", where)
            else:
                add_row_check(fits, f"feature {column.name!r} is missing or infinite as a float32", where)
        features.append(Cast(Cast(x, FLOAT32), DOUBLE))
    return features


def allows_missing(tree_estimator: Any) -> bool:
    """Whether predict accepts NaN: ``BaseDecisionTree._support_missing_values`` for dense X."""
    return bool(tree_estimator.__sklearn_tags__().input_tags.allow_nan)


@dataclass(frozen=True)
class Routing:
    """One fitted ``Tree``: its routing node (None for a single-leaf tree) and its leaves' node ids."""

    leaf: Node | None
    leaf_nodes: tuple[int, ...]

    def values(self, per_node: np.ndarray) -> Node:
        """``per_node[leaf]``: the value table of the leaves, indexed by the routing (a constant for one leaf)."""
        values: list[float] = np.asarray(per_node, dtype=np.float64)[list(self.leaf_nodes)].tolist()
        if self.leaf is None:
            return Const(values[0])
        return Lookup(self.leaf, tuple(values), DOUBLE)

    def labels(self, per_node: Sequence[str]) -> Node:
        """A string per leaf (a single tree's predicted class)."""
        labels = tuple(per_node[n] for n in self.leaf_nodes)
        if self.leaf is None:
            return Const(labels[0], STRING)
        return Lookup(self.leaf, labels, STRING)


def tree_routing(tree: Any, features: Sequence[Node], where: str) -> Routing:
    """The ``TreeLeaf`` of a fitted ``sklearn.tree._tree.Tree`` over ``features`` (by tree feature index).

    Internal nodes become splits in node-id order (the root, node 0, is split 0); leaves are
    numbered in node-id order. Only the features some split reads are passed to the node.
    """
    missing = getattr(tree, "missing_go_to_left", None)
    if missing is None:
        raise UnsupportedModelError("a tree without missing_go_to_left (pickled by scikit-learn < 1.3)", where)
    # whole columns with numpy, then plain lists: per-node Python work dominates a 1,000-tree forest
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    is_leaf = left == _TREE_LEAF
    internal = np.flatnonzero(~is_leaf)
    leaves = np.flatnonzero(is_leaf)
    if internal.size == 0:
        return Routing(None, tuple(leaves.tolist()))
    # a child reference: the split index of an internal node, -1 - leaf number of a leaf
    ref = np.empty(left.shape[0], dtype=np.int64)
    ref[internal] = np.arange(internal.size)
    ref[leaves] = -1 - np.arange(leaves.size)
    feature = np.asarray(tree.feature, dtype=np.int64)[internal]
    used = np.unique(feature)
    if used[0] < 0 or used[-1] >= len(features):
        raise UnsupportedModelError(f"a split on feature {int(used[-1])} of {len(features)}", where)
    columns = zip(
        np.searchsorted(used, feature).tolist(),
        repeat("le"),
        np.asarray(tree.threshold, dtype=np.float64)[internal].tolist(),
        np.asarray(missing, dtype=bool)[internal].tolist(),
        ref[left[internal]].tolist(),
        ref[right[internal]].tolist(),
    )
    # Split rows straight from the columns (tuple.__new__ skips the namedtuple's Python __new__)
    splits = tuple(map(tuple.__new__, repeat(Split), columns))
    return Routing(TreeLeaf(tuple(features[f] for f in used.tolist()), splits), tuple(leaves.tolist()))


def classes_of(estimator: Any, where: str) -> tuple[str, ...]:
    """The class strings of a single-output classifier (multi-output ones are refused)."""
    if int(getattr(estimator, "n_outputs_", 1)) != 1:
        raise UnsupportedModelError(f"multi-output {type(estimator).__name__}", where)
    return class_strings(list(estimator.classes_), where)


def class_values(tree: Any, n_classes: int, where: str) -> np.ndarray:
    """``tree_.value[:, 0, :n_classes]``: what ``predict_proba`` returns per node (fractions since 1.4)."""
    value = np.asarray(tree.value, dtype=np.float64)
    if value.ndim != 3 or value.shape[1] != 1 or value.shape[2] < n_classes:
        raise UnsupportedModelError(f"tree value table of shape {value.shape} for {n_classes} classes", where)
    return value[:, 0, :n_classes]


def regression_values(tree: Any, where: str) -> np.ndarray:
    """``tree_.value[:, :, 0]``: one column per target."""
    value = np.asarray(tree.value, dtype=np.float64)
    if value.ndim != 3 or value.shape[2] != 1:
        raise UnsupportedModelError(f"regression tree value table of shape {value.shape}", where)
    return value[:, :, 0]


def regressor_outputs(predictions: Sequence[Node]) -> RegressorOutputs | MultiOutputRegressorOutputs:
    """One target: ``prediction``; several: ``prediction_0, ...``."""
    if len(predictions) == 1:
        return RegressorOutputs(predictions[0])
    return MultiOutputRegressorOutputs(tuple(predictions))


@lowers_model(DecisionTreeClassifier, ExtraTreeClassifier)
def lower_tree_classifier(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """``predict_proba`` = the leaf's stored class fractions; ``predict`` = the class of their first maximum."""
    classes = classes_of(estimator, where)
    features = float32_features(columns, where, allow_nan=allows_missing(estimator))
    routing = tree_routing(estimator.tree_, features, where)
    fractions = class_values(estimator.tree_, len(classes), where)
    probabilities = tuple(routing.values(fractions[:, k]) for k in range(len(classes)))
    # predict is classes_.take(argmax(proba)): a fixed class per leaf, numpy's first-maximum rule
    labels = [classes[int(np.argmax(np.asarray(tree_row)))] for tree_row in np.asarray(estimator.tree_.value)[:, 0, :]]
    return ClassifierOutputs(classes, routing.labels(labels), probabilities)


@lowers_model(DecisionTreeRegressor, ExtraTreeRegressor)
def lower_tree_regressor(
    estimator: Any, columns: Columns, where: str
) -> RegressorOutputs | MultiOutputRegressorOutputs:
    """``predict`` = the leaf's stored value per target."""
    features = float32_features(columns, where, allow_nan=allows_missing(estimator))
    routing = tree_routing(estimator.tree_, features, where)
    values = regression_values(estimator.tree_, where)
    return regressor_outputs([routing.values(values[:, k]) for k in range(values.shape[1])])
