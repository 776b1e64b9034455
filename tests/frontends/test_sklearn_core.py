"""scikit-learn frontend core: scalers, linear models/GLMs, pipelines, loader errors.

Every model is lowered to IR, scored with the IR interpreter and compared with
scikit-learn's own outputs (``reference_outputs``) by ULP distance; labels must match
exactly and rows scikit-learn refuses must be refused by the IR (row checks) too.
"""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Callable, Sequence
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from parity import adversarial_rows, assert_parity, max_ulp, ulp_distance
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import (
    ElasticNet,
    GammaRegressor,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
    TweedieRegressor,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, LinearSVR

from modelgen.errors import InputRowError, InvalidModelError, UnsupportedModelError
from modelgen.frontends.sklearn import (
    classifier_output_names,
    load_sklearn,
    lower_estimator,
    reference_outputs,
)
from modelgen.frontends.sklearn.columns import Column, InputTypes, collecting_row_checks
from modelgen.frontends.sklearn.models.numeric import numpy_clip, numpy_pairwise_sum
from modelgen.frontends.sklearn.outputs import class_strings
from modelgen.frontends.sklearn.pipeline import lower_step
from modelgen.ir import DOUBLE, Input, InputField, Model, OutputField
from modelgen.ir.evaluate import evaluate

# --------------------------------------------------------------------------- helpers


def test_ulp_distance_is_strict() -> None:
    assert ulp_distance(1.0, 1.0) == 0
    assert ulp_distance(0.0, -0.0) == 1
    assert ulp_distance(1.0, math.nextafter(1.0, 2.0)) == 1
    assert ulp_distance(math.nan, math.nan) == 0
    assert ulp_distance(math.nan, 0.0) == math.inf
    assert ulp_distance(math.inf, math.inf) == 0
    assert ulp_distance(-5e-324, 5e-324) == 3


# --------------------------------------------------------------------------- scalers


def lower_transformer_model(transformer: Any, names: Sequence[str]) -> Model:
    """A model whose outputs are a transformer's output columns (to test transforms alone)."""
    inputs = InputTypes(tuple(names))
    with collecting_row_checks() as checks:
        columns = lower_step(transformer, [Column.raw(n, inputs) for n in names], "test")
    outputs = [OutputField(f"out{i}", "value", c.as_double("test")) for i, c in enumerate(columns)]
    return Model(tuple(InputField(n, inputs.dtype_of(n)) for n in names), tuple(outputs), tuple(checks))


def transformer_parity(transformer: Any, names: Sequence[str], rows: list[dict[str, Any]]) -> float:
    model = lower_transformer_model(transformer, names)
    worst = 0.0
    accepted = 0
    for row in rows:
        x = np.array([[math.nan if row[n] is None else row[n] for n in names]], dtype=np.float64)
        try:
            got = evaluate(model, row)
        except InputRowError:
            with pytest.raises(ValueError):
                transformer.transform(x)
            continue
        accepted += 1
        want = transformer.transform(x)[0]
        for i, value in enumerate(want):
            worst = max(worst, ulp_distance(got[f"out{i}"], float(value)))
    assert accepted >= 100
    return worst


SCALER_DATA = np.random.default_rng(1).normal(loc=[3.0, -200.0, 0.0], scale=[1.0, 50.0, 1e-3], size=(80, 3))
SCALER_DATA[:, 2][::7] = 0.0  # a column with exact zeros


@pytest.mark.parametrize(
    "scaler",
    [
        StandardScaler(),
        StandardScaler(with_mean=False),
        StandardScaler(with_std=False),
        MinMaxScaler(),
        MinMaxScaler(feature_range=(-1.0, 0.0), clip=True),
        MinMaxScaler(feature_range=(0.0, 1.0), clip=True),
        MaxAbsScaler(),
        MaxAbsScaler(clip=True),
        RobustScaler(),
        RobustScaler(with_centering=False),
        RobustScaler(with_scaling=False, quantile_range=(10.0, 90.0)),
    ],
    ids=repr,
)
def test_scaler_parity_is_bit_exact(scaler: Any) -> None:
    names = ["x0", "x1", "x2"]
    scaler.fit(SCALER_DATA)
    rows = adversarial_rows(names, SCALER_DATA, seed=2)
    # elementwise float64 arithmetic in the same order as scikit-learn: 0 ULP
    assert transformer_parity(scaler, names, rows) == 0


def test_constant_feature_scaler() -> None:
    data = np.column_stack([np.full(20, 4.0), np.arange(20.0)])
    scaler = StandardScaler().fit(data)  # scale_ of a constant column is 1.0
    rows = adversarial_rows(["x0", "x1"], data, seed=3, n_random=120)
    assert transformer_parity(scaler, ["x0", "x1"], rows) == 0


def test_numpy_clip_truth_table() -> None:
    """numpy_clip is np.clip on every signed zero / NaN / inf combination (pins numpy's ties)."""
    values = [-0.0, 0.0, -1.0, 1.0, 0.5, -0.5, math.nan, math.inf, -math.inf, 2.0, -2.0]
    bounds = [(-0.0, 1.0), (0.0, 1.0), (-1.0, -0.0), (-1.0, 0.0), (-1.0, 1.0), (0.0, 0.0), (-0.0, 0.0)]
    x = Input("x", DOUBLE)
    for low, high in bounds:
        model = Model((InputField("x", DOUBLE),), (OutputField("y", "value", numpy_clip(x, low, high, "t")),))
        want = np.clip(np.array(values * 5, dtype=np.float64), low, high)  # long enough for SIMD loops
        for value, expected in zip(values * 5, want):
            assert ulp_distance(evaluate(model, {"x": value})["y"], float(expected)) == 0, (value, low, high)


@pytest.mark.parametrize("width", [1, 2, 3, 7, 8, 9, 15, 16, 17, 40, 128, 129, 300])
def test_numpy_pairwise_sum_matches_numpy(width: int) -> None:
    names = [f"x{i}" for i in range(width)]
    model = Model(
        tuple(InputField(n, DOUBLE) for n in names),
        (OutputField("s", "value", numpy_pairwise_sum([Input(n, DOUBLE) for n in names])),),
    )
    rng = np.random.default_rng(width)
    data = rng.normal(size=(60, width)) * np.exp(rng.uniform(-30, 30, size=(60, width)))
    data[0] = [1.0] + [1.1e-16] * (width - 1)  # order-sensitive row
    sums = data.sum(axis=1)
    for row, expected in zip(data, sums):
        got = evaluate(model, dict(zip(names, (float(v) for v in row))))["s"]
        assert ulp_distance(got, float(expected)) == 0


# --------------------------------------------------------------------------- models


def regression_data(seed: int, n_features: int, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, n_features)) * rng.uniform(0.5, 5.0, size=n_features)
    w = rng.normal(size=n_features)
    y = x @ w + rng.normal(scale=0.1, size=120)
    if positive:
        y = np.exp(0.2 * (x @ w) / (np.abs(x @ w).max() + 1)) + rng.uniform(0.0, 0.1, size=120)
    return x, y


