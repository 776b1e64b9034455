"""scikit-learn trees, forests, gradient boosting and isolation forests: IR vs scikit-learn, bit for bit.

Every model is lowered, run through the default passes (so the float32 threshold rewrite is
what gets scored), evaluated with the IR interpreter and compared with scikit-learn's own
outputs on adversarial rows: every threshold of the model, its float64 neighbours, the
float32 values around it and the float32 rounding midpoints between them (and their
neighbours), NaN, +-inf, +-0, subnormals and the float32 overflow boundary. Numeric outputs
must be 0 ULP from the reference and labels / leaves identical on every row.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import joblib
import numpy as np
import pytest
from parity import SPECIALS, adversarial_rows, assert_parity, max_ulp
from sklearn.base import is_classifier
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from modelgen.compiler import lower
from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn import load_sklearn, lower_estimator
from modelgen.frontends.sklearn.models.trees import tree_routing
from modelgen.ir import DOUBLE, FLOAT32, Cast, Input, InputField, Lookup, Model, Node, OutputField, TreeLeaf
from modelgen.ir.evaluate import evaluate
from modelgen.ir.traversal import topological_order
from modelgen.passes import run_passes
from modelgen.passes.float32_thresholds import FLOAT32_OVERFLOW_BOUNDARY

Row = dict[str, Any]
FLT_MAX = float(np.finfo(np.float32).max)
FLOAT32_SPECIALS = [
    FLT_MAX,
    -FLT_MAX,
    FLOAT32_OVERFLOW_BOUNDARY,
    -FLOAT32_OVERFLOW_BOUNDARY,
    math.nextafter(FLOAT32_OVERFLOW_BOUNDARY, 0.0),
    math.nextafter(-FLOAT32_OVERFLOW_BOUNDARY, 0.0),
    float(np.finfo(np.float32).smallest_subnormal),
    float(np.finfo(np.float32).smallest_subnormal) / 2,  # the tie rounds to +0.0 (even)
    -float(np.finfo(np.float32).smallest_subnormal) / 2,
]
"""Values around float32's range: FLT_MAX, the overflow boundary (refused) and the double below it."""


# --------------------------------------------------------------------------- adversarial rows


def _float32_step(f: float, up: bool) -> float:
    return float(np.nextafter(np.float32(f), np.float32(np.inf if up else -np.inf)))


def threshold_values(t: float) -> list[float]:
    """``t``, its double neighbours, the float32 values around it, the rounding midpoints between those."""
    values = [t, math.nextafter(t, math.inf), math.nextafter(t, -math.inf)]
    if math.isfinite(t) and abs(t) < FLT_MAX:
        with np.errstate(over="ignore"):
            f = float(np.float32(t))
        around = [_float32_step(f, up=False), f, _float32_step(f, up=True)]
        for g in around:
            values += [g, math.nextafter(g, math.inf), math.nextafter(g, -math.inf)]
        for a, b in itertools.pairwise(around):
            if math.isfinite(a) and math.isfinite(b):
                mid = a + (b - a) / 2  # exact: float32 spacing leaves room in a double
                values += [mid, math.nextafter(mid, math.inf), math.nextafter(mid, -math.inf)]
    return list(dict.fromkeys(v for v in values if not math.isnan(v)))


def _trees_with_columns(estimator: Any) -> list[tuple[Any, list[int]]]:
    """Every fitted ``Tree`` of a (bare) model, with the X column of each tree feature index."""
    width = int(estimator.n_features_in_)
    every = list(range(width))
    if hasattr(estimator, "tree_"):
        return [(estimator.tree_, every)]
    if isinstance(estimator, IsolationForest):
        subset = int(estimator._max_features) != width
        return [
            (tree.tree_, [int(f) for f in features] if subset else every)
            for tree, features in zip(estimator.estimators_, estimator.estimators_features_)
        ]
    return [(tree.tree_, every) for tree in np.ravel(np.asarray(estimator.estimators_, dtype=object))]


