"""Generalized linear models: ``link.inverse(X @ coef_ + intercept_)`` (``_GeneralizedLinearRegressor``)."""

from __future__ import annotations

from typing import Any

from sklearn._loss.link import IdentityLink, LogLink
from sklearn.linear_model import GammaRegressor, PoissonRegressor, TweedieRegressor

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Columns
from modelgen.frontends.sklearn.models.linear_regressors import single_output_predictor
from modelgen.frontends.sklearn.models.registry import lowers_model
from modelgen.frontends.sklearn.outputs import RegressorOutputs
from modelgen.ir import Unary


@lowers_model(PoissonRegressor, GammaRegressor, TweedieRegressor)
def lower_glm(estimator: Any, columns: Columns, where: str) -> RegressorOutputs:
    """The linear predictor, then the loss's inverse link exactly as ``sklearn._loss.link`` computes it."""
    link = estimator._base_loss.link
    raw = single_output_predictor(estimator, columns, where)
    if type(link) is IdentityLink:
        return RegressorOutputs(raw)
    if type(link) is LogLink:
        # LogLink.inverse is np.exp(raw_prediction)
        return RegressorOutputs(Unary("exp", raw))
    raise UnsupportedModelError(f"{type(estimator).__name__} with link {type(link).__name__}", where)
