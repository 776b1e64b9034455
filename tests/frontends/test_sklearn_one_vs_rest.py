"""``OneVsRestClassifier`` over linear binary classifiers: IR vs scikit-learn 1.9.1, by ULP.

Every model is lowered, scored with the IR interpreter and compared with the
estimator's own ``predict`` / ``predict_proba`` / ``decision_function`` on one batch
of rows (training rows, fresh rows, exact specials, NaN/inf rows that both sides must
refuse). Labels must be identical; numbers are compared by ULP distance, 0 wherever the
reference is plain IEEE arithmetic (one feature), a measured budget where it goes
through a BLAS dot product (several features).
"""

from __future__ import annotations

import csv
import io
import math
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from parity import Row, adversarial_rows, assert_parity, max_ulp, ulp_distance
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from emitters.base import EmitOptions
from modelgen.compiler import emit, lower, write_program
from modelgen.errors import InputRowError, UnsupportedModelError
from modelgen.frontends.sklearn import lower_estimator, reference_outputs
from modelgen.ir import Model
from modelgen.ir.evaluate import evaluate

# --------------------------------------------------------------------------- helpers


def same_bits(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b)


def classification_data(seed: int, n_features: int, labels: Sequence[Any], n_rows: int = 240) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, n_features)) * rng.uniform(0.5, 3.0, size=n_features)
    w = rng.normal(size=(n_features, len(labels)))
    index = np.argmax(x @ w + rng.normal(scale=0.5, size=(n_rows, len(labels))), axis=1)
    # every class present at least once, so OvR fits one real estimator per class
    index[: len(labels)] = np.arange(len(labels))
    return x, np.array(labels, dtype=object if isinstance(labels[0], str) else None)[index]


def by_kind(model: Model, worst: dict[str, float], kind: str) -> float:
    return max((worst[o.name] for o in model.outputs if o.kind == kind), default=0)


def model_parity(estimator: Any, x: np.ndarray, seed: int) -> tuple[Model, dict[str, float]]:
    model = lower_estimator(estimator)
    names = [f.name for f in model.inputs]
    assert names == [f"x{i}" for i in range(x.shape[1])]
    rows = adversarial_rows(names, x, seed, n_train=60)
    return model, assert_parity(model, estimator, rows, min_rejected=4 * len(names))


# --------------------------------------------------------------------------- numpy's row-sum order


@pytest.mark.parametrize("n_classes", range(2, 13))
def test_numpy_row_sum_of_ovr_matrix_is_a_strided_left_fold(n_classes: int) -> None:
    """``np.sum(np.array(cols).T, axis=1)`` (predict_proba's row sum) folds left, per row."""
    rng = np.random.default_rng(n_classes)
    for n_rows in (2, 3, 7, 50, 300, 20000):
        cols = [rng.uniform(0, 1, size=n_rows) * np.exp(rng.uniform(-40, 0, size=n_rows)) for _ in range(n_classes)]
        y = np.array(cols).T
        assert y.flags["F_CONTIGUOUS"] and not y.flags["C_CONTIGUOUS"]
        fold = y[:, 0].copy()
        for j in range(1, n_classes):
            fold = fold + y[:, j]
        sums = np.sum(y, axis=1)
        assert all(same_bits(float(a), float(b)) for a, b in zip(fold, sums)), (n_classes, n_rows)


def test_numpy_row_sum_of_a_one_row_batch_is_pairwise() -> None:
    """Why the scorer follows the batch order: a 1-row Y is contiguous and numpy sums it pairwise.

    From 9 classes on that differs from the fold on some rows, so scikit-learn itself
    scores a row differently alone than in a batch (this test pins that it does).
    """
    rng = np.random.default_rng(3)
    differs = 0
    for _ in range(400):
        cols = [rng.uniform(0, 1, size=1) * np.exp(rng.uniform(-40, 0, size=1)) for _ in range(12)]
        y = np.array(cols).T
        assert y.flags["C_CONTIGUOUS"]
        fold = float(y[0, 0])
        for j in range(1, 12):
            fold += float(y[0, j])
        differs += not same_bits(fold, float(np.sum(y, axis=1)[0]))
    assert differs > 0


# --------------------------------------------------------------------------- parity: LogisticRegression

LABEL_SETS: dict[str, list[Any]] = {
    "int3": [1, 2, 3],
    "str3": ["ant", "bee", "cat"],
    "int5": [0, 10, 20, 30, 40],
    "str5": ["a", "b", "c", "d", "e"],
}

