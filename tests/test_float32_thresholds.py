"""The float32 threshold rewrite, proved on the neighbours of every threshold it can meet.

Truth is numpy's own float32 rounding: ``np.float32(x) <= t`` (what scikit-learn's trees do),
compared with the rewritten ``x <= t'`` for many doubles ``x`` around ``t``, ``t'`` and the
float32 values and rounding midpoints nearby.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelgen.ir import DOUBLE, FLOAT32, Cast, Input, InputField, Lookup, Model, OutputField, Split, TreeLeaf, leaf_ref
from modelgen.ir.evaluate import evaluate
from modelgen.passes.float32_thresholds import equivalent_split, rewrite_float32_thresholds

FLT_MAX = float(np.finfo(np.float32).max)


def _thresholds() -> list[float]:
    rng = np.random.default_rng(3)
    special = [
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.0,
        0.1,
        -0.1,
        1e-45,
        -1e-45,
        1.4e-45,
        1e-40,
        1e-38,
        FLT_MAX,
        -FLT_MAX,
        3.4028235677973366e38,
        -3.4028235677973366e38,
        1e39,
        -1e39,
        1e300,
        -1e300,
        5e-324,
        math.inf,
        -math.inf,
    ]
    as_float32 = [float(v) for v in rng.standard_normal(300).astype(np.float32)]
    midpoints = []
    for v in as_float32[:100]:
        up = float(np.nextafter(np.float32(v), np.float32(np.inf)))
        midpoints += [v + (up - v) / 2, math.nextafter(v + (up - v) / 2, math.inf)]
    wide = [float(v) for v in rng.standard_normal(200) * 10.0 ** rng.integers(-40, 39, 200)]
    return special + as_float32 + midpoints + wide


def _probes(*centres: float) -> list[float]:
    out: list[float] = []
    for c in centres:
        if math.isinf(c):
            out += [c, math.copysign(FLT_MAX, c), math.copysign(1.7976931348623157e308, c)]
            continue
        x = c
        for _ in range(4):
            out.append(x)
            x = math.nextafter(x, math.inf)
        x = c
        for _ in range(4):
            out.append(x)
            x = math.nextafter(x, -math.inf)
        f32 = np.float32(c) if abs(c) <= FLT_MAX else np.float32(math.copysign(FLT_MAX, c))
        for step in (np.float32(np.inf), np.float32(-np.inf)):
            g = float(np.nextafter(f32, step))
            out += [g, math.nextafter(g, math.inf), math.nextafter(g, -math.inf), (float(f32) + g) / 2]
    return [v for v in out if not math.isnan(v)] + [math.inf, -math.inf, 0.0, -0.0]


def _float32_truth(x: float, t: float, strict: bool) -> bool:
    with np.errstate(over="ignore"):
        rounded = float(np.float32(x))
    return rounded < t if strict else rounded <= t


@pytest.mark.parametrize("strict", [False, True], ids=["le", "lt"])
def test_equivalent_threshold_decides_like_float32_on_every_neighbour(strict: bool) -> None:
    checked = 0
    for t in _thresholds():
        test, moved = equivalent_split("lt" if strict else "le", t)
        for x in _probes(t, moved):
            decided = x <= moved if test == "le" else x < moved
            assert decided == _float32_truth(x, t, strict), (t, test, moved, x)
            checked += 1
    assert checked > 20_000


def _tree_model(test: str, threshold: float) -> Model:
    x = Input("x", DOUBLE)
    feature = Cast(Cast(x, FLOAT32), DOUBLE)
    leaf = TreeLeaf((feature,), (Split(0, test, threshold, True, leaf_ref(0), leaf_ref(1)),))
    return Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", Lookup(leaf, (1.0, 2.0), DOUBLE)),))


@pytest.mark.parametrize("test", ["le", "lt"])
@pytest.mark.parametrize("threshold", [0.1, 2.5000000596046448, -1e39, math.inf, -math.inf, 3.4028235677973366e38])
def test_pass_removes_the_cast_and_keeps_every_decision(test: str, threshold: float) -> None:
    model = _tree_model(test, threshold)
    rewritten = rewrite_float32_thresholds(model)
    leaf = rewritten.outputs[0].expr.index  # type: ignore[attr-defined]
    assert isinstance(leaf, TreeLeaf) and leaf.features == (Input("x", DOUBLE),)
    assert leaf.splits[0].test == ("lt" if (test, threshold) == ("lt", -math.inf) else "le")
    for x in [*_probes(threshold), None]:
        assert evaluate(rewritten, {"x": x}) == evaluate(model, {"x": x}), x


def test_features_used_by_set_splits_keep_their_cast() -> None:
    x = Input("x", DOUBLE)
    feature = Cast(Cast(x, FLOAT32), DOUBLE)
    leaf = TreeLeaf((feature,), (Split(0, "in", (1.0, 2.0), False, leaf_ref(0), leaf_ref(1)),))
    model = Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", Lookup(leaf, (1.0, 2.0), DOUBLE)),))
    assert rewrite_float32_thresholds(model) == model or rewrite_float32_thresholds(model).outputs[0].expr is (
        model.outputs[0].expr
    )
