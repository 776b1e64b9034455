"""Random forests and extra-trees: the mean of the trees' outputs, as ``sklearn.ensemble._forest`` sums it.

``predict`` / ``predict_proba`` start from ``np.zeros``, add each tree's output in
``estimators_`` order (``_accumulate_prediction``: ``out += prediction``), then divide by the
number of trees (``/= len(estimators_)``). So each output is
``Sum((0.0, tree_1, ..., tree_n)) / n``: the leading ``0.0 +`` turns a first ``-0.0`` into
``+0.0`` as numpy does. (A forest whose ``n_jobs`` is not 1 adds the trees from worker
threads in completion order, which no scorer can reproduce; tree order is what one job does.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.models.numeric import argmax_label
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.models.trees import (
    allows_missing,
    class_values,
    classes_of,
    float32_features,
    regression_values,
    regressor_outputs,
    tree_routing,
)
from modelgen.frontends.sklearn.outputs import ClassifierOutputs, MultiOutputRegressorOutputs, RegressorOutputs
from modelgen.ir import STRING, Binary, Const, Node, Sum


def forest_mean(per_tree: Sequence[Node]) -> Node:
    """``(0.0 + t_1 + ... + t_n) / n``, left to right, as the forest's accumulator computes it."""
    return Binary("div", Sum((Const(0.0), *per_tree)), Const(float(len(per_tree))))


def forest_trees(estimator: Any, where: str) -> list[Any]:
    """The fitted trees of a forest, in order (an empty forest is refused)."""
    trees = list(estimator.estimators_)
    if not trees:
        raise UnsupportedModelError(f"{type(estimator).__name__} without trees", where)
    return trees


@lowers_model(RandomForestClassifier, ExtraTreesClassifier)
def lower_forest_classifier(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """``predict_proba``: mean of the trees' leaf fractions; ``predict``: class of the first maximum."""
    classes = classes_of(estimator, where)
    trees = forest_trees(estimator, where)
    features = float32_features(columns, where, allow_nan=allows_missing(trees[0]))
    per_class: list[list[Node]] = [[] for _ in classes]
    for i, tree in enumerate(trees):
        tree_where = f"{where} > estimators_[{i}]"
        routing = tree_routing(tree.tree_, features, tree_where)
        fractions = class_values(tree.tree_, len(classes), tree_where)
        for k in range(len(classes)):
            per_class[k].append(routing.values(fractions[:, k]))
    probabilities = tuple(forest_mean(terms) for terms in per_class)
    label = argmax_label(probabilities, classes) if len(classes) > 1 else Const(classes[0], STRING)
    return ClassifierOutputs(classes, label, probabilities)


@lowers_model(RandomForestRegressor, ExtraTreesRegressor)
def lower_forest_regressor(
    estimator: Any, columns: Columns, where: str
) -> RegressorOutputs | MultiOutputRegressorOutputs:
    """``predict``: mean of the trees' leaf values, per target."""
    trees = forest_trees(estimator, where)
    features = float32_features(columns, where, allow_nan=allows_missing(trees[0]))
    per_output: list[list[Node]] = [[] for _ in range(int(estimator.n_outputs_))]
    for i, tree in enumerate(trees):
        tree_where = f"{where} > estimators_[{i}]"
        routing = tree_routing(tree.tree_, features, tree_where)
        values = regression_values(tree.tree_, tree_where)
        if values.shape[1] != len(per_output):
            raise UnsupportedModelError(f"a tree with {values.shape[1]} of {len(per_output)} targets", tree_where)
        for k in range(values.shape[1]):
            per_output[k].append(routing.values(values[:, k]))
    return regressor_outputs([forest_mean(terms) for terms in per_output])
