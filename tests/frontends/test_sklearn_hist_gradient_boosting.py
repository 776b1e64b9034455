"""HistGradientBoosting{Classifier,Regressor}: IR vs scikit-learn 1.9.1, by ULP, on adversarial rows.

Every model is lowered, run through the default passes, scored with the IR interpreter and
compared with the estimator's own ``predict`` / ``predict_proba`` / ``decision_function`` on
one batch: training rows, fresh rows, every numeric ``num_threshold`` exactly with its
float64 and float32 neighbours, signed zeros, NaN, +-inf, and on categorical columns every
known category plus unseen, negative, huge, non-integer and missing values. The budget is
0 ULP everywhere: the raw score is a plain float64 left fold; ``exp`` is numpy's / scipy's,
which on this machine are glibc's ``exp`` (pinned below, with the reason); labels identical.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.special
from parity import Row, adversarial_rows, assert_parity, max_ulp
from sklearn._loss.loss import HalfSquaredError
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.extmath import softmax
from threadpoolctl import threadpool_limits

from modelgen.compiler import lower
from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn import lower_estimator
from modelgen.frontends.sklearn.models.numeric import numpy_pairwise_sum
from modelgen.ir import Const, Lookup, Model, OutputField, Sum, TreeLeaf, Unary, topological_order
from modelgen.ir.evaluate import evaluate
from modelgen.passes import run_passes

# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def one_openmp_thread() -> Any:
    """HGB fits and predicts with OpenMP; on a shared 2-core box oversubscribed threads make a fit
    20x slower. Per-row results do not depend on the thread count (each row is routed alone)."""
    with threadpool_limits(1):
        yield


def float32_neighbours(t: float) -> list[float]:
    """``t``, its float64 neighbours, and the float32 nearest ``t`` with its float32 neighbours."""
    values = [t, math.nextafter(t, math.inf), math.nextafter(t, -math.inf)]
    if math.isfinite(t) and abs(t) < 3.0e38:
        f = np.float32(t)
        values += [float(f), float(np.nextafter(f, np.float32(np.inf))), float(np.nextafter(f, np.float32(-np.inf)))]
    return values


def remapped_names(estimator: Any, names: Sequence[str]) -> list[str]:
    """Input names in the trees' feature order (categorical columns first when there are any)."""
    mask = getattr(estimator, "is_categorical_", None)
    if mask is None:
        return list(names)
    mask = np.asarray(mask, dtype=bool)
    return [names[i] for i in np.flatnonzero(mask)] + [names[i] for i in np.flatnonzero(~mask)]


def numeric_thresholds(estimator: Any, names: Sequence[str]) -> dict[str, list[float]]:
    """Every distinct numeric ``num_threshold`` per input name."""
    order = remapped_names(estimator, names)
    found: dict[str, set[float]] = {}
    for predictors in estimator._predictors:
        for predictor in predictors:
            nodes = predictor.nodes
            inner = nodes[(nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0)]
            for feature, threshold in zip(inner["feature_idx"], inner["num_threshold"]):
                found.setdefault(order[int(feature)], set()).add(float(threshold))
    return {name: sorted(values) for name, values in found.items()}


