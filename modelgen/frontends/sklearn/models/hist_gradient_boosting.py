"""HistGradientBoostingClassifier / HistGradientBoostingRegressor (scikit-learn 1.9).

``_raw_predict`` starts from ``zeros + _baseline_prediction`` and adds, iteration by
iteration and class by class, ``TreePredictor.predict`` of the raw float64 features (no
float32 cast: ``_predictor.pyx`` compares ``X_DTYPE_C`` = float64 with
``num_threshold``). Leaf ``value``s already carry the learning rate (the grower shrinks
them when it finalises a leaf). The loss's link maps the raw score to the outputs.

Categorical features: with ``is_categorical_`` set, ``_preprocess_X`` runs a
``ColumnTransformer`` that ordinal-encodes the categorical columns (placed first, in
input order) and passes the numerical ones through (after them, in input order). The
``OrdinalEncoder`` has ``handle_unknown='use_encoded_value', unknown_value=nan``: a value
not seen in training (unseen, negative, >= 256, non-integer, ...) becomes NaN, exactly like
a missing value, and infinity is refused (``ensure_all_finite='allow-nan'``). The trees
then see codes ``0..n-1`` or NaN, so a categorical split sends a known category left when
its code's bit is set in ``raw_left_cat_bitsets``, right when it is not, and everything
else (missing or unknown) to the missing side. That is written on the raw values:
``in <left categories>`` when missing goes right, ``notin <right categories>`` when it
goes left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn._loss.link import IdentityLink, LogLink
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.preprocessing import OrdinalEncoder

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, require_finite
from modelgen.frontends.sklearn.models.numeric import argmax_label, binary_label, expit, one_minus
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.outputs import ClassifierOutputs, RegressorOutputs, class_strings
from modelgen.ir import DOUBLE, Binary, Const, Lookup, Node, Split, Sum, TreeLeaf, Unary, leaf_ref
from modelgen.ir.nodes import ConstValue

_BITSET_WORDS = 8  # a categorical split's bitset: 8 uint32 words, codes 0..255


@dataclass(frozen=True)
class TreeFeatures:
    """The trees' feature vector (remapped order) and, per feature, its known categories or None."""

    exprs: tuple[Node, ...]
    categories: tuple[tuple[ConstValue, ...] | None, ...]


def tree_features(estimator: Any, columns: Columns, where: str) -> TreeFeatures:
    """The features in the order the trees index them, typed by how the model reads them."""
    n_features = int(estimator.n_features_in_)
    if len(columns) != n_features:
        raise UnsupportedModelError(f"{len(columns)} features for a model fitted on {n_features}", where)
    is_categorical = getattr(estimator, "is_categorical_", None)
    if is_categorical is None:
        # no preprocessor: validate_data(dtype=float64, ensure_all_finite=False), so NaN and
        # +-inf reach the trees as they are
        return TreeFeatures(tuple(c.as_double(where) for c in columns), (None,) * n_features)
    mask = np.asarray(is_categorical, dtype=bool)
    categorical = [int(i) for i in np.flatnonzero(mask)]
    numerical = [int(i) for i in np.flatnonzero(~mask)]
    encoder = _encoder(estimator, len(categorical), where)
    exprs: list[Node] = []
    known: list[tuple[ConstValue, ...] | None] = []
    for position, (index, categories) in enumerate(zip(categorical, encoder.categories_)):
        expr, values = _categorical_feature(columns[index], categories, where)
        thresholds = np.asarray(estimator._bin_mapper.bin_thresholds_[position])
        if not np.array_equal(thresholds, np.arange(len(values), dtype=np.float64)):
            raise UnsupportedModelError(
                f"categorical feature {columns[index].name!r}: binned categories {thresholds.tolist()!r} "
                f"are not the codes of its {len(values)} encoder categories",
                where,
            )
        exprs.append(expr)
        known.append(values)
    for index in numerical:
        exprs.append(columns[index].as_double(where))
        known.append(None)
    return TreeFeatures(tuple(exprs), tuple(known))