def threshold_rows(estimator: Any, names: Sequence[str], base: np.ndarray, limit: int = 4000) -> list[Row]:
    """One row per (split, adversarial value), other columns from the training rows in turn."""
    pairs: list[tuple[int, float]] = []
    for tree, columns in _trees_with_columns(estimator):
        for node in range(tree.node_count):
            if tree.children_left[node] != -1:
                pairs.append((columns[int(tree.feature[node])], float(tree.threshold[node])))
    pairs = list(dict.fromkeys(pairs))
    rows: list[Row] = []
    for i, (column, t) in enumerate(pairs):
        for value in threshold_values(t):
            row = {n: float(v) for n, v in zip(names, base[(i + len(rows)) % len(base)])}
            row[names[column]] = value
            rows.append(row)
    if len(rows) > limit:
        # keep every split's values for the first splits, then a deterministic stride
        rows = rows[: limit // 2] + rows[limit // 2 :: max(1, (len(rows) - limit // 2) // (limit // 2))]
    return rows


def all_rows(estimator: Any, names: Sequence[str], data: np.ndarray, seed: int) -> list[Row]:
    """Training rows, random rows, specials, NaN/inf/missing (``parity.adversarial_rows``) and threshold rows."""
    rows = adversarial_rows(names, data, seed, n_random=100, n_train=40)
    base = {n: float(v) for n, v in zip(names, np.nan_to_num(data[0]))}
    for name in names:
        rows += [{**base, name: v} for v in FLOAT32_SPECIALS]
    return rows + threshold_rows(estimator, names, data)


def names_of(width: int) -> list[str]:
    return [f"x{i}" for i in range(width)]


def check_model(estimator: Any, data: np.ndarray, seed: int = 0, refuses: bool = True) -> dict[str, float]:
    """Lower + passes + IR interpreter vs scikit-learn on ``all_rows``; every output 0 ULP, labels equal."""
    names = names_of(data.shape[1])
    model = run_passes(lower_estimator(estimator))
    worst = assert_parity(model, estimator, all_rows(estimator, names, data, seed), min_rejected=1 if refuses else 0)
    assert max_ulp(worst) == 0, worst
    return worst


# --------------------------------------------------------------------------- data


def regression_data(
    seed: int, n: int = 160, width: int = 3, nan_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, width)) * np.array([1.0, 1e3, 1e-3, 7.0][:width])
    x[:, 0] = np.round(x[:, 0], 1)  # repeated values: thresholds that are midpoints of float32 neighbours
    y = x[:, 0] + np.sin(x[:, 1] / 300) + rng.normal(scale=0.1, size=n)
    if nan_fraction:
        x[rng.random(x.shape) < nan_fraction] = np.nan
    return x, y


def classification_data(
    seed: int, n_classes: int, labels: Sequence[Any] | None = None, nan_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    x, y = regression_data(seed, nan_fraction=nan_fraction)
    edges = np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1])
    codes = np.searchsorted(edges, y)
    classes = np.asarray(labels if labels is not None else list(range(n_classes)), dtype=object)
    out = classes[codes]
    return x, out.astype(str) if labels is not None and isinstance(labels[0], str) else out.astype(int)


# --------------------------------------------------------------------------- single trees


@pytest.mark.parametrize("cls", [DecisionTreeClassifier, ExtraTreeClassifier])
@pytest.mark.parametrize(
    ("n_classes", "labels", "nan_fraction"),
    [(2, ["no", "yes"], 0.0), (3, None, 0.1), (4, ["a", "b", "c", "d"], 0.15)],
)
def test_tree_classifier(cls: type, n_classes: int, labels: list[str] | None, nan_fraction: float) -> None:
    x, y = classification_data(1, n_classes, labels, nan_fraction)
    check_model(cls(random_state=0, max_depth=6).fit(x, y), x)


@pytest.mark.parametrize("cls", [DecisionTreeRegressor, ExtraTreeRegressor])
@pytest.mark.parametrize("nan_fraction", [0.0, 0.1])
def test_tree_regressor(cls: type, nan_fraction: float) -> None:
    x, y = regression_data(2, nan_fraction=nan_fraction)
    check_model(cls(random_state=0, max_depth=7).fit(x, y), x)


@pytest.mark.parametrize("cls", [DecisionTreeRegressor, ExtraTreeRegressor])
def test_multi_output_tree_regressor(cls: type) -> None:
    x, y = regression_data(3, nan_fraction=0.05)
    targets = np.c_[y, -2.5 * y + np.cos(y), np.zeros_like(y)]
    model = lower_estimator(cls(random_state=0, max_depth=5).fit(x, targets))
    assert [o.name for o in model.outputs] == ["prediction_0", "prediction_1", "prediction_2"]
    check_model(cls(random_state=0, max_depth=5).fit(x, targets), x)