# Several features: each binary estimator's X @ coef.T goes through BLAS (OpenBLAS gemv,
# FMA, its own order), the IR folds left to right. Measured here (max over rows, 5
# features): decisions differ by up to 2048 (3 classes) / 32768 (5 classes) ULP on rows far
# outside the training range where the score cancels to near zero (the absolute error
# stays inside the dot-product bound checked below); probabilities by up to 59 / 47 ULP.
MULTI_FEATURE_BUDGET: dict[str, dict[str, float]] = {
    "int3": {"decision": 2048, "probability": 64},
    "str3": {"decision": 2048, "probability": 64},
    "int5": {"decision": 32768, "probability": 64},
    "str5": {"decision": 32768, "probability": 64},
}


def assert_dot_product_bound(estimator: OneVsRestClassifier, model: Model, x: np.ndarray, seed: int) -> None:
    """Every decision is within twice the classic summation error bound of scikit-learn's.

    Both BLAS and the IR's left fold of n products plus the intercept lie within
    (n+1) * 2**-53 * (sum |x_i c_i| + |b|) of the exact value; unlike a ULP count this stays
    meaningful when the decision cancels to near zero, and fails on any wrong term.
    """
    names = [f.name for f in model.inputs]
    rows = [r for r in adversarial_rows(names, x, seed, n_train=60) if _scorable(model, r)]
    want = reference_outputs(estimator, rows, names)
    decisions = [o.name for o in model.outputs if o.kind == "decision"]
    n = len(names)
    checked = 0
    for row, expected in zip(rows, want):
        got = evaluate(model, row)
        values = np.array([row[name] for name in names])
        for binary, name in zip(estimator.estimators_, decisions):
            a, b = got[name], expected[name]
            if ulp_distance(a, b) == 0:
                continue
            with np.errstate(over="ignore"):
                magnitude = float(np.sum(np.abs(values * binary.coef_[0])) + abs(binary.intercept_[0]))
            assert math.isfinite(magnitude), (row, name, a, b)
            bound = 2 * (n + 1) * 2.0**-53 * magnitude + (n + 1) * 2.0**-1074
            assert abs(a - b) <= bound, (row, name, a, b)
            checked += 1
    assert checked > 0, "no decision differed: the bound check checked nothing (tighten the budget to 0?)"


@pytest.mark.parametrize("labels", list(LABEL_SETS))
def test_single_feature_ovr_logistic_is_bit_exact(labels: str) -> None:
    x, y = classification_data(seed=50, n_features=1, labels=LABEL_SETS[labels])
    estimator = OneVsRestClassifier(LogisticRegression()).fit(x, y)
    assert estimator.label_binarizer_.y_type_ == "multiclass"
    model, worst = model_parity(estimator, x, seed=51)
    # x*c + b, expit, a left-fold row sum and a division: plain IEEE, so 0 ULP
    assert max_ulp(worst) == 0, worst
    # one finiteness check per feature, not one per binary estimator
    assert len(model.checks) == 1


@pytest.mark.parametrize("labels", list(LABEL_SETS))
def test_multi_feature_ovr_logistic(labels: str) -> None:
    x, y = classification_data(seed=60, n_features=5, labels=LABEL_SETS[labels])
    estimator = OneVsRestClassifier(LogisticRegression(max_iter=1000)).fit(x, y)
    model, worst = model_parity(estimator, x, seed=61)
    budget = MULTI_FEATURE_BUDGET[labels]
    assert by_kind(model, worst, "decision") <= budget["decision"], worst
    assert by_kind(model, worst, "probability") <= budget["probability"], worst
    assert len(model.checks) == 5
    assert_dot_product_bound(estimator, model, x, seed=62)


@pytest.mark.parametrize("n_classes", range(2, 13))
def test_class_counts_2_to_12_single_feature_bit_exact(n_classes: int) -> None:
    """Row sums of 2..12 probabilities: the fold order is the reference's on every row."""
    labels = [f"c{i:02d}" for i in range(n_classes)]
    x, y = classification_data(seed=70 + n_classes, n_features=1, labels=labels, n_rows=60 * n_classes)
    estimator = OneVsRestClassifier(LogisticRegression(C=100.0)).fit(x, y)
    assert len(estimator.classes_) == n_classes
    _model, worst = model_parity(estimator, x, seed=90 + n_classes)
    assert max_ulp(worst) == 0, worst


def test_binary_ovr_is_handled_like_scikit_learn() -> None:
    """Two classes: one estimator, one decision column, [1-p, p] normalised, label = decision > 0."""
    x, y = classification_data(seed=80, n_features=1, labels=["no", "yes"])
    estimator = OneVsRestClassifier(LogisticRegression()).fit(x, y)
    assert estimator.label_binarizer_.y_type_ == "binary" and len(estimator.estimators_) == 1
    model, worst = model_parity(estimator, x, seed=81)
    assert [o.name for o in model.outputs] == ["label", "probability_no", "probability_yes", "decision"]
    assert max_ulp(worst) == 0, worst