def classification_data(seed: int, n_features: int, labels: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(150, n_features)) * rng.uniform(0.5, 3.0, size=n_features)
    w = rng.normal(size=(n_features, len(labels)))
    index = np.argmax(x @ w + rng.normal(scale=0.5, size=(150, len(labels))), axis=1)
    return x, np.array(labels, dtype=object if isinstance(labels[0], str) else None)[index]


def model_parity(estimator: Any, x: np.ndarray, seed: int) -> dict[str, float]:
    model = lower_estimator(estimator)
    names = [f.name for f in model.inputs]
    assert names == [f"x{i}" for i in range(x.shape[1])]
    return assert_parity(model, estimator, adversarial_rows(names, x, seed))


REGRESSORS: list[tuple[str, Callable[[], Any], bool]] = [
    ("LinearRegression", LinearRegression, False),
    ("LinearRegression-nointercept", lambda: LinearRegression(fit_intercept=False), False),
    ("Ridge", lambda: Ridge(alpha=0.5), False),
    ("Lasso", lambda: Lasso(alpha=0.05), False),  # has exact-zero coefficients
    ("ElasticNet", lambda: ElasticNet(alpha=0.05, l1_ratio=0.3), False),
    ("SGDRegressor", lambda: SGDRegressor(random_state=0), False),
    ("LinearSVR", lambda: LinearSVR(random_state=0, max_iter=5000), False),
    ("PoissonRegressor", lambda: PoissonRegressor(alpha=0.01), True),
    ("GammaRegressor", lambda: GammaRegressor(alpha=0.01), True),
    ("Tweedie-log", lambda: TweedieRegressor(power=1.5, alpha=0.01), True),
    ("Tweedie-identity", lambda: TweedieRegressor(power=0.0, link="identity", alpha=0.01), False),
]


