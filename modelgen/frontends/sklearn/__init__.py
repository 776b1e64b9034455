"""The scikit-learn frontend: load a pickled estimator, lower it to the IR, score it for reference."""

from modelgen.frontends.sklearn.loader import SUFFIXES, load_sklearn, read_estimator
from modelgen.frontends.sklearn.outputs import (
    ClassifierOutputs,
    OutputName,
    RegressorOutputs,
    class_string,
    classifier_output_names,
    output_fields,
    regressor_output_names,
)
from modelgen.frontends.sklearn.pipeline import input_names, lower_estimator
from modelgen.frontends.sklearn.reference import reference_outputs

__all__ = [
    "SUFFIXES",
    "ClassifierOutputs",
    "OutputName",
    "RegressorOutputs",
    "class_string",
    "classifier_output_names",
    "input_names",
    "load_sklearn",
    "lower_estimator",
    "output_fields",
    "read_estimator",
    "reference_outputs",
    "regressor_output_names",
]