def test_single_leaf_tree_ties_pick_the_first_class() -> None:
    # one leaf of [0.5, 0.5]: no split at all, and predict's argmax tie goes to the first class
    x = np.array([[0.0], [0.0], [1.0], [1.0]])
    tree = DecisionTreeClassifier(max_depth=1, min_samples_split=5).fit(x, ["b", "a", "a", "b"])
    model = run_passes(lower_estimator(tree))
    assert not any(isinstance(n, TreeLeaf) for n in topological_order(model.roots))
    rows = [{"x0": v} for v in [*SPECIALS, *np.linspace(-3, 3, 120)]]
    worst = assert_parity(model, tree, rows)
    assert max_ulp(worst) == 0
    assert evaluate(model, {"x0": 0.0})["label"] == "a"


def test_nan_direction_is_the_stored_one_even_without_missing_values_in_training() -> None:
    # trained without NaN, the tree still routes NaN by missing_go_to_left; both directions occur
    x, y = regression_data(4)
    tree = DecisionTreeRegressor(random_state=0, max_depth=6).fit(x, y)
    internal = tree.tree_.children_left != -1
    assert set(tree.tree_.missing_go_to_left[internal].tolist()) == {0, 1}
    nan_rows = [{**{n: float(v) for n, v in zip(names_of(3), r)}, f"x{j}": math.nan} for r in x for j in range(3)]
    model = run_passes(lower_estimator(tree))
    assert max_ulp(assert_parity(model, tree, nan_rows)) == 0


# --------------------------------------------------------------------------- leaves identical to apply()


def _leaf_model(estimator: Any, width: int) -> tuple[Model, list[int]]:
    """One output per tree: the scikit-learn node id of the leaf the IR routes to (after the passes)."""
    names = names_of(width)
    features = [Cast(Cast(Input(n, DOUBLE), FLOAT32), DOUBLE) for n in names]
    outputs: list[OutputField] = []
    kept: list[int] = []
    for i, (tree, columns) in enumerate(_trees_with_columns(estimator)):
        routing = tree_routing(tree, [features[c] for c in columns], "test")
        if routing.leaf is not None:
            ids = tuple(float(n) for n in routing.leaf_nodes)
            outputs.append(OutputField(f"leaf{i}", "value", Lookup(routing.leaf, ids, DOUBLE)))
            kept.append(i)
    model = Model(tuple(InputField(n, DOUBLE) for n in names), tuple(outputs))
    return run_passes(model), kept


def _sklearn_leaves(estimator: Any, x: np.ndarray) -> np.ndarray:
    if isinstance(estimator, IsolationForest):
        x32 = x.astype(np.float32)
        return np.stack([tree.apply(x32[:, columns]) for tree, columns in _isolation_columns(estimator)], axis=1)
    leaves = estimator.apply(x)
    return leaves.reshape(len(x), -1)


def _isolation_columns(estimator: IsolationForest) -> list[tuple[Any, list[int]]]:
    width = int(estimator.n_features_in_)
    subset = int(estimator._max_features) != width
    return [
        (tree, [int(f) for f in features] if subset else list(range(width)))
        for tree, features in zip(estimator.estimators_, estimator.estimators_features_)
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: DecisionTreeClassifier(random_state=0, max_depth=6),
        lambda: ExtraTreesRegressor(n_estimators=4, max_depth=5, random_state=0),
        lambda: GradientBoostingClassifier(n_estimators=3, max_depth=3, random_state=0),
        lambda: IsolationForest(n_estimators=4, max_features=2, random_state=0),
    ],
)
def test_leaves_are_the_ones_apply_returns(make: Callable[[], Any]) -> None:
    estimator = make()
    nan = not isinstance(estimator, GradientBoostingClassifier)
    x, y = classification_data(5, 3, nan_fraction=0.1 if nan else 0.0)
    estimator.fit(x) if isinstance(estimator, IsolationForest) else estimator.fit(x, y)
    model, kept = _leaf_model(estimator, x.shape[1])
    names = names_of(x.shape[1])
    rows = [r for r in threshold_rows(estimator, names, x) if all(abs(v) < FLT_MAX for v in r.values())]
    if not nan:
        rows = [r for r in rows if not any(math.isnan(v) for v in r.values())]
    assert len(rows) > 200
    want = _sklearn_leaves(estimator, np.array([[r[n] for n in names] for r in rows]))
    for row, expected in zip(rows, want):
        got = evaluate(model, row)
        assert [got[f"leaf{i}"] for i in kept] == [float(expected[i]) for i in kept], row