def threshold_rows(base: Row, thresholds: dict[str, list[float]], limit: int = 40) -> list[Row]:
    """Rows that put one column exactly on (and beside) a threshold; at most ``limit`` per column."""
    rows = []
    for name, values in thresholds.items():
        step = max(1, len(values) // limit)
        for t in values[::step]:
            rows += [{**base, name: v} for v in float32_neighbours(t)]
    return rows


def special_rows(base: Row, names: Sequence[str]) -> list[Row]:
    """NaN, +-inf, +-0 and extremes in each column (HGB accepts all of them on numeric columns)."""
    specials = [math.nan, None, math.inf, -math.inf, 0.0, -0.0, 5e-324, -1e300, 1.7976931348623157e308]
    return [{**base, name: v} for name in names for v in specials]


def parity(
    estimator: Any,
    rows: list[Row],
    string_inputs: Sequence[str] = (),
    min_rejected: int = 0,
) -> tuple[Model, dict[str, float]]:
    model = run_passes(lower_estimator(estimator))
    return model, assert_parity(model, estimator, rows, string_inputs=string_inputs, min_rejected=min_rejected)


def numeric_data(seed: int, n_rows: int = 400, n_features: int = 3, nan_rate: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.5, 5.0, size=n_features)
    x[rng.random(size=x.shape) < nan_rate] = np.nan
    return x


def numeric_rows(estimator: Any, x: np.ndarray, seed: int) -> list[Row]:
    names = [f"x{i}" for i in range(x.shape[1])]
    clean = np.nan_to_num(x)
    rows = adversarial_rows(names, clean, seed, n_random=150, n_train=0)
    rows += [{n: (None if math.isnan(v) else float(v)) for n, v in zip(names, r)} for r in x[:60]]
    base = {n: float(v) for n, v in zip(names, clean[0])}
    return rows + threshold_rows(base, numeric_thresholds(estimator, names)) + special_rows(base, names)


def tree_count(model: Model) -> int:
    """Distinct routings (identical trees are interned into one node)."""
    return sum(1 for node in topological_order(model.roots) if isinstance(node, TreeLeaf))


def raw_sum_lengths(estimator: Any) -> list[int]:
    """Terms of each raw-score Sum before the passes split it: baseline + one per fitted tree."""
    model = lower_estimator(estimator)
    exprs = [o.expr for o in model.outputs if o.kind in ("decision", "value")]
    exprs = [e.x if isinstance(e, Unary) else e for e in exprs]
    assert all(isinstance(e, Sum) for e in exprs)
    return [len(e.terms) for e in exprs]


# --------------------------------------------------------------------------- numpy / scipy arithmetic pins


def test_numpy_exp_and_scipy_expit_are_glibc_here() -> None:
    """Why gamma/poisson/softmax/expit can be 0 ULP: on this x86-64 (AVX2, no AVX512F) numpy 2.x's
    float64 ``exp`` has no SIMD kernel and calls libm's ``exp`` (glibc, what ``math.exp`` calls), and
    scipy's ``expit(x)`` is ``1 / (1 + std::exp(-x))``. The IR's ``exp`` is glibc's. If this test fails
    (an AVX512F machine, another libm), the 0-ULP budgets below for the exp-based outputs are void."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-745, 709, 200_000), rng.normal(size=200_000) * 4, rng.normal(size=50_000) * 1e-6])
    assert np.array_equal(np.exp(x), np.array([math.exp(v) for v in x]))
    y = x[np.abs(x) < 700]
    assert np.array_equal(scipy.special.expit(y), np.array([1.0 / (1.0 + math.exp(-v)) for v in y]))


def test_hgb_softmax_row_sum_is_a_strided_left_fold() -> None:
    """``softmax`` of HGB's Fortran-ordered raw scores sums each row left to right, one class column at
    a time; numpy's pairwise sum (what a C-ordered row would get) gives other bits on some rows, so the
    multiclass parity tests below can tell the two apart."""
    rng = np.random.default_rng(3)
    n_classes = 12
    raw = np.asfortranarray(rng.normal(size=(5000, n_classes)) * 4)
    got = softmax(raw)
    shifted = raw - raw.max(axis=1)[:, None]
    exps = np.exp(shifted)
    fold = exps[:, 0].copy()
    for k in range(1, n_classes):
        fold += exps[:, k]
    assert np.array_equal(got, exps / fold[:, None])
    pairwise = np.ascontiguousarray(exps).sum(axis=1)
    assert np.any(pairwise != fold)


# --------------------------------------------------------------------------- regressors


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "gamma", "poisson", "quantile"])
def test_regressor_losses(loss: str) -> None:
    x = numeric_data(11)
    clean = np.nan_to_num(x)
    y = clean[:, 0] - 0.5 * clean[:, 1] ** 2 + np.sin(clean[:, 2])
    if loss in ("gamma", "poisson"):
        y = np.exp(y / 4)
    kwargs = {"quantile": 0.3} if loss == "quantile" else {}
    estimator = HistGradientBoostingRegressor(
        loss=loss, max_iter=25, max_leaf_nodes=15, learning_rate=0.2, random_state=0, **kwargs
    ).fit(x, y)
    _, worst = parity(estimator, numeric_rows(estimator, x, 1))
    assert raw_sum_lengths(estimator) == [1 + estimator.n_iter_]
    assert worst == {"prediction": 0}, worst


def test_leaf_values_carry_the_learning_rate() -> None:
    """The Sum adds leaf values unscaled; a learning rate far from 1 would expose a missing factor."""
    x = numeric_data(5, nan_rate=0.0)
    y = x[:, 0] * 3
    estimator = HistGradientBoostingRegressor(max_iter=5, learning_rate=0.013, random_state=0).fit(x, y)
    _, worst = parity(estimator, numeric_rows(estimator, x, 5))
    assert worst == {"prediction": 0}


# --------------------------------------------------------------------------- classifiers


def test_binary_classifier() -> None:
    x = numeric_data(21)
    clean = np.nan_to_num(x)
    y = np.where(clean[:, 0] * clean[:, 1] + np.isnan(x[:, 2]) > 0.2, "yes", "no")
    estimator = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=12, random_state=0).fit(x, y)
    model, worst = parity(estimator, numeric_rows(estimator, x, 2))
    assert [o.name for o in model.outputs] == ["label", "probability_no", "probability_yes", "decision"]
    assert max_ulp(worst) == 0, worst


@pytest.mark.parametrize("n_classes", [3, 10])
def test_multiclass_classifier(n_classes: int) -> None:
    """10 classes: the softmax row sum has more than 8 terms, where numpy's pairwise sum would differ."""
    x = numeric_data(31 + n_classes)
    clean = np.nan_to_num(x)
    y = np.digitize(clean[:, 0] + 0.3 * clean[:, 1], np.quantile(clean[:, 0], np.linspace(0, 1, n_classes + 1)[1:-1]))
    estimator = HistGradientBoostingClassifier(max_iter=8, max_leaf_nodes=6, random_state=0).fit(x, y)
    assert estimator.n_trees_per_iteration_ == n_classes
    _, worst = parity(estimator, numeric_rows(estimator, x, 3))
    assert raw_sum_lengths(estimator) == [1 + estimator.n_iter_] * n_classes
    assert max_ulp(worst) == 0, worst


def test_softmax_with_pairwise_sum_would_fail() -> None:
    """Control for the test above: the same IR with numpy's pairwise row sum disagrees with
    scikit-learn on some 10-class rows, so the 0-ULP result is evidence for the left fold."""
    x = numeric_data(41)
    clean = np.nan_to_num(x)
    y = np.digitize(clean[:, 0], np.quantile(clean[:, 0], np.linspace(0, 1, 11)[1:-1]))
    estimator = HistGradientBoostingClassifier(max_iter=8, max_leaf_nodes=6, random_state=0).fit(x, y)
    decision = np.asfortranarray(estimator.decision_function(clean))
    proba = estimator.predict_proba(clean)
    exps = np.exp(decision - decision.max(axis=1)[:, None])
    pairwise = exps / np.ascontiguousarray(exps).sum(axis=1)[:, None]
    assert np.any(pairwise != proba)
    # the helper the linear models use is that pairwise order, so it must not be used here
    differing = exps[int(np.flatnonzero(np.any(pairwise != proba, axis=1))[0])]
    node = numpy_pairwise_sum([Const(float(v)) for v in differing])
    assert evaluate(Model((), (OutputField("t", "value", node),), ()), {})["t"] == float(differing.sum())


# --------------------------------------------------------------------------- categorical features

UNKNOWN_NUMBERS = [6.0, 7.0, -1.0, -3.0, 0.5, 1.5, 2.0000000000000004, 255.0, 256.0, 257.0, 1e300, -1e300, 2.0**53]
"""Category values never seen in training: unseen integers, negative, >= 256, non-integer, huge."""


def categorical_numeric_data(seed: int, n_rows: int = 500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(size=n_rows) * 3,
            rng.integers(0, 6, size=n_rows).astype(float),  # codes 0..5
            rng.normal(size=n_rows),
            rng.choice([-2.0, 3.0, 10.0, 40.0], size=n_rows),  # sparse, negative category
        ]
    )
    x[rng.random(size=n_rows) < 0.08, 1] = np.nan
    x[rng.random(size=n_rows) < 0.08, 0] = np.nan
    effect = np.array([0.0, 2.0, -1.0, 3.0, 0.5, -2.0])
    code = np.nan_to_num(x[:, 1], nan=0).astype(int)
    y = np.nan_to_num(x[:, 0]) + effect[code] * (~np.isnan(x[:, 1])) + (x[:, 3] == -2.0) * 1.5 + x[:, 2]
    return x, y


