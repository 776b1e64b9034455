"""Linear classifiers (``LinearClassifierMixin``): decision scores, labels, probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.svm import LinearSVC

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.models.numeric import (
    argmax_label,
    binary_label,
    constants,
    expit,
    finite_features,
    linear_predictor,
    normalize_rows_zero_uniform,
    numpy_clip,
    one_minus,
    softmax,
)
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.outputs import ClassifierOutputs, class_strings
from modelgen.ir import Binary, Const, Node


def decision_scores(estimator: Any, columns: Columns, where: str) -> list[Node]:
    """``decision_function``: ``X @ coef_.T + intercept_``, one score (binary) or one per class."""
    coef = np.atleast_2d(np.asarray(estimator.coef_))
    intercepts = constants(estimator.intercept_, where, "intercept_")
    if len(intercepts) == 1 and coef.shape[0] > 1:
        intercepts = intercepts * coef.shape[0]  # a scalar intercept_ (fit_intercept=False) broadcasts
    if len(intercepts) != coef.shape[0]:
        raise UnsupportedModelError(f"{len(intercepts)} intercepts for {coef.shape[0]} coefficient rows", where)
    features = finite_features(columns, where)
    return [
        linear_predictor(features, constants(row, where, "coef_"), b) for row, b in zip(coef, intercepts)
    ]


def _classes(estimator: Any, n_scores: int, where: str) -> tuple[str, ...]:
    classes = class_strings(list(estimator.classes_), where)
    expected = 1 if len(classes) == 2 else len(classes)
    if len(classes) < 2 or n_scores != expected:
        raise UnsupportedModelError(f"{len(classes)} classes with {n_scores} decision columns", where)
    return classes


def _label(scores: list[Node], classes: tuple[str, ...]) -> Node:
    # LinearClassifierMixin.predict: scores > 0 for one column, argmax otherwise
    return binary_label(scores[0], classes) if len(scores) == 1 else argmax_label(scores, classes)


def _ovr_probabilities(scores: list[Node]) -> list[Node]:
    """``_predict_proba_lr``: expit; binary [1-p, p]; else normalised by the row sum (zero rows uniform)."""
    probabilities = [expit(s) for s in scores]
    if len(probabilities) == 1:
        return [one_minus(probabilities[0]), probabilities[0]]
    return normalize_rows_zero_uniform(probabilities)


def _modified_huber_probabilities(scores: list[Node], where: str) -> list[Node]:
    """``SGDClassifier.predict_proba`` for loss='modified_huber': (clip(s, -1, 1) + 1) / 2, then as coded."""
    halves = [Binary("div", Binary("add", numpy_clip(s, -1.0, 1.0, where), Const(1.0)), Const(2.0)) for s in scores]
    if len(halves) == 1:
        # prob2 = ones; prob2[:, 1] = p; prob2[:, 0] -= p
        return [one_minus(halves[0]), halves[0]]
    return normalize_rows_zero_uniform(halves)


@lowers_model(LogisticRegression)
def lower_logistic_regression(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """Binary: OvR expit; multiclass: softmax of the decision scores (scikit-learn 1.9)."""
    scores = decision_scores(estimator, columns, where)
    classes = _classes(estimator, len(scores), where)
    probabilities = _ovr_probabilities(scores) if len(classes) <= 2 else softmax(scores)
    return ClassifierOutputs(classes, _label(scores, classes), tuple(probabilities), tuple(scores))


@lowers_model(SGDClassifier)
def lower_sgd_classifier(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """Decision always; probabilities only for the losses where scikit-learn defines them."""
    scores = decision_scores(estimator, columns, where)
    classes = _classes(estimator, len(scores), where)
    probabilities: list[Node] | None = None
    if estimator.loss == "log_loss":
        probabilities = _ovr_probabilities(scores)
    elif estimator.loss == "modified_huber":
        probabilities = _modified_huber_probabilities(scores, where)
    return ClassifierOutputs(
        classes, _label(scores, classes), None if probabilities is None else tuple(probabilities), tuple(scores)
    )


@lowers_model(LinearSVC, RidgeClassifier)
def lower_margin_classifier(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """Decision scores and labels; these classes have no ``predict_proba``."""
    binarizer = getattr(estimator, "_label_binarizer", None)
    if binarizer is not None and str(getattr(binarizer, "y_type_", "")).startswith("multilabel"):
        raise UnsupportedModelError(f"multilabel {type(estimator).__name__}", where)
    scores = decision_scores(estimator, columns, where)
    classes = _classes(estimator, len(scores), where)
    return ClassifierOutputs(classes, _label(scores, classes), None, tuple(scores))