def test_pipeline_with_standard_scaler() -> None:
    x, y = classification_data(seed=100, n_features=4, labels=["p", "q", "r", "s"])
    x = x * [1.0, 100.0, 0.01, 7.0] + [3.0, -50.0, 0.0, 1.0]
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("ovr", OneVsRestClassifier(LogisticRegression(max_iter=1000)))]
    ).fit(x, y)
    model, worst = model_parity(pipeline, x, seed=101)
    assert by_kind(model, worst, "decision") <= PIPELINE_BUDGET["decision"], worst
    assert by_kind(model, worst, "probability") <= PIPELINE_BUDGET["probability"], worst


# measured: StandardScaler is exact; the 4-feature BLAS dot product then gives decisions
# up to 64 ULP and probabilities up to 120 ULP apart (rows far outside the training range)
PIPELINE_BUDGET: dict[str, float] = {"decision": 64, "probability": 128}


# --------------------------------------------------------------------------- other binary estimators

OTHER_ESTIMATORS: list[tuple[str, Callable[[], Any], bool]] = [
    # liblinear is binary-only in 1.9: OvR is how a liblinear multiclass model is written
    ("LogisticRegression-liblinear", lambda: LogisticRegression(solver="liblinear"), True),
    ("SGDClassifier-log", lambda: SGDClassifier(loss="log_loss", random_state=0), True),
    ("SGDClassifier-huber", lambda: SGDClassifier(loss="modified_huber", random_state=0), True),
    ("SGDClassifier-hinge", lambda: SGDClassifier(random_state=0), False),
    ("LinearSVC", lambda: LinearSVC(random_state=0), False),
    ("RidgeClassifier", RidgeClassifier, False),
]


@pytest.mark.parametrize("name, factory, has_proba", OTHER_ESTIMATORS, ids=[e[0] for e in OTHER_ESTIMATORS])
@pytest.mark.parametrize("labels", ["int3", "str5"])
def test_other_binary_estimators_single_feature(
    name: str, factory: Callable[[], Any], has_proba: bool, labels: str
) -> None:
    x, y = classification_data(seed=110, n_features=1, labels=LABEL_SETS[labels])
    estimator = OneVsRestClassifier(factory()).fit(x, y)
    model, worst = model_parity(estimator, x, seed=111)
    assert any(o.kind == "probability" for o in model.outputs) is has_proba
    assert max_ulp(worst) == 0, worst


# --------------------------------------------------------------------------- predict's NaN / tie / zero-sum rules


# Hand-set 5-class, one-feature OvR models: one feature keeps each decision a single
# x*c + b (no BLAS order), and infinite intercepts make decisions NaN (inf - inf) or
# +-inf on purpose. Each case names one row where ``predict`` is *not*
# ``classes_[argmax(decision_function)]`` (argmax takes the first NaN; predict's reverse
# running maximum takes the first maximum after the last NaN) or where a tie decides.
NAN_CASES: dict[str, tuple[list[float], list[float], float, str, str]] = {
    # name: (coefs, intercepts, row x0, predict's label, argmax's label)
    "nan-first-tie-behind": ([2.0, 1.5, 1.5, -4.0, 0.25], [-math.inf, -1.0, -1.0, 0.5, 0.0], 1e308, "w", "v"),
    "nan-first-and-fourth": ([2.0, 1.5, 1.5, -4.0, 0.25], [-math.inf, -1.0, -1.0, math.inf, 0.0], 1e308, "z", "v"),
    "nan-last": ([0.5, 1.0, -1.0, 0.1, 2.0], [0.0, 0.0, 0.0, 0.0, -math.inf], 1e308, "v", "z"),
    "tie": ([1.0, 3.0, 3.0, -1.0, 0.5], [0.0, 0.25, 0.25, 0.0, 0.0], 1.0, "w", "w"),
}


