"""``GradientBoostingClassifier`` / ``GradientBoostingRegressor`` (``sklearn.ensemble._gb``).

``_raw_predict``: the init estimator's raw prediction (a constant per class for the
supported inits), then ``predict_stages`` walks stage by stage, class by class, doing
``out[i, k] += scale * value[leaf]`` (Cython, one rounding for the product and one for the
sum). ``learning_rate * value`` is therefore a per-leaf constant and each raw score is
``Sum((init_k, lr*v_1k, lr*v_2k, ...))`` in stage order. The loss's inverse link gives the
probabilities: ``expit`` (log-loss), ``expit(2 * raw)`` (exponential), softmax (multiclass).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn._loss.loss import ExponentialLoss, HalfBinomialLoss, HalfMultinomialLoss
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.models.numeric import argmax_label, expit, one_minus, softmax
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.models.trees import float32_features, regression_values, tree_routing
from modelgen.frontends.sklearn.outputs import ClassifierOutputs, RegressorOutputs, class_strings
from modelgen.ir import STRING, Binary, Compare, Const, IfElse, Node, Sum

# init estimators whose prediction does not depend on the row (and is not random)
_CONSTANT_CLASSIFIER_STRATEGIES = ("prior", "most_frequent", "constant")


def _init_raw(estimator: Any, where: str) -> list[float]:
    """The init raw prediction per tree column, computed by scikit-learn itself.

    Only inits that predict a constant are accepted ('zero', ``DummyRegressor``, a
    non-random ``DummyClassifier``); the constant is read from ``_raw_predict_init`` on
    float32 zero rows and must be the same on every row of two batch sizes.
    """
    init = estimator.init_
    constant = (isinstance(init, str) and init == "zero") or type(init) is DummyRegressor
    if type(init) is DummyClassifier:
        constant = init.strategy in _CONSTANT_CLASSIFIER_STRATEGIES
    if not constant:
        raise UnsupportedModelError(f"GradientBoosting init estimator {init!r} (only constant inits)", where)
    width = int(estimator.n_features_in_)
    batches = [np.asarray(estimator._raw_predict_init(np.zeros((n, width), dtype=np.float32))) for n in (1, 37)]
    first = batches[0][0]
    for batch in batches:
        if not all(np.array_equal(row.view(np.uint64), first.view(np.uint64)) for row in batch):
            raise UnsupportedModelError("GradientBoosting init prediction varies between rows", where)
    return [float(v) for v in first]


def raw_scores(estimator: Any, columns: Columns, where: str) -> list[Node]:
    """``_raw_predict``: one raw score per tree column (1 for regression / binary, else per class)."""
    stages = np.asarray(estimator.estimators_, dtype=object)
    if stages.ndim != 2 or stages.shape[0] == 0:
        raise UnsupportedModelError(f"estimators_ of shape {stages.shape}", where)
    init = _init_raw(estimator, where)
    if len(init) != stages.shape[1]:
        raise UnsupportedModelError(f"{len(init)} init scores for {stages.shape[1]} trees per stage", where)
    # decision_function validates with ensure_all_finite=True: NaN is refused, not routed
    features = float32_features(columns, where, allow_nan=False)
    scale = float(estimator.learning_rate)
    terms: list[list[Node]] = [[Const(v)] for v in init]
    for i in range(stages.shape[0]):
        for k in range(stages.shape[1]):
            tree_where = f"{where} > estimators_[{i}, {k}]"
            tree = stages[i, k].tree_
            routing = tree_routing(tree, features, tree_where)
            values = regression_values(tree, tree_where)
            # scale * value rounds once in predict_stages; the same product, precomputed
            terms[k].append(routing.values(scale * values[:, 0]))
    return [Sum(tuple(t)) for t in terms]


@lowers_model(GradientBoostingRegressor)
def lower_gradient_boosting_regressor(estimator: Any, columns: Columns, where: str) -> RegressorOutputs:
    """``predict`` is the raw score (every regression loss has the identity link here)."""
    (raw,) = raw_scores(estimator, columns, where)
    return RegressorOutputs(raw)


@lowers_model(GradientBoostingClassifier)
def lower_gradient_boosting_classifier(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """Decision = raw scores; proba by the loss's inverse link; label: ``raw >= 0`` (binary) or argmax."""
    classes = class_strings(list(estimator.classes_), where)
    raws = raw_scores(estimator, columns, where)
    loss = estimator._loss
    if type(loss) is HalfMultinomialLoss and len(raws) == len(classes) > 2:
        return ClassifierOutputs(classes, argmax_label(raws, classes), tuple(softmax(raws)), tuple(raws))
    if len(raws) != 1 or len(classes) != 2:
        raise UnsupportedModelError(f"{len(classes)} classes with {len(raws)} trees per stage", where)
    (raw,) = raws
    if type(loss) is HalfBinomialLoss:
        positive = expit(raw)
    elif type(loss) is ExponentialLoss:
        positive = expit(Binary("mul", Const(2.0), raw))
    else:
        raise UnsupportedModelError(f"GradientBoostingClassifier loss {type(loss).__name__}", where)
    label = IfElse(Compare("ge", raw, Const(0.0)), Const(classes[1], STRING), Const(classes[0], STRING))
    return ClassifierOutputs(classes, label, (one_minus(positive), positive), (raw,))
