"""The parity reference: the estimator's own ``predict`` / ``predict_proba`` / ``decision_function``.

Never touches modelgen's IR. Output names come from the same table (``outputs.py``) the
lowering uses, so the two can be compared column by column.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import is_outlier_detector

from modelgen.errors import InputRowError
from modelgen.frontends.sklearn.outputs import (
    class_string,
    class_strings,
    classifier_output_names,
    outlier_output_names,
    regressor_output_names,
)

Row = Mapping[str, float | str | None]


def _matrix(estimator: Any, rows: Sequence[Row], input_names: Sequence[str], string_inputs: Collection[str]) -> Any:
    """What the model was fitted on: a DataFrame (named features) or a float64 array."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        data = [[np.nan if row[n] is None else float(row[n]) for n in input_names] for row in rows]  # type: ignore[arg-type]
        return np.asarray(data, dtype=np.float64).reshape(len(rows), len(input_names))
    import pandas as pd

    columns: dict[str, Any] = {}
    for name in (str(n) for n in names):
        values = [row[name] for row in rows]
        if name in string_inputs or any(isinstance(v, str) for v in values):
            columns[name] = pd.Series([np.nan if v is None else v for v in values], dtype=object)
        else:
            columns[name] = pd.Series([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return pd.DataFrame(columns, index=range(len(rows)))


def _score(estimator: Any, matrix: Any) -> list[dict[str, Any]]:
    n_rows = len(matrix)
    if is_outlier_detector(estimator):
        labels = [class_string(v) for v in estimator.predict(matrix)]
        score = np.asarray(estimator.score_samples(matrix), dtype=np.float64).reshape(n_rows)
        decision = np.asarray(estimator.decision_function(matrix), dtype=np.float64).reshape(n_rows)
        label_name, score_name, decision_name = (n.name for n in outlier_output_names())
        return [
            {label_name: labels[i], score_name: float(score[i]), decision_name: float(decision[i])}
            for i in range(n_rows)
        ]
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        prediction = np.asarray(estimator.predict(matrix), dtype=np.float64).reshape(n_rows, -1)
        names = [n.name for n in regressor_output_names(prediction.shape[1])]
        return [{name: float(v) for name, v in zip(names, row)} for row in prediction]
    forms = class_strings(list(classes), type(estimator).__name__)
    columns: list[list[Any]] = [[class_string(v) for v in estimator.predict(matrix)]]
    has_proba = hasattr(estimator, "predict_proba")
    if has_proba:
        proba = np.asarray(estimator.predict_proba(matrix), dtype=np.float64)
        columns += [[float(v) for v in proba[:, j]] for j in range(proba.shape[1])]
    width = None
    if hasattr(estimator, "decision_function"):
        decision = np.asarray(estimator.decision_function(matrix), dtype=np.float64)
        decision = decision.reshape(n_rows, -1)
        width = decision.shape[1]
        columns += [[float(v) for v in decision[:, j]] for j in range(width)]
    names = [n.name for n in classifier_output_names(forms, has_proba, width)]
    return [{name: column[i] for name, column in zip(names, columns)} for i in range(n_rows)]


def reference_outputs(
    estimator: Any,
    rows: Sequence[Row],
    input_names: Sequence[str],
    *,
    string_inputs: Collection[str] = (),
    per_row_errors: bool = False,
) -> list[dict[str, Any]] | list[dict[str, Any] | None]:
    """Score ``rows`` with scikit-learn itself; outputs named like the compiled scorer's.

    A column is passed as strings (object dtype, missing = ``np.nan``) when it is listed in
    ``string_inputs`` or holds a string; otherwise as float64 (missing = NaN). When
    scikit-learn refuses the batch (NaN where a model forbids it, ...) this raises
    ``InputRowError``; with ``per_row_errors=True`` a row scikit-learn refuses comes back as ``None``
    and the others are scored together as one batch.
    """
    if not rows:
        return []
    try:
        return _score(estimator, _matrix(estimator, rows, input_names, string_inputs))
    except ValueError as error:
        if not per_row_errors:
            raise InputRowError(f"scikit-learn refuses the batch: {error}") from error
    # find the refused rows one by one, then score the accepted ones as one batch: the
    # batch's BLAS results differ from single-row ones, and the batch is the reference
    accepted = []
    for row in rows:
        try:
            _score(estimator, _matrix(estimator, [row], input_names, string_inputs))
            accepted.append(True)
        except ValueError:
            accepted.append(False)
    kept = [row for row, ok in zip(rows, accepted) if ok]
    batch = iter(_score(estimator, _matrix(estimator, kept, input_names, string_inputs)) if kept else [])
    return [next(batch) if ok else None for ok in accepted]
