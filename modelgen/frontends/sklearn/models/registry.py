"""Which function lowers which fitted estimator class into output expressions.

A model lowering is ``(fitted, columns, where) -> ClassifierOutputs | RegressorOutputs``;
it writes scikit-learn's exact ``predict`` / ``predict_proba`` / ``decision_function``
arithmetic into the IR.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.outputs import LoweredOutputs
from modelgen.ir.bulk import collector_paused

ModelLowering = Callable[[Any, Columns, str], LoweredOutputs]

MODEL_LOWERINGS: dict[type, ModelLowering] = {}

# the family modules, imported for their @lowers_model registrations
_FAMILIES = (
    "linear_regressors",
    "linear_classifiers",
    "glm",
    "one_vs_rest",
    "trees",
    "forests",
    "gradient_boosting",
    "isolation_forest",
    "hist_gradient_boosting",
)


def lowers_model(*classes: type) -> Callable[[ModelLowering], ModelLowering]:
    """Register a model lowering for the exact classes given (subclasses are not assumed to match)."""

    def register(function: ModelLowering) -> ModelLowering:
        for cls in classes:
            MODEL_LOWERINGS[cls] = function
        return function

    return register


def has_model_lowering(estimator: Any) -> bool:
    """Whether ``estimator``'s exact class has a model lowering."""
    _load_all()
    return type(estimator) in MODEL_LOWERINGS


def lower_model(estimator: Any, columns: Columns, where: str) -> LoweredOutputs:
    """Lower a fitted final estimator; an unregistered class is an ``UnsupportedModelError``."""
    _load_all()
    lowering = MODEL_LOWERINGS.get(type(estimator))
    if lowering is None:
        raise UnsupportedModelError(f"estimator {type(estimator).__name__}", where)
    with collector_paused():  # a forest is a million objects: see modelgen.ir.bulk
        return lowering(estimator, columns, where)


def _load_all() -> None:
    for family in _FAMILIES:
        importlib.import_module(f"{__package__}.{family}")