def assert_dot_product_bound(estimator: Any, x: np.ndarray, seed: int) -> None:
    """Every linear score is within the classic summation error bound of scikit-learn's.

    Both BLAS and the IR's left-to-right sum of n products plus an intercept are within
    gamma * sum(|x_i c_i|) + |b| of the exact value (gamma ~ (n+1) * 2**-53), so they are within twice
    that of each other. Unlike a raw ULP count this stays meaningful when the score
    cancels to near zero, and it fails on any wrong coefficient, term or order of magnitude.
    """
    model = lower_estimator(estimator)
    names = [f.name for f in model.inputs]
    coef = np.atleast_2d(estimator.coef_)
    intercept = np.broadcast_to(np.ravel(estimator.intercept_), (coef.shape[0],))
    linear = [o for o in model.outputs if o.kind == "decision"] or [model.outputs[0]]
    rows = [
        r
        for r in adversarial_rows(names, x, seed)
        if all(isinstance(r[n], float) and math.isfinite(r[n]) for n in names)
    ]
    want = reference_outputs(estimator, rows, names)
    n = coef.shape[1]
    for row, expected in zip(rows, want):
        got = evaluate(model, row)
        values = np.array([row[name] for name in names])
        for k, output in enumerate(linear):
            a, b = got[output.name], expected[output.name]
            if ulp_distance(a, b) == 0:
                continue
            with np.errstate(over="ignore"):
                magnitude = float(np.sum(np.abs(values * coef[k])) + abs(intercept[k]))
            # an overflowing magnitude gives no bound: then only identical results pass
            assert math.isfinite(magnitude), (row, output.name, a, b)
            bound = 2 * (n + 1) * 2.0**-53 * magnitude + (n + 1) * 2.0**-1074
            assert abs(a - b) <= bound, (row, output.name, a, b)


# Multi-feature dot products: scikit-learn's X @ coef goes through BLAS (OpenBLAS dgemv/dgemm,
# FMA and blocked accumulators) whose order cannot be reproduced portably; the IR sums left to
# right. Where the score cancels to near zero (rows of 1e300 / 5e-324 / random values far
# outside the training range) a last-bit difference of the large terms is many ULPs of the
# small result, hence the budgets below (measured on this machine, max over label sets).
# assert_dot_product_bound checks the same outputs against the condition-scaled bound.
@pytest.mark.parametrize("name, factory, positive", REGRESSORS, ids=[r[0] for r in REGRESSORS])
def test_single_feature_regressor_is_bit_exact(name: str, factory: Callable[[], Any], positive: bool) -> None:
    x, y = regression_data(seed=10, n_features=1, positive=positive)
    estimator = factory().fit(x, y)
    # one feature: x*c (one rounding, FMA with a zero accumulator is the same) + intercept
    assert max_ulp(model_parity(estimator, x, seed=11)) == 0


@pytest.mark.parametrize("name, factory, positive", REGRESSORS, ids=[r[0] for r in REGRESSORS])
def test_multi_feature_regressor_parity(name: str, factory: Callable[[], Any], positive: bool) -> None:
    x, y = regression_data(seed=20, n_features=4, positive=positive)
    estimator = factory().fit(x, y)
    worst = model_parity(estimator, x, seed=21)
    assert max_ulp(worst) <= MULTI_FEATURE_BUDGET[name], worst
    if name not in LOG_LINK:
        assert_dot_product_bound(estimator, x, seed=22)


LOG_LINK = {"PoissonRegressor", "GammaRegressor", "Tweedie-log"}


