"""Frontends: read a model file and lower it to the IR; pick one by file extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelgen.errors import InvalidModelError, UnsupportedModelError
from modelgen.ir import STRING, Model

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
    """A callable ``(model, rows) -> output rows`` scoring with the source library itself (the parity truth).

    A row the library refuses comes back as ``None``.
    """
    path = Path(path)
    _check_exists(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        from modelgen.frontends.sklearn import read_estimator, reference_outputs

        estimator, _version = read_estimator(path)

        def score(model: Model, rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
            names = [f.name for f in model.inputs]
            strings = [f.name for f in model.inputs if f.dtype is STRING]
            return reference_outputs(estimator, rows, names, string_inputs=strings, per_row_errors=True)

        return score
    raise UnsupportedModelError(f"a reference evaluator for {path.suffix!r} files", str(path))
