"""Read a pickled scikit-learn estimator (joblib or plain pickle) and lower it to the IR.

Loading a pickle runs code from the file; callers (the CLI) say so to the user.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import sklearn
from sklearn.base import BaseEstimator
from sklearn.exceptions import InconsistentVersionWarning

from modelgen.errors import InvalidModelError, UnsupportedModelError
from modelgen.frontends.sklearn.pipeline import lower_estimator
from modelgen.ir import Model

SUFFIXES = (".pkl", ".pickle", ".joblib")


def read_estimator(path: str | Path) -> tuple[Any, str | None]:
    """The unpickled object and the scikit-learn version that wrote it (None: same as running).

    scikit-learn stores ``_sklearn_version`` in each estimator's pickled state and pops it
    in ``__setstate__``, warning ``InconsistentVersionWarning`` when it differs from the
    running version; that warning is the only place the pickled version survives.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidModelError(f"{path.name}: no such model file")
    pickled_version: str | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        try:
            obj = _load(path)
        except Exception as error:  # a corrupt pickle can raise nearly anything
            raise InvalidModelError(
                f"{path.name}: cannot be read as a joblib/pickle file ({type(error).__name__}: {error})"
            ) from error
    for record in caught:
        if isinstance(record.message, InconsistentVersionWarning):
            pickled_version = str(record.message.original_sklearn_version)
            break
    return obj, pickled_version


def _load(path: Path) -> Any:
    try:
        import joblib
    except ImportError:  # pragma: no cover - joblib ships with scikit-learn
        joblib = None
    if joblib is not None:
        return joblib.load(path)
    with path.open("rb") as handle:
        return pickle.load(handle)


def load_sklearn(path: str | Path) -> Model:
    """Load a fitted estimator/pipeline from ``path`` and lower it to a ``Model``.

    ``metadata`` records the source class, the scikit-learn versions (pickled and running)
    and, when they differ, a ``warning`` the CLI prints.

    >>> load_sklearn("model.joblib").inputs  # doctest: +SKIP
    (InputField(name='age', dtype=DType.DOUBLE), ...)
    """
    path = Path(path)
    estimator, pickled_version = read_estimator(path)
    if not isinstance(estimator, BaseEstimator):
        raise UnsupportedModelError(
            f"{path.name} holds a {type(estimator).__module__}.{type(estimator).__qualname__} object, "
            "not a scikit-learn estimator"
        )
    running = sklearn.__version__
    metadata: dict[str, Any] = {
        "sklearn_version_pickled": pickled_version or running,
        "sklearn_version_running": running,
    }
    if pickled_version is not None and pickled_version != running:
        metadata["warning"] = (
            f"{path.name} was pickled by scikit-learn {pickled_version} but is loaded with {running}; "
            "the reference and the compiled scorer follow the running version's arithmetic"
        )
    return lower_estimator(estimator, metadata)