def _encoder(estimator: Any, n_categorical: int, where: str) -> OrdinalEncoder:
    preprocessor = estimator._preprocessor
    encoder = preprocessor.named_transformers_["encoder"]
    # the configuration _preprocess_X builds; anything else would route unknowns differently
    if (
        type(encoder) is not OrdinalEncoder
        or encoder.handle_unknown != "use_encoded_value"
        or not _is_nan(encoder.unknown_value)
        or not _is_nan(encoder.encoded_missing_value)
        or preprocessor.output_indices_["encoder"] != slice(0, n_categorical)
        or len(encoder.categories_) != n_categorical
    ):
        raise UnsupportedModelError("a categorical preprocessor unlike scikit-learn 1.9's own", where)
    return encoder


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _categorical_feature(column: Column, categories: Any, where: str) -> tuple[Node, tuple[ConstValue, ...]]:
    """The raw feature of one categorical column and its known categories (code i = item i)."""
    values = list(np.asarray(categories))
    # OrdinalEncoder lists NaN last when training had missing values; _check_categories drops it
    if values and _is_nan_like(values[-1]):
        values = values[:-1]
    kind = np.asarray(categories).dtype.kind
    if kind in "fiu":
        doubles = []
        for value in values:
            as_float = float(value)
            if as_float != value or not math.isfinite(as_float):
                raise UnsupportedModelError(f"category {value!r} of {column.name!r} is not a finite double", where)
            doubles.append(as_float)
        expr = column.as_double(where)
        # the encoder's transform validates with ensure_all_finite='allow-nan'
        require_finite(column, expr, where, allow_nan=True)
        return expr, tuple(doubles)
    if kind == "O" and all(isinstance(v, str) for v in values):
        return column.as_string(where), tuple(str(v) for v in values)
    raise UnsupportedModelError(
        f"categories of {column.name!r} are neither all numbers nor all strings: {values!r}", where
    )


def _is_nan_like(value: Any) -> bool:
    return value is not None and not isinstance(value, str) and bool(np.isnan(value))


def lower_tree(predictor: Any, features: TreeFeatures, where: str) -> Node:
    """One ``TreePredictor`` as ``Lookup(TreeLeaf, leaf values)``; a single leaf is its constant."""
    nodes = predictor.nodes
    # whole columns as plain lists: numpy record access per node dominates a 1,000-tree model
    is_leaf: list[bool] = nodes["is_leaf"].astype(bool).tolist()
    value: list[float] = nodes["value"].astype(np.float64).tolist()
    if is_leaf[0]:
        return Const(value[0])
    left_of: list[int] = nodes["left"].astype(np.int64).tolist()
    right_of: list[int] = nodes["right"].astype(np.int64).tolist()
    # number internal nodes (splits) and leaves in one preorder walk, left child first
    ref: dict[int, int] = {}
    internal: list[int] = []
    values: list[float] = []
    stack = [0]
    while stack:
        node_id = stack.pop()
        if is_leaf[node_id]:
            ref[node_id] = leaf_ref(len(values))
            values.append(value[node_id])
            continue
        ref[node_id] = len(internal)
        internal.append(node_id)
        stack.append(right_of[node_id])
        stack.append(left_of[node_id])
    feature_of: list[int] = nodes["feature_idx"].astype(np.int64).tolist()
    missing_of: list[bool] = nodes["missing_go_to_left"].astype(bool).tolist()
    categorical_of: list[bool] = nodes["is_categorical"].astype(bool).tolist()
    threshold_of: list[float] = nodes["num_threshold"].astype(np.float64).tolist()
    splits = []
    for node_id in internal:
        feature = feature_of[node_id]
        if not 0 <= feature < len(features.exprs):
            raise UnsupportedModelError(f"tree node {node_id} splits on feature {feature}", where)
        missing_left = missing_of[node_id]
        left, right = ref[left_of[node_id]], ref[right_of[node_id]]
        categories = features.categories[feature]
        if categorical_of[node_id]:
            if categories is None:
                raise UnsupportedModelError(f"tree node {node_id}: categorical split on a numerical feature", where)
            bitset = predictor.raw_left_cat_bitsets[int(nodes[node_id]["bitset_idx"])]
            test, operand = _category_test(bitset, categories, missing_left, f"{where}: tree node {node_id}")
            splits.append(Split(feature, test, operand, missing_left, left, right))
        else:
            threshold = threshold_of[node_id]
            if categories is not None or math.isnan(threshold):
                raise UnsupportedModelError(f"tree node {node_id}: threshold {threshold!r} on feature {feature}", where)
            splits.append(Split(feature, "le", threshold, missing_left, left, right))
    return Lookup(TreeLeaf(features.exprs, tuple(splits)), tuple(values), DOUBLE)