CLASSIFIERS: list[tuple[str, Callable[[], Any]]] = [
    ("LogisticRegression", lambda: LogisticRegression(max_iter=1000)),
    ("LogisticRegression-liblinear", lambda: LogisticRegression(solver="liblinear")),
    ("SGDClassifier-hinge", lambda: SGDClassifier(random_state=0)),
    ("SGDClassifier-log", lambda: SGDClassifier(loss="log_loss", random_state=0)),
    ("SGDClassifier-huber", lambda: SGDClassifier(loss="modified_huber", random_state=0)),
    ("LinearSVC", lambda: LinearSVC(random_state=0)),
    ("RidgeClassifier", RidgeClassifier),
]
LABEL_SETS = {
    "int2": [0, 1],
    "str2": ["no", "yes"],
    "int3": [1, 2, 3],
    "str4": ["a", "b", "c", "d"],
}


# liblinear is binary-only in scikit-learn 1.9: multiclass label sets do not exist for it
CLASSIFIER_CASES = [
    pytest.param(name, factory, labels, id=f"{name}-{labels}")
    for name, factory in CLASSIFIERS
    for labels in LABEL_SETS
    if not (name == "LogisticRegression-liblinear" and len(LABEL_SETS[labels]) > 2)
]


@pytest.mark.parametrize(("name", "factory", "labels"), CLASSIFIER_CASES)
def test_single_feature_classifier(name: str, factory: Callable[[], Any], labels: str) -> None:
    x, y = classification_data(seed=30, n_features=1, labels=LABEL_SETS[labels])
    estimator = factory().fit(x, y)
    worst = model_parity(estimator, x, seed=31)
    # decisions are x*c + b: exact. Probabilities use exp/expit/sum/divide in numpy's order:
    # exact as well (numpy's float64 exp is glibc's here; scipy's expit is 1/(1+exp(-x))).
    assert max_ulp(worst) == 0, worst


@pytest.mark.parametrize(("name", "factory", "labels"), CLASSIFIER_CASES)
def test_multi_feature_classifier(name: str, factory: Callable[[], Any], labels: str) -> None:
    x, y = classification_data(seed=40, n_features=5, labels=LABEL_SETS[labels])
    estimator = factory().fit(x, y)
    worst = model_parity(estimator, x, seed=41)
    assert max_ulp(worst) <= MULTI_FEATURE_BUDGET[name], worst
    assert_dot_product_bound(estimator, x, seed=42)


MULTI_FEATURE_BUDGET: dict[str, float] = {
    # regressors (4 features); log-link GLMs: exp() of a score that is off by <= 1 ULP
    "LinearRegression": 64,
    "LinearRegression-nointercept": 512,
    "Ridge": 256,
    "Lasso": 64,
    "ElasticNet": 256,
    "SGDRegressor": 1024,
    "LinearSVR": 256,
    "PoissonRegressor": 1,
    "GammaRegressor": 1,
    "Tweedie-log": 1,
    "Tweedie-identity": 48,
    # classifiers (5 features): decisions cancel near zero; probabilities inherit the
    # decision's difference amplified by expit/softmax and the normalising division
    "LogisticRegression": 320,
    "LogisticRegression-liblinear": 256,
    "SGDClassifier-hinge": 1024,
    "SGDClassifier-log": 977,
    "SGDClassifier-huber": 128,
    "LinearSVC": 160,
    "RidgeClassifier": 256,
}


def test_classifier_output_names_and_kinds() -> None:
    x, y = classification_data(seed=50, n_features=2, labels=["a", "b", "c"])
    model = lower_estimator(LogisticRegression().fit(x, y))
    assert [(o.name, o.kind, o.class_label) for o in model.outputs] == [
        ("label", "label", None),
        ("probability_a", "probability", "a"),
        ("probability_b", "probability", "b"),
        ("probability_c", "probability", "c"),
        ("decision_a", "decision", "a"),
        ("decision_b", "decision", "b"),
        ("decision_c", "decision", "c"),
    ]
    x, y = classification_data(seed=50, n_features=2, labels=[True, False])
    model = lower_estimator(LinearSVC().fit(x, y))
    assert [o.name for o in model.outputs] == ["label", "decision"]
    assert [n.name for n in classifier_output_names(["False", "True"], True, 1)] == [
        "label", "probability_False", "probability_True", "decision"
    ]


def test_bool_labels_parity() -> None:
    x, y = classification_data(seed=51, n_features=3, labels=[False, True])
    estimator = LogisticRegression().fit(x, y)
    worst = model_parity(estimator, x, seed=52)
    assert max_ulp(worst) <= MULTI_FEATURE_BUDGET["LogisticRegression"]