# --------------------------------------------------------------------------- forests


@pytest.mark.parametrize("cls", [RandomForestClassifier, ExtraTreesClassifier])
@pytest.mark.parametrize(
    ("n_classes", "labels", "nan_fraction"), [(2, [0, 1], 0.0), (3, ["lo", "mid", "hi"], 0.1), (5, None, 0.05)]
)
def test_forest_classifier(cls: type, n_classes: int, labels: list[Any] | None, nan_fraction: float) -> None:
    x, y = classification_data(6, n_classes, labels, nan_fraction)
    check_model(cls(n_estimators=7, max_depth=4, random_state=0).fit(x, y), x)


@pytest.mark.parametrize("cls", [RandomForestRegressor, ExtraTreesRegressor])
@pytest.mark.parametrize("nan_fraction", [0.0, 0.1])
def test_forest_regressor(cls: type, nan_fraction: float) -> None:
    x, y = regression_data(7, nan_fraction=nan_fraction)
    check_model(cls(n_estimators=6, max_depth=5, random_state=0).fit(x, y), x)


def test_multi_output_forest_regressor() -> None:
    x, y = regression_data(8, nan_fraction=0.05)
    forest = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(x, np.c_[y, y * y])
    assert max_ulp(check_model(forest, x)) == 0


def test_forest_sum_starts_from_positive_zero() -> None:
    # every leaf -0.0 (written into the fitted trees: a criterion's mean never gives -0.0):
    # each tree predicts -0.0, numpy's zeros + -0.0 + ... is +0.0, and so must the IR be
    x, y = regression_data(9)
    forest = RandomForestRegressor(n_estimators=3, max_depth=2, random_state=0).fit(x, y)
    for tree in forest.estimators_:
        tree.tree_.value[:] = -0.0
    assert math.copysign(1.0, forest.estimators_[0].predict(x[:1])[0]) == -1.0
    model = run_passes(lower_estimator(forest))
    (got,) = evaluate(model, {"x0": 0.0, "x1": 0.0, "x2": 0.0}).values()
    want = forest.predict(np.zeros((1, 3)))[0]
    assert math.copysign(1.0, got) == math.copysign(1.0, want) == 1.0


# --------------------------------------------------------------------------- gradient boosting


@pytest.mark.parametrize(
    ("n_classes", "labels", "kwargs"),
    [
        (2, ["neg", "pos"], {}),
        (2, [3, 7], {"loss": "exponential"}),
        (2, ["neg", "pos"], {"init": "zero", "subsample": 0.7}),
        (3, None, {}),
        (4, ["w", "x", "y", "z"], {"init": "zero", "learning_rate": 0.3}),
    ],
)
def test_gradient_boosting_classifier(n_classes: int, labels: list[Any] | None, kwargs: dict[str, Any]) -> None:
    x, y = classification_data(10, n_classes, labels)
    estimator = GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0, **kwargs).fit(x, y)
    check_model(estimator, x)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"loss": "absolute_error"},
        {"loss": "huber", "alpha": 0.8},
        {"loss": "quantile", "alpha": 0.25},
        {"init": "zero"},
        {"init": DummyRegressor(strategy="median"), "learning_rate": 0.37},
    ],
)
def test_gradient_boosting_regressor(kwargs: dict[str, Any]) -> None:
    x, y = regression_data(11)
    check_model(GradientBoostingRegressor(n_estimators=9, max_depth=3, random_state=0, **kwargs).fit(x, y), x)


def test_gradient_boosting_label_of_a_zero_score_is_the_second_class() -> None:
    # predict uses raw >= 0: every leaf value zeroed (init 'zero') makes the raw score exactly 0.0
    x, y = classification_data(20, 2, ["first", "second"])
    estimator = GradientBoostingClassifier(n_estimators=3, max_depth=2, init="zero", random_state=0).fit(x, y)
    for tree in estimator.estimators_.ravel():
        tree.tree_.value[:] = 0.0
    assert estimator.predict(x[:1])[0] == "second"
    model = run_passes(lower_estimator(estimator))
    assert max_ulp(assert_parity(model, estimator, all_rows(estimator, names_of(3), x, 21), min_rejected=1)) == 0
    assert evaluate(model, {"x0": 0.0, "x1": 0.0, "x2": 0.0})["label"] == "second"