def _category_test(
    bitset: Any, categories: Sequence[ConstValue], missing_left: bool, where: str
) -> tuple[str, tuple[ConstValue, ...]]:
    """``in`` the left categories, or ``notin`` the right ones, so unknowns follow the missing side."""
    words = [int(w) for w in np.asarray(bitset, dtype=np.uint32)]
    if len(words) != _BITSET_WORDS:
        raise UnsupportedModelError(f"category bitset of {len(words)} words", where)
    goes_left = [bool((words[code // 32] >> (code % 32)) & 1) for code in range(len(categories))]
    if missing_left:
        test, operand = "notin", tuple(c for c, left in zip(categories, goes_left) if not left)
    else:
        test, operand = "in", tuple(c for c, left in zip(categories, goes_left) if left)
    if not operand:
        # every row would take one side: scikit-learn never grows such a split
        raise UnsupportedModelError("a categorical split with an empty side", where)
    return test, operand


def raw_scores(estimator: Any, columns: Columns, where: str) -> list[Node]:
    """``_raw_predict``: per tree-of-the-iteration column, baseline then every tree in fitting order."""
    features = tree_features(estimator, columns, where)
    baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64).reshape(-1)
    width = int(estimator.n_trees_per_iteration_)
    if baseline.shape[0] != width:
        raise UnsupportedModelError(f"{baseline.shape[0]} baseline values for {width} trees per iteration", where)
    terms: list[list[Node]] = [[] for _ in range(width)]
    for iteration, predictors in enumerate(estimator._predictors):
        if len(predictors) != width:
            raise UnsupportedModelError(f"iteration {iteration} has {len(predictors)} trees, expected {width}", where)
        for k, predictor in enumerate(predictors):
            terms[k].append(lower_tree(predictor, features, f"{where}: iteration {iteration}, tree {k}"))
    scores = []
    for k in range(width):
        # raw_predictions = zeros; += baseline: 0.0 + b turns a -0.0 baseline into +0.0
        start = Const(0.0 + float(baseline[k]))
        scores.append(Sum((start, *terms[k])) if terms[k] else start)
    return scores


def softmax_strided(scores: Sequence[Node]) -> list[Node]:
    """``sklearn.utils.extmath.softmax`` of HGB's raw scores, as numpy computes it on a batch.

    ``raw_predictions`` is Fortran-ordered (n_samples, n_classes); the row max, ``X -= max``,
    ``np.exp(X, out=X)``, then ``np.sum(X, axis=1)``: on an F-ordered batch numpy reduces the
    strided axis one class column at a time, a plain left fold (never its pairwise sum).
    """
    row_max = scores[0]
    for score in scores[1:]:
        row_max = Binary("max", row_max, score)
    exps = [Unary("exp", Binary("sub", s, row_max)) for s in scores]
    total = Sum(tuple(exps))
    return [Binary("div", e, total) for e in exps]


def _require_string_loss(estimator: Any, where: str) -> None:
    if not isinstance(estimator.loss, str):
        raise UnsupportedModelError(f"a custom loss object {type(estimator.loss).__name__}", where)


@lowers_model(HistGradientBoostingRegressor)
def lower_hist_gradient_boosting_regressor(estimator: Any, columns: Columns, where: str) -> RegressorOutputs:
    """``predict = _loss.link.inverse(raw)``: identity (squared/absolute error, quantile) or exp (poisson, gamma)."""
    _require_string_loss(estimator, where)
    link = type(estimator._loss.link)
    if link not in (IdentityLink, LogLink):
        raise UnsupportedModelError(f"loss {estimator.loss!r} with link {link.__name__}", where)
    (raw,) = raw_scores(estimator, columns, where)
    # LogLink.inverse is np.exp (numpy's float64 exp; see the tests for its libm parity)
    return RegressorOutputs(raw if link is IdentityLink else Unary("exp", raw))


@lowers_model(HistGradientBoostingClassifier)
def lower_hist_gradient_boosting_classifier(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """Binary: label ``raw > 0``, proba ``[1 - expit, expit]``; multiclass: argmax, softmax; decision = raw."""
    _require_string_loss(estimator, where)
    classes = class_strings(list(estimator.classes_), where)
    scores = raw_scores(estimator, columns, where)
    loss = type(estimator._loss)
    if len(scores) == 1:
        if loss is not HalfBinomialLoss or len(classes) != 2:
            raise UnsupportedModelError(f"{len(classes)} classes with loss {loss.__name__} and one tree", where)
        # HalfBinomialLoss.predict_proba: proba[:, 1] = expit(raw); proba[:, 0] = 1 - proba[:, 1]
        positive = expit(scores[0])
        label = binary_label(scores[0], classes)
        return ClassifierOutputs(classes, label, (one_minus(positive), positive), (scores[0],))
    if loss is not HalfMultinomialLoss or len(classes) != len(scores):
        raise UnsupportedModelError(f"{len(classes)} classes with loss {loss.__name__} and {len(scores)} trees", where)
    probabilities = softmax_strided(scores)
    return ClassifierOutputs(classes, argmax_label(scores, classes), tuple(probabilities), tuple(scores))
