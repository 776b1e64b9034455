"""``OneVsRestClassifier`` over linear binary classifiers, as scikit-learn 1.9 scores it.

Each fitted binary estimator is lowered by its own registered lowering; this module only
writes ``OneVsRestClassifier``'s combination of them (``sklearn/multiclass.py``):

- ``decision_function``: the binary estimators' decisions side by side (one column when
  there is a single estimator, i.e. two classes);
- ``predict_proba``: each estimator's ``predict_proba(X)[:, 1]`` (``[1 - p, p]`` for a
  single estimator), divided by the row sum where that sum is not 0
  (``np.divide(Y, row_sums, out=Y, where=row_sums != 0)``);
- ``predict``: multiclass takes the running maximum of ``_predict_binary`` (the
  decision, since every supported estimator has ``decision_function``) over the
  estimators *in reverse order*; binary thresholds the one decision at 0.

The row sum is ``np.sum(Y, axis=1)`` on ``Y = np.array([...]).T``, a Fortran-ordered
(n_rows, n_classes) array: numpy reduces it as a strided left fold column by column, not
pairwise (pinned per class count by a test). A one-row batch is contiguous and numpy then
sums it pairwise, which differs from the fold from 9 classes on; the scorer follows the
batch order (n_rows >= 2), the one a user scoring a data set sees.
"""

from __future__ import annotations

import math
from typing import Any

from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import LinearSVC

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns, add_row_check, collecting_row_checks
from modelgen.frontends.sklearn.models.numeric import binary_label, one_minus
from modelgen.frontends.sklearn.models.registry import lower_model, lowers_model
from modelgen.frontends.sklearn.outputs import ClassifierOutputs, class_strings
from modelgen.ir import STRING, Binary, Compare, Const, IfElse, Node, Sum

# binary estimators whose decision_function is what OvR's _predict_binary returns and
# whose lowerings are exact ports of decision_function / predict_proba
_BINARY_ESTIMATORS: tuple[type, ...] = (LogisticRegression, SGDClassifier, LinearSVC, RidgeClassifier)


def _y_type(estimator: Any, where: str) -> str:
    binarizer = getattr(estimator, "label_binarizer_", None)
    y_type = getattr(binarizer, "y_type_", None)
    if not isinstance(y_type, str):
        raise UnsupportedModelError("OneVsRestClassifier without a fitted label_binarizer_.y_type_", where)
    if y_type.startswith("multilabel"):
        raise UnsupportedModelError(
            "multilabel OneVsRestClassifier (fitted on an indicator matrix; its predict returns label sets)", where
        )
    if y_type not in ("binary", "multiclass"):
        raise UnsupportedModelError(f"OneVsRestClassifier with target type {y_type!r}", where)
    return y_type


def _lower_binary(estimator: Any, columns: Columns, where: str) -> tuple[Node, Node | None]:
    """One binary estimator's decision and its positive-class probability (None: no predict_proba)."""
    if type(estimator) not in _BINARY_ESTIMATORS:
        names = ", ".join(cls.__name__ for cls in _BINARY_ESTIMATORS)
        raise UnsupportedModelError(
            f"OneVsRestClassifier over {type(estimator).__name__}", where, f"supported binary estimators: {names}"
        )
    lowered = lower_model(estimator, columns, where)
    if not isinstance(lowered, ClassifierOutputs) or lowered.decisions is None or len(lowered.decisions) != 1:
        raise UnsupportedModelError(f"a binary estimator that is not binary ({type(estimator).__name__})", where)
    positive = None if lowered.probabilities is None else lowered.probabilities[1]
    return lowered.decisions[0], positive


def _lower_estimators(estimators: list[Any], columns: Columns, where: str) -> list[tuple[Node, Node | None]]:
    """Every binary estimator's lowering, with their row checks re-homed at the OvR.

    All estimators validate the same X, so their row checks are the same conditions; each
    lowering prefixes its own place to the message, so they are collected apart and added
    again under the OvR's place, where identical checks collapse into one.
    """
    lowered: list[tuple[Node, Node | None]] = []
    for index, estimator in enumerate(estimators):
        inner_where = f"{where} > estimators_[{index}] {type(estimator).__name__}"
        with collecting_row_checks() as checks:
            lowered.append(_lower_binary(estimator, columns, inner_where))
        prefix = f"{inner_where}: "
        for check in checks:
            message = check.message[len(prefix) :] if check.message.startswith(prefix) else check.message
            add_row_check(check.condition, message, where)
    return lowered


def _normalized(positives: list[Node]) -> list[Node]:
    """``Y / row_sum`` where ``row_sum != 0`` (NaN sums divide too), else ``Y`` unchanged."""
    total = Sum(tuple(positives))  # numpy's strided left fold over the Fortran-ordered Y
    nonzero = Compare("ne", total, Const(0.0))
    return [IfElse(nonzero, Binary("div", p, total), p) for p in positives]


def _reverse_running_max_label(decisions: list[Node], classes: tuple[str, ...]) -> Node:
    """``predict``'s multiclass loop, literally::

        maxima = -inf; argmaxima = 0
        for i in reversed(range(k)):
            maxima = np.maximum(maxima, pred_i); argmaxima[maxima == pred_i] = i

    The same as ``argmax`` on numbers, but not with NaN: NaN poisons ``maxima``, so the
    label is the first maximum *after the last* NaN decision (class 0 if that is the last).
    """
    maxima: Node = Const(-math.inf)
    label: Node = Const(classes[0], STRING)
    for index in range(len(decisions) - 1, -1, -1):
        maxima = Binary("max", maxima, decisions[index])
        label = IfElse(Compare("eq", maxima, decisions[index]), Const(classes[index], STRING), label)
    return label


@lowers_model(OneVsRestClassifier)
def lower_one_vs_rest(estimator: Any, columns: Columns, where: str) -> ClassifierOutputs:
    """``OneVsRestClassifier`` (binary or multiclass) over LogisticRegression, SGDClassifier,
    LinearSVC or RidgeClassifier: decisions, probabilities when the estimators have them, label."""
    y_type = _y_type(estimator, where)
    classes = class_strings(list(estimator.classes_), where)
    estimators = list(getattr(estimator, "estimators_", ()))
    expected = 1 if y_type == "binary" else len(classes)
    if len(classes) < 2 or len(estimators) != expected:
        raise UnsupportedModelError(
            f"OneVsRestClassifier with {len(classes)} classes and {len(estimators)} estimators", where
        )
    lowered = _lower_estimators(estimators, columns, where)
    decisions = [decision for decision, _ in lowered]
    positives = [positive for _, positive in lowered]
    probabilities: list[Node] | None = None
    if all(p is not None for p in positives):
        present = [p for p in positives if p is not None]
        probabilities = _normalized([one_minus(present[0]), present[0]] if y_type == "binary" else present)
    elif any(p is not None for p in positives):
        raise UnsupportedModelError("OneVsRestClassifier whose estimators disagree on having predict_proba", where)
    if y_type == "binary":
        # predict: indicator of decision > 0, inverse-binarized: classes_[1] where set
        label = binary_label(decisions[0], classes)
    else:
        label = _reverse_running_max_label(decisions, classes)
    return ClassifierOutputs(classes, label, None if probabilities is None else tuple(probabilities), tuple(decisions))
