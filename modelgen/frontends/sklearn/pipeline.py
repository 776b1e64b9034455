"""Lower a fitted estimator (bare model, ``Pipeline``, ``ColumnTransformer`` inside) to a ``Model``.

Columns flow step by step (see ``columns.py``); ``where`` strings name the path, e.g.
``Pipeline step 'prep' > ColumnTransformer 'num' > StandardScaler``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from modelgen.errors import InvalidModelError, UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, InputTypes, collecting_row_checks
from modelgen.frontends.sklearn.models.registry import has_model_lowering, lower_model
from modelgen.frontends.sklearn.outputs import output_fields
from modelgen.frontends.sklearn.transforms.registry import TRANSFORM_LOWERINGS, _load_all, lowers
from modelgen.ir import InputField, Model


def input_names(estimator: Any) -> tuple[str, ...]:
    """The model's input names: ``feature_names_in_``, else ``x0 ... x{k-1}`` from ``n_features_in_``."""
    # a Pipeline delegates to its first step, which may be None/'passthrough': look past those
    while isinstance(estimator, Pipeline):
        real = [step for _name, step in estimator.steps if step is not None and not _is_passthrough_spec(step)]
        if not real:
            break
        estimator = real[0]
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return tuple(str(n) for n in names)
    width = getattr(estimator, "n_features_in_", None)
    if width is None:
        raise InvalidModelError(
            f"{type(estimator).__name__} records neither feature_names_in_ nor n_features_in_ (is it fitted?)"
        )
    return tuple(f"x{i}" for i in range(int(width)))


def lower_estimator(estimator: Any, metadata: Mapping[str, Any] | None = None) -> Model:
    """The IR ``Model`` of a fitted scikit-learn estimator or pipeline (inputs, row checks, outputs)."""
    _require_fitted(estimator, type(estimator).__name__)
    names = input_names(estimator)
    inputs = InputTypes(names)
    columns: list[Column] = [Column.raw(name, inputs) for name in names]
    with collecting_row_checks() as checks:
        if isinstance(estimator, Pipeline):
            lowered = _lower_pipeline_model(estimator, columns, "")
        else:
            lowered = _lower_final(estimator, columns, "")
    source = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
    facts = {"source": source, **(metadata or {})}
    fields = [InputField(name, inputs.dtype_of(name)) for name in names]
    return Model(tuple(fields), tuple(output_fields(lowered)), tuple(checks), facts)


def _is_passthrough_spec(step: Any) -> bool:
    return isinstance(step, str) and step == "passthrough"


def _join(path: str, part: str) -> str:
    return f"{path} > {part}" if path else part


def _require_fitted(estimator: Any, where: str) -> None:
    try:
        check_is_fitted(estimator)
    except NotFittedError as error:
        raise InvalidModelError(f"{type(estimator).__name__} at {where} is not fitted: {error}") from error
    except TypeError as error:
        # check_is_fitted raises TypeError for objects that are not estimators at all
        raise UnsupportedModelError(f"object of class {type(estimator).__name__}", where) from error


def _steps(pipeline: Pipeline, path: str) -> list[tuple[str, Any, str]]:
    return [(name, step, _join(path, f"Pipeline step {name!r}")) for name, step in pipeline.steps]


def _lower_pipeline_model(pipeline: Pipeline, columns: Columns, path: str) -> Any:
    steps = _steps(pipeline, path)
    if not steps:
        raise InvalidModelError(f"empty Pipeline at {path or 'top level'}")
    for _name, step, where in steps[:-1]:
        columns = lower_step(step, columns, where)
    _name, final, where = steps[-1]
    if final is None or final == "passthrough":
        raise UnsupportedModelError("a Pipeline whose last step is 'passthrough' (no model)", where)
    if isinstance(final, Pipeline):
        return _lower_pipeline_model(final, columns, where)
    return _lower_final(final, columns, where)


def _lower_final(estimator: Any, columns: Columns, where: str) -> Any:
    label = _join(where, type(estimator).__name__)
    if not has_model_lowering(estimator):
        raise UnsupportedModelError(f"estimator {type(estimator).__name__}", where or "top level")
    _require_fitted(estimator, label)
    return lower_model(estimator, columns, label)


def lower_step(step: Any, columns: Columns, where: str) -> list[Column]:
    """Lower one transformer step (``passthrough``/None, nested Pipeline, ColumnTransformer, registry)."""
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return list(columns)
    if isinstance(step, Pipeline):
        for _name, inner, inner_where in _steps(step, where):
            columns = lower_step(inner, columns, inner_where)
        return list(columns)
    if isinstance(step, ColumnTransformer):
        return lower_column_transformer(step, columns, where)
    _load_all()
    if type(step) not in TRANSFORM_LOWERINGS:
        raise UnsupportedModelError(f"transformer {type(step).__name__}", where)
    _require_fitted(step, _join(where, type(step).__name__))
    return TRANSFORM_LOWERINGS[type(step)](step, columns, _join(where, type(step).__name__))


def lower_column_transformer(transformer: ColumnTransformer, columns: Columns, where: str) -> list[Column]:
    """Each fitted transformer on its selected columns, outputs concatenated in ``transform``'s order."""
    _require_fitted(transformer, _join(where, "ColumnTransformer"))
    if transformer.n_features_in_ != len(columns):
        raise InvalidModelError(
            f"ColumnTransformer at {where or 'top level'} was fitted on {transformer.n_features_in_} columns "
            f"but receives {len(columns)}"
        )
    out: list[Column] = []
    # the same iteration ColumnTransformer.transform uses: fitted transformers, no 'drop',
    # no empty selections, remainder last
    for name, trans, _selection, _weight in transformer._iter(
        fitted=True, column_as_labels=False, skip_drop=True, skip_empty_columns=True
    ):
        inner_where = _join(where, f"ColumnTransformer {name!r}")
        if (transformer.transformer_weights or {}).get(name) not in (None, 1, 1.0):
            # a weight multiplies the transformer's output; not lowered yet
            raise UnsupportedModelError("ColumnTransformer transformer_weights", inner_where)
        indices = np.asarray(transformer._transformer_to_input_indices[name], dtype=np.int64)
        selected = [columns[int(i)] for i in indices]
        if _is_passthrough(transformer, name, trans):
            out.extend(selected)
        else:
            out.extend(lower_step(trans, selected, inner_where))
    return out


def _is_passthrough(transformer: ColumnTransformer, name: str, fitted: Any) -> bool:
    # fitting replaces a 'passthrough' spec (and remainder='passthrough') by an identity
    # FunctionTransformer; the unfitted spec says what it was
    if isinstance(fitted, str) and fitted == "passthrough":
        return True
    specs = {spec_name: spec for spec_name, spec, _cols in transformer.transformers}
    spec = transformer.remainder if name == "remainder" and name not in specs else specs.get(name)
    return isinstance(spec, str) and spec == "passthrough"


@lowers(Pipeline)
def _lower_nested_pipeline(pipeline: Any, columns: Columns, where: str) -> list[Column]:
    # registered so a lowering that meets a nested Pipeline through the registry handles it
    return lower_step(pipeline, columns, where.rsplit(" > ", 1)[0] if " > " in where else "")


@lowers(ColumnTransformer)
def _lower_nested_column_transformer(transformer: Any, columns: Columns, where: str) -> list[Column]:
    return lower_column_transformer(transformer, columns, where.rsplit(" > ", 1)[0] if " > " in where else "")