def test_gradient_boosting_with_a_row_dependent_init_is_refused() -> None:
    x, y = regression_data(12)
    estimator = GradientBoostingRegressor(n_estimators=2, init=LinearRegression()).fit(x, y)
    with pytest.raises(UnsupportedModelError, match="init"):
        lower_estimator(estimator)


# --------------------------------------------------------------------------- isolation forest


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_features": 2},
        {"contamination": 0.1, "max_samples": 40},
        {"max_features": 1, "bootstrap": True},  # one column per tree, rows drawn with replacement
        {"max_samples": 1},  # average path length of one sample is 0: the ratio is 1
    ],
)
@pytest.mark.parametrize("nan_fraction", [0.0, 0.1])
def test_isolation_forest(kwargs: dict[str, Any], nan_fraction: float) -> None:
    x, _ = regression_data(13, nan_fraction=nan_fraction)
    estimator = IsolationForest(n_estimators=6, random_state=0, **kwargs).fit(x)
    worst = check_model(estimator, x, refuses=False)
    assert set(worst) == {"score", "decision"}


# --------------------------------------------------------------------------- pipelines, files


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_pipeline(StandardScaler(), RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0)),
        lambda: make_pipeline(SimpleImputer(), GradientBoostingClassifier(n_estimators=5, random_state=0)),
        lambda: make_pipeline(StandardScaler(), IsolationForest(n_estimators=4, random_state=0)),
        lambda: make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=4, random_state=0)),
    ],
)
def test_tree_models_as_the_last_pipeline_step(make: Callable[[], Any]) -> None:
    x, y = classification_data(14, 3, ["p", "q", "r"], nan_fraction=0.05)
    pipeline = make()
    if isinstance(pipeline[-1], IsolationForest):
        pipeline.fit(x)
    else:
        pipeline.fit(x, y if is_classifier(pipeline) else np.arange(len(x), dtype=np.float64))
    names = names_of(x.shape[1])
    rows = adversarial_rows(names, np.nan_to_num(x), 15)
    worst = assert_parity(run_passes(lower_estimator(pipeline)), pipeline, rows)
    assert max_ulp(worst) == 0, worst


def test_joblib_file_round_trip(tmp_path: Any) -> None:
    x, y = classification_data(16, 3, ["a", "b", "c"], nan_fraction=0.1)
    forest = ExtraTreesClassifier(n_estimators=3, max_depth=3, random_state=0).fit(x, y)
    path = tmp_path / "forest.joblib"
    joblib.dump(forest, path)
    model = run_passes(load_sklearn(path))
    assert max_ulp(assert_parity(model, forest, all_rows(forest, names_of(3), x, 17), min_rejected=1)) == 0


def test_multi_output_classifier_is_refused() -> None:
    x, y = classification_data(18, 2)
    tree = DecisionTreeClassifier(max_depth=2).fit(x, np.c_[y, 1 - y])
    with pytest.raises(UnsupportedModelError, match="multi-output"):
        lower_estimator(tree)


# --------------------------------------------------------------------------- scale


def _no_recursion_lower(estimator: Any, path: Any) -> tuple[float, float, int, int]:
    """Dump, then ``compiler.lower`` (load + passes); seconds to lower, to walk, node and split counts."""
    joblib.dump(estimator, path)
    start = time.perf_counter()
    model = lower(path)
    lowered = time.perf_counter() - start
    start = time.perf_counter()
    nodes: list[Node] = topological_order(model.roots)
    walked = time.perf_counter() - start
    return lowered, walked, len(nodes), sum(len(n.splits) for n in nodes if isinstance(n, TreeLeaf))


def test_scale_forest_and_boosting_lower_without_recursion(tmp_path: Any) -> None:
    rng = np.random.default_rng(19)
    x = rng.normal(size=(1000, 8))
    y = x @ rng.normal(size=8) + rng.normal(scale=0.5, size=1000)
    forest = RandomForestRegressor(n_estimators=1000, max_depth=12, n_jobs=2, random_state=0).fit(x, y)
    boosting = GradientBoostingRegressor(n_estimators=1000, max_depth=8, random_state=0).fit(x, y)
    for name, estimator in (("forest", forest), ("boosting", boosting)):
        seconds, walk, n_nodes, n_splits = _no_recursion_lower(estimator, tmp_path / f"{name}.joblib")
        print(f"{name}: lower {seconds:.2f} s, walk {walk:.2f} s, {n_nodes} IR nodes, {n_splits} splits")
        assert n_nodes > 1000