def category_rows(base: Row, column: str, known: Sequence[Any], unknown: Sequence[Any]) -> list[Row]:
    return [{**base, column: v} for v in [*known, *unknown]]


def numeric_category_rows(estimator: Any, x: np.ndarray, categorical: Sequence[int], seed: int) -> list[Row]:
    names = [f"x{i}" for i in range(x.shape[1])]
    rows = numeric_rows(estimator, x, seed)
    base = {n: float(v) for n, v in zip(names, np.nan_to_num(x[1]))}
    for index in categorical:
        known = sorted({float(v) for v in x[:, index] if not math.isnan(v)})
        extra = [-0.0, 0.0, 5e-324, math.nan, None, math.inf, -math.inf]
        rows += category_rows(base, names[index], known, [*UNKNOWN_NUMBERS, *extra])
    return rows


def categorical_split_tests(model: Model) -> set[tuple[str, bool]]:
    found = set()
    for node in topological_order(model.roots):
        if isinstance(node, TreeLeaf):
            found |= {(s.test, s.missing_left) for s in node.splits if s.test in ("in", "notin")}
    return found


@pytest.mark.parametrize("spec", ["indices", "mask"])
def test_numeric_coded_categories(spec: str) -> None:
    x, y = categorical_numeric_data(51)
    categorical = [1, 3]
    features: Any = categorical if spec == "indices" else [i in categorical for i in range(x.shape[1])]
    estimator = HistGradientBoostingRegressor(
        categorical_features=features, max_iter=30, max_leaf_nodes=12, random_state=0
    ).fit(x, y)
    rows = numeric_category_rows(estimator, x, categorical, 4)
    # infinity on a categorical column: the OrdinalEncoder (ensure_all_finite='allow-nan') refuses it
    model, worst = parity(estimator, rows, min_rejected=2 * len(categorical))
    assert worst == {"prediction": 0}, worst
    # unknown categories follow the missing side: `in` when missing goes right, `notin` when left
    assert categorical_split_tests(model) <= {("in", False), ("notin", True)}
    assert categorical_split_tests(model), "no categorical split was learned"


