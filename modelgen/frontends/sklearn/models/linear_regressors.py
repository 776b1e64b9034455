"""Linear regressors whose ``predict`` is ``X @ coef_ + intercept_`` (``LinearModel.predict``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, SGDRegressor
from sklearn.svm import LinearSVR

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.models.numeric import constants, finite_features, linear_predictor
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.outputs import RegressorOutputs
from modelgen.ir import Node


def single_output_predictor(estimator: Any, columns: Columns, where: str) -> Node:
    """``X @ coef_ + intercept_`` of a single-output linear model (with its finiteness checks)."""
    coef = np.asarray(estimator.coef_)
    if coef.ndim != 1:
        # a 2-D y gives a 2-D coef_ and 2-D predictions, even with one target column
        raise UnsupportedModelError(f"multi-output {type(estimator).__name__} (coef_ shape {coef.shape})", where)
    intercepts = constants(estimator.intercept_, where, "intercept_")
    if len(intercepts) != 1:
        raise UnsupportedModelError(f"{len(intercepts)} intercepts for one output", where)
    features = finite_features(columns, where)
    return linear_predictor(features, constants(coef, where, "coef_"), intercepts[0])


@lowers_model(LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, LinearSVR)
def lower_linear_regressor(estimator: Any, columns: Columns, where: str) -> RegressorOutputs:
    """``LinearModel.predict`` / ``SGDRegressor._decision_function``: the dot product plus intercept."""
    return RegressorOutputs(single_output_predictor(estimator, columns, where))
