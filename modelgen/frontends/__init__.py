"""Frontends: read a model file and lower it to the IR; pick one by file extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelgen.errors import InvalidModelError, UnsupportedModelError
from modelgen.ir import Model

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


def _check_exists(path: Path) -> None:
    if not path.is_file():
        raise InvalidModelError(f"{path}: no such model file")


def load_model(path: str | Path) -> Model:
    """Lower the model in ``path`` to IR, choosing the frontend by the file's extension."""
    path = Path(path)
    _check_exists(path)
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        from modelgen.frontends.sklearn import load_sklearn

        return load_sklearn(path)
    if suffix == ".onnx":
        raise UnsupportedModelError("ONNX models (the ONNX frontend is not built yet)", str(path))
    if suffix in (".pmml", ".xml"):
        raise UnsupportedModelError("PMML documents (the PMML frontend is not built yet)", str(path))
    raise InvalidModelError(
        f"{path}: unknown model file type {suffix or '(none)'!r}; expected one of "
        f"{', '.join(PICKLE_SUFFIXES)}, .onnx, .pmml, .xml"
    )


def load_reference(path: str | Path) -> Any:
    """A callable ``rows -> output rows`` that scores with the source library itself (the parity truth)."""
    path = Path(path)
    _check_exists(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        from modelgen.frontends.sklearn import load_estimator, reference_outputs

        estimator = load_estimator(path)
        return lambda rows, input_names: reference_outputs(estimator, rows, input_names)
    raise UnsupportedModelError(f"a reference evaluator for {path.suffix!r} files", str(path))