def test_both_category_set_forms_occur() -> None:
    """Across a few fits both forms appear, so both routings were exercised by parity."""
    forms: set[tuple[str, bool]] = set()
    for seed in range(52, 58):
        x, y = categorical_numeric_data(seed, n_rows=300)
        estimator = HistGradientBoostingRegressor(
            categorical_features=[1, 3], max_iter=10, max_leaf_nodes=8, random_state=0
        ).fit(x, y)
        model, worst = parity(estimator, numeric_category_rows(estimator, x, [1, 3], seed), min_rejected=4)
        assert worst == {"prediction": 0}, worst
        forms |= categorical_split_tests(model)
    assert forms == {("in", False), ("notin", True)}


def test_unknown_categories_route_like_missing_in_sklearn() -> None:
    """scikit-learn's own behaviour, independent of modelgen: every unknown value (unseen, negative,
    >= 256, non-integer, huge) predicts exactly like NaN, and +-inf is refused."""
    x, y = categorical_numeric_data(61)
    estimator = HistGradientBoostingRegressor(categorical_features=[1], max_iter=20, random_state=0).fit(x, y)
    base = np.nan_to_num(x[:1])
    probe = np.repeat(base, len(UNKNOWN_NUMBERS) + 1, axis=0)
    probe[:, 1] = [*UNKNOWN_NUMBERS, np.nan]
    predictions = estimator.predict(probe)
    assert np.all(predictions == predictions[-1])
    known = np.repeat(base, 6, axis=0)
    known[:, 1] = np.arange(6)
    assert np.any(estimator.predict(known) != predictions[-1])
    for value in (np.inf, -np.inf):
        bad = base.copy()
        bad[0, 1] = value
        with pytest.raises(ValueError, match="infinity"):
            estimator.predict(bad)


