"""Lowerings of final estimators (models), one module per family, registered by class."""

from modelgen.frontends.sklearn.models.registry import MODEL_LOWERINGS, lower_model, lowers_model

__all__ = ["MODEL_LOWERINGS", "lower_model", "lowers_model"]