def _hand_set_ovr(coefs: Sequence[float], intercepts: Sequence[float]) -> OneVsRestClassifier:
    """A fitted 5-class OvR(LogisticRegression) on one feature with its numbers replaced."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 1))
    y = np.array(["v", "w", "x", "y", "z"])[np.arange(200) % 5]
    estimator = OneVsRestClassifier(LogisticRegression()).fit(x, y)
    for binary, coef, intercept in zip(estimator.estimators_, coefs, intercepts):
        binary.coef_ = np.array([[coef]])
        binary.intercept_ = np.array([intercept])
    return estimator


@pytest.mark.parametrize("case", list(NAN_CASES))
def test_predict_nan_and_tie_rules_match_scikit_learn(case: str) -> None:
    coefs, intercepts, special_x, predict_label, argmax_label = NAN_CASES[case]
    estimator = _hand_set_ovr(coefs, intercepts)
    model = lower_estimator(estimator)
    xs = [special_x, -special_x, 1e308, -1e308, 1.7976931348623157e308, 0.0, -0.0, 1.0, 5e-324]
    xs += [float(v) for v in np.random.default_rng(6).normal(scale=3.0, size=60)]
    rows: list[Row] = [{"x0": v} for v in xs]
    with np.errstate(all="ignore"):
        expected = reference_outputs(estimator, rows, ["x0"])
        decisions = np.asarray(estimator.decision_function(np.array([[special_x], [0.0]])))[0]
    # the case really is what it says, in scikit-learn itself
    assert expected[0]["label"] == predict_label
    assert estimator.classes_[int(np.argmax(decisions))] == argmax_label
    for row, want in zip(rows, expected):
        got = evaluate(model, row)
        assert got["label"] == want["label"], (row, got["label"], want["label"])
        for name, value in want.items():
            if name != "label":
                assert ulp_distance(got[name], value) == 0, (row, name, got[name], value)


def test_all_zero_probability_row_is_left_unnormalised() -> None:
    x, y = classification_data(seed=120, n_features=1, labels=[0, 1, 2])
    estimator = OneVsRestClassifier(LogisticRegression()).fit(x, y)
    for binary in estimator.estimators_:
        binary.coef_ = np.array([[1.0]])
        binary.intercept_ = np.array([0.0])
    model = lower_estimator(estimator)
    row = {"x0": -1e300}
    want = reference_outputs(estimator, [row, {"x0": 1.0}], ["x0"])[0]
    assert want["probability_0"] == 0.0 and want["label"] == "0"
    got = evaluate(model, row)
    assert all(same_bits(got[k], v) for k, v in want.items() if k != "label")
    assert got["label"] == want["label"]


# --------------------------------------------------------------------------- refusals


def test_multilabel_is_refused_by_name() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 2))
    y = (rng.uniform(size=(60, 3)) < 0.5).astype(int)
    estimator = OneVsRestClassifier(LogisticRegression()).fit(x, y)
    with pytest.raises(UnsupportedModelError, match=r"multilabel OneVsRestClassifier.*at OneVsRestClassifier"):
        lower_estimator(estimator)


def test_unsupported_binary_estimator_names_class_and_place() -> None:
    x, y = classification_data(seed=130, n_features=2, labels=[0, 1, 2])
    estimator = Pipeline([("ovr", OneVsRestClassifier(SVC()))]).fit(x, y)
    with pytest.raises(
        UnsupportedModelError,
        match=r"OneVsRestClassifier over SVC \(at Pipeline step 'ovr' > OneVsRestClassifier > estimators_\[0\] SVC\)",
    ):
        lower_estimator(estimator)


# --------------------------------------------------------------------------- end to end through the python emitter


def _csv(names: Sequence[str], rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row[n] is None else repr(float(row[n])) for n in names])
    return out.getvalue()


def test_compiled_python_scorer_end_to_end(tmp_path: Path) -> None:
    x, y = classification_data(seed=140, n_features=3, labels=["lo", "mid", "hi", "top"])
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("ovr", OneVsRestClassifier(LogisticRegression(max_iter=1000)))]
    ).fit(x, y)
    path = tmp_path / "ovr.joblib"
    joblib.dump(pipeline, path)
    model = lower(path)  # frontend + every IR pass
    program = emit(model, "python", EmitOptions(runner=True))
    assert emit(lower(path), "python", EmitOptions(runner=True)) == program  # deterministic
    outdir = tmp_path / "out"
    write_program(program, outdir)
    python = sys.executable
    for argv in program.manifest.get("build", []):
        subprocess.run([python if a == "python3" else a for a in argv], cwd=outdir, check=True)
    names = [f.name for f in model.inputs]
    rows = [r for r in adversarial_rows(names, x, seed=141, n_random=120, n_train=60) if _scorable(model, r)]
    argv = [python if a == "python3" else a for a in program.manifest["run"]]
    result = subprocess.run(argv, cwd=outdir, input=_csv(names, rows), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    scored = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(scored) == len(rows)
    expected = reference_outputs(pipeline, rows, names)
    worst = 0.0
    for row, line, want in zip(rows, scored, expected):
        interpreted = evaluate(model, row)
        assert list(line) == list(want)
        assert line["label"] == want["label"] == interpreted["label"]
        for name, value in want.items():
            if name == "label":
                continue
            compiled = float(line[name])
            # the compiled scorer is the IR, bit for bit; the IR is within the BLAS budget of sklearn
            assert same_bits(compiled, interpreted[name]), (row, name)
            worst = max(worst, ulp_distance(compiled, value))
    assert worst <= END_TO_END_BUDGET


# measured: 64 ULP (3 features through StandardScaler and BLAS; the compiled scorer itself
# equals the IR interpreter bit for bit)
END_TO_END_BUDGET = 64


def _scorable(model: Model, row: Row) -> bool:
    try:
        evaluate(model, row)
    except InputRowError:
        return False
    return True