def string_frame(seed: int, n_rows: int = 500) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    colours = np.array(["red", "green", "blue", "teal", "Red", "é"], dtype=object)
    colour = colours[rng.integers(0, len(colours), size=n_rows)]
    colour[rng.random(size=n_rows) < 0.07] = np.nan
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n_rows) * 2,
            "colour": pd.Series(colour, dtype=object),
            "grade": rng.choice([-1.0, 0.0, 2.0, 7.0], size=n_rows),
        }
    )
    effect = {"red": 1.0, "green": -1.0, "blue": 2.5, "teal": 0.0, "Red": -2.0, "é": 0.7}
    y = frame["size"].to_numpy() + frame["colour"].map(effect).fillna(0.3).to_numpy() + (frame["grade"] == 2.0)
    return frame, y.astype(float)


def frame_rows(estimator: Any, frame: pd.DataFrame, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for record in frame.head(80).to_dict("records"):
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    base = {"size": 0.25, "colour": "red", "grade": 2.0}
    rows += [{**base, "size": float(v)} for v in rng.normal(size=60) * 3]
    rows += threshold_rows(base, numeric_thresholds(estimator, list(frame.columns)))
    rows += special_rows(base, ["size"])
    rows += category_rows(
        base, "colour", ["red", "green", "blue", "teal", "Red", "é"], ["RED", "", "purple", " red", None]
    )
    rows += category_rows(base, "grade", [-1.0, 0.0, 2.0, 7.0], [*UNKNOWN_NUMBERS, -0.0, math.nan, None, math.inf])
    return rows


@pytest.mark.parametrize("spec", ["names", "mask"])
def test_string_categories_from_a_frame(spec: str) -> None:
    """String categories are lowered natively: ``in``/``notin`` sets of strings on a string input."""
    frame, y = string_frame(71)
    features: Any = ["colour", "grade"] if spec == "names" else [False, True, True]
    estimator = HistGradientBoostingRegressor(
        categorical_features=features, max_iter=30, max_leaf_nodes=12, random_state=0
    ).fit(frame, y)
    model, worst = parity(estimator, frame_rows(estimator, frame, 5), string_inputs=["colour"], min_rejected=1)
    assert [f.dtype.value for f in model.inputs] == ["double", "string", "double"]
    assert worst == {"prediction": 0}, worst


def test_from_dtype_pandas_categorical() -> None:
    """``categorical_features='from_dtype'`` (the default) on a pandas Categorical column; scoring
    with plain object strings goes through the same fitted OrdinalEncoder."""
    frame, y = string_frame(81)
    frame["colour"] = frame["colour"].astype("category")
    estimator = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=10, random_state=0).fit(frame, y > 0.5)
    assert list(estimator.is_categorical_) == [False, True, False]
    _, worst = parity(estimator, frame_rows(estimator, frame, 6), string_inputs=["colour"])
    assert max_ulp(worst) == 0, worst


# --------------------------------------------------------------------------- early stopping, pipelines


def test_early_stopping_uses_only_the_fitted_iterations() -> None:
    x = numeric_data(91, n_rows=600)
    y = np.where(np.nan_to_num(x[:, 0]) + np.random.default_rng(0).normal(size=600) > 0, 1, 0)
    estimator = HistGradientBoostingClassifier(
        max_iter=300, early_stopping=True, n_iter_no_change=3, validation_fraction=0.2, random_state=0
    ).fit(x, y)
    assert estimator.n_iter_ < 300
    _, worst = parity(estimator, numeric_rows(estimator, x, 7))
    assert raw_sum_lengths(estimator) == [1 + estimator.n_iter_]
    assert max_ulp(worst) == 0, worst