def test_colliding_class_strings_are_refused() -> None:
    # scikit-learn cannot fit mixed label types, so test the naming rule itself
    with pytest.raises(UnsupportedModelError, match="colliding"):
        class_strings([1, "1"], "test")
    assert class_strings(np.array([1, 2]), "t") == ("1", "2")
    assert class_strings(np.array([True, False]), "t") == ("True", "False")
    assert class_strings(np.array(["a", "b"], dtype=object), "t") == ("a", "b")


def test_multi_output_regression_is_refused() -> None:
    x, y = regression_data(seed=60, n_features=2)
    with pytest.raises(UnsupportedModelError, match="multi-output LinearRegression"):
        lower_estimator(LinearRegression().fit(x, np.column_stack([y, y])))


def test_rows_with_nan_and_infinity_are_rejected_like_sklearn() -> None:
    x, y = regression_data(seed=61, n_features=2)
    model = lower_estimator(Pipeline([("scale", StandardScaler()), ("reg", Ridge())]).fit(x, y))
    with pytest.raises(InputRowError, match="infinite"):
        evaluate(model, {"x0": math.inf, "x1": 1.0})
    with pytest.raises(InputRowError, match="missing"):
        evaluate(model, {"x0": None, "x1": 1.0})


# --------------------------------------------------------------------------- pipelines


def frame_data(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 12, size=200),
            "income": rng.lognormal(10, 1, size=200),
            "score": rng.normal(0, 1, size=200),
            "unused": rng.normal(size=200),
        }
    )
    y = np.where(0.03 * frame.age + 0.2 * frame.score + rng.normal(size=200) > 1.2, "yes", "no")
    return frame, y


def frame_rows(frame: pd.DataFrame, seed: int) -> list[dict[str, Any]]:
    names = list(frame.columns)
    return adversarial_rows(names, frame.to_numpy(dtype=np.float64), seed)


def test_column_transformer_pipeline_on_dataframe() -> None:
    frame, y = frame_data(70)
    pipeline = Pipeline(
        [
            ("prep", ColumnTransformer([("num", StandardScaler(), ["score", "age"])], remainder="passthrough")),
            ("clf", LogisticRegression()),
        ]
    ).fit(frame, y)
    model = lower_estimator(pipeline)
    assert [(f.name, f.dtype) for f in model.inputs] == [(n, DOUBLE) for n in frame.columns]
    assert [o.name for o in model.outputs] == ["label", "probability_no", "probability_yes", "decision"]
    assert any("Pipeline step 'prep' > ColumnTransformer 'num' > StandardScaler" in c.message for c in model.checks)
    worst = assert_parity(model, pipeline, frame_rows(frame, 71))
    assert max_ulp(worst) <= MULTI_FEATURE_BUDGET["LogisticRegression"], worst


@pytest.mark.parametrize(
    "selector",
    [[1, 0], slice(0, 2), [True, True, False, False], ["income", "age"]],
    ids=["int-list", "slice", "bool-mask", "names"],
)
@pytest.mark.parametrize("remainder", ["drop", "passthrough", "scaler"])
def test_column_transformer_selectors_and_order(selector: Any, remainder: str) -> None:
    frame, _y = frame_data(72)
    target = frame.age * 2.0 + frame.score
    rest: Any = MinMaxScaler() if remainder == "scaler" else remainder
    pipeline = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("a", RobustScaler(), selector), ("skip", "drop", ["unused"]), ("b", "passthrough", ["score"])],
                    remainder=rest,
                ),
            ),
            ("reg", LinearRegression()),
        ]
    ).fit(frame, target)
    model = lower_estimator(pipeline)
    # every input is declared, read or not (an unread one as double)
    assert [f.name for f in model.inputs] == list(frame.columns)
    worst = assert_parity(model, pipeline, frame_rows(frame, 73))
    assert max_ulp(worst) <= MULTI_FEATURE_BUDGET["LinearRegression"], worst