def test_inside_a_pipeline() -> None:
    """Scaled numeric columns and a passed-through categorical column (index 2 after the transformer)."""
    x, y = categorical_numeric_data(95)
    x = x[:, [0, 2, 1]]  # numeric, numeric, categorical
    pipeline = Pipeline(
        [
            ("prep", ColumnTransformer([("scale", StandardScaler(), [0, 1]), ("keep", "passthrough", [2])])),
            ("hgb", HistGradientBoostingRegressor(categorical_features=[2], max_iter=25, random_state=0)),
        ]
    ).fit(x, y)
    rows = numeric_category_rows(pipeline[-1], np.nan_to_num(x), [], 8)
    base = {"x0": 0.5, "x1": -0.25, "x2": 3.0}
    scaler = pipeline[0].named_transformers_["scale"]
    # thresholds live in scaled space: map them back near the raw inputs and probe around them
    for name, values in numeric_thresholds(pipeline[-1], ["s0", "s1", "x2"]).items():
        column = int(name[1])
        for t in values:
            raw = t * scaler.scale_[column] + scaler.mean_[column]
            rows += [{**base, f"x{column}": v} for v in float32_neighbours(raw)]
    rows += category_rows(base, "x2", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [*UNKNOWN_NUMBERS, math.nan, math.inf])
    model, worst = parity(pipeline, rows, min_rejected=1)
    assert worst == {"prediction": 0}, worst
    assert categorical_split_tests(model)


# --------------------------------------------------------------------------- refusals, scale


def test_custom_loss_object_is_refused() -> None:
    x = numeric_data(99, nan_rate=0.0)
    estimator = HistGradientBoostingRegressor(loss=HalfSquaredError(), max_iter=3).fit(x, x[:, 0])
    with pytest.raises(UnsupportedModelError, match="custom loss"):
        lower_estimator(estimator)


def test_lowering_is_deterministic() -> None:
    x, y = categorical_numeric_data(97)
    estimator = HistGradientBoostingRegressor(categorical_features=[1, 3], max_iter=10, random_state=0).fit(x, y)
    first = lower_estimator(estimator)
    second = lower_estimator(estimator)
    assert first.outputs[0].expr is second.outputs[0].expr


def test_scale_500_iterations_depth_8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 500-iteration, max_depth=8 classifier through ``modelgen.compiler.lower`` (load + passes)
    with the default recursion limit; spot-checked against scikit-learn on a few rows."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 6))
    x[rng.random(size=x.shape) < 0.05] = np.nan
    y = (np.nan_to_num(x[:, 0]) * np.nan_to_num(x[:, 1]) + np.sin(3 * np.nan_to_num(x[:, 2])) > 0).astype(int)
    estimator = HistGradientBoostingClassifier(
        max_iter=500, max_depth=8, max_leaf_nodes=None, min_samples_leaf=5, early_stopping=False, random_state=0
    ).fit(x, y)
    assert estimator.n_iter_ == 500
    path = tmp_path / "hgb.joblib"
    joblib.dump(estimator, path)
    limit = sys.getrecursionlimit()
    start = time.perf_counter()
    model = lower(path)
    elapsed = time.perf_counter() - start
    assert sys.getrecursionlimit() == limit
    depths = [p.get_max_depth() for (p,) in estimator._predictors]
    leaves = sum(p.get_n_leaf_nodes() for (p,) in estimator._predictors)
    with capsys.disabled():
        print(f"\n[hgb scale] 500 trees, max depth {max(depths)}, {leaves} leaves: lower() {elapsed:.2f} s")
    assert tree_count(model) == 500
    assert elapsed < 10.0
    sums = [n for n in topological_order(model.roots) if isinstance(n, Sum)]
    assert sums and all(len(s.terms) <= 25 for s in sums)
    assert sum(1 for n in topological_order(model.roots) if isinstance(n, Lookup)) >= 500
    rows = adversarial_rows([f"x{i}" for i in range(6)], np.nan_to_num(x), 9, n_random=90, n_train=20)
    _ = assert_parity(model, estimator, rows[:130])