def test_nested_pipeline_and_passthrough_steps() -> None:
    x, y = regression_data(seed=74, n_features=3)
    pipeline = Pipeline(
        [
            ("none", None),
            ("inner", Pipeline([("std", StandardScaler()), ("skip", "passthrough")])),
            ("ct", ColumnTransformer([("m", MaxAbsScaler(), [2, 0])], remainder="passthrough")),
            ("reg", Ridge()),
        ]
    ).fit(x, y)
    model = lower_estimator(pipeline)
    worst = assert_parity(model, pipeline, adversarial_rows(["x0", "x1", "x2"], x, 75))
    assert max_ulp(worst) <= MULTI_FEATURE_BUDGET["Ridge"], worst


# --------------------------------------------------------------------------- errors and loading


def test_unsupported_estimator_names_class_and_step() -> None:
    x, y = classification_data(seed=80, n_features=2, labels=[0, 1])
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", SVC())]).fit(x, y)
    with pytest.raises(UnsupportedModelError) as info:
        lower_estimator(pipeline)
    assert str(info.value) == "unsupported: estimator SVC (at Pipeline step 'clf')"


def test_unsupported_transformer_names_path() -> None:
    from sklearn.decomposition import PCA

    x, y = regression_data(seed=81, n_features=3)
    pipeline = Pipeline(
        [("prep", ColumnTransformer([("pca", PCA(1), [0, 1])], remainder="passthrough")), ("reg", Ridge())]
    ).fit(x, y)
    expected = "transformer PCA (at Pipeline step 'prep' > ColumnTransformer 'pca')"
    with pytest.raises(UnsupportedModelError, match=re.escape(expected)):
        lower_estimator(pipeline)


def test_load_roundtrip_and_metadata(tmp_path: Any) -> None:
    x, y = regression_data(seed=82, n_features=2)
    path = tmp_path / "model.joblib"
    joblib.dump(Ridge().fit(x, y), path)
    model = load_sklearn(path)
    assert model.metadata["source"] == "sklearn.linear_model._ridge.Ridge"
    assert model.metadata["sklearn_version_pickled"] == model.metadata["sklearn_version_running"]
    assert "warning" not in model.metadata
    plain = tmp_path / "model.pkl"
    plain.write_bytes(pickle.dumps(Ridge().fit(x, y)))
    assert [o.name for o in load_sklearn(plain).outputs] == ["prediction"]


def test_version_mismatch_is_a_metadata_warning(tmp_path: Any) -> None:
    import sklearn

    x, y = regression_data(seed=83, n_features=2)
    blob = pickle.dumps(Ridge().fit(x, y))
    running = sklearn.__version__.encode()
    old = b"0.0.0.0.0"[: len(running)]
    assert running in blob
    path = tmp_path / "old.pkl"
    path.write_bytes(blob.replace(running, old))
    model = load_sklearn(path)
    assert model.metadata["sklearn_version_pickled"] == old.decode()
    assert "old.pkl was pickled by scikit-learn" in model.metadata["warning"]


def test_corrupt_and_truncated_files(tmp_path: Any) -> None:
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"this is not a pickle at all")
    with pytest.raises(InvalidModelError, match=r"garbage\.pkl: cannot be read"):
        load_sklearn(garbage)
    x, y = regression_data(seed=84, n_features=2)
    whole = tmp_path / "whole.joblib"
    joblib.dump(Ridge().fit(x, y), whole)
    truncated = tmp_path / "truncated.joblib"
    truncated.write_bytes(whole.read_bytes()[:40])
    with pytest.raises(InvalidModelError, match=r"truncated\.joblib: cannot be read"):
        load_sklearn(truncated)
    with pytest.raises(InvalidModelError, match=r"missing\.pkl"):
        load_sklearn(tmp_path / "missing.pkl")


def test_not_an_estimator(tmp_path: Any) -> None:
    path = tmp_path / "dict.pkl"
    path.write_bytes(pickle.dumps({"coef": [1.0]}))
    with pytest.raises(UnsupportedModelError, match=r"builtins\.dict"):
        load_sklearn(path)


def test_unfitted_estimator(tmp_path: Any) -> None:
    path = tmp_path / "unfitted.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression()))
    with pytest.raises(InvalidModelError, match=r"LogisticRegression .*not fitted"):
        load_sklearn(path)
    x, _y = regression_data(seed=85, n_features=2)
    pipeline = Pipeline([("scale", StandardScaler().fit(x)), ("reg", Ridge())])
    with pytest.raises(InvalidModelError, match="not fitted"):
        lower_estimator(pipeline)
