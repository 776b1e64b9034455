"""IR vs scikit-learn parity for the frontend tests: ULP distance, adversarial rows, one batch compared."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from modelgen.errors import InputRowError
from modelgen.frontends.sklearn import reference_outputs
from modelgen.ir import Model
from modelgen.ir.evaluate import evaluate

Row = dict[str, Any]

SPECIALS = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e300, -1e300, 1.7976931348623157e308]
"""Exact values every column gets in turn: signed zeros, subnormals, extremes."""
REJECTED = [math.nan, math.inf, -math.inf, None]
"""Values a numeric model must refuse (unless an imputer fills them) exactly when scikit-learn does."""


def _ordered(x: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    # negative doubles count down from -1, so -0.0 sits one step below +0.0
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF) - 1


def ulp_distance(a: float, b: float) -> float:
    """Steps between two doubles; NaN == NaN is 0, NaN vs number is inf, -0.0 vs 0.0 is 1."""
    if math.isnan(a) or math.isnan(b):
        return 0 if math.isnan(a) and math.isnan(b) else math.inf
    return abs(_ordered(a) - _ordered(b))


def adversarial_rows(
    names: Sequence[str], data: np.ndarray, seed: int, n_random: int = 300, n_train: int = 50
) -> list[Row]:
    """The first ``n_train`` training rows, fresh random rows, exact specials in every column,
    NaN/inf/missing rows."""
    rng = np.random.default_rng(seed)
    rows: list[Row] = [{n: float(v) for n, v in zip(names, r)} for r in data[:n_train]]
    scale = np.abs(data).max(axis=0) * 2 + 1
    fresh = rng.uniform(-1, 1, size=(n_random, len(names))) * scale
    rows += [{n: float(v) for n, v in zip(names, r)} for r in fresh]
    base = {n: float(v) for n, v in zip(names, data[0])}
    for name in names:
        for special in [*SPECIALS, *REJECTED]:
            rows.append({**base, name: special})
    rows.append(dict.fromkeys(names, 0.0))
    rows.append(dict.fromkeys(names, -0.0))
    return rows


def assert_parity(
    model: Model, estimator: Any, rows: list[Row], string_inputs: Sequence[str] = (), min_rejected: int = 0
) -> dict[str, float]:
    """IR vs scikit-learn on every row; returns the max ULP distance per numeric output.

    A row the IR refuses must be refused by scikit-learn too, at least ``min_rejected`` rows must
    be refused, and the rest are scored by scikit-learn in one batch, as a user would."""
    names = [f.name for f in model.inputs]
    accepted: list[Row] = []
    scored: list[dict[str, Any]] = []
    rejected = 0
    for row in rows:
        try:
            scored.append(evaluate(model, row))
            accepted.append(row)
        except InputRowError:
            rejected += 1
            # the IR refuses this row: scikit-learn must refuse it too
            with pytest.raises(InputRowError):
                reference_outputs(estimator, [row], names, string_inputs=string_inputs)
    assert rejected >= min_rejected, "the NaN/inf/missing rows were not refused"
    assert len(accepted) >= 100, "too few scorable rows for the test to mean anything"
    # one batch (n >= 2): the IR must not accept a row scikit-learn refuses, and this fixes
    # numpy's row-sum order
    expected = reference_outputs(estimator, accepted, names, string_inputs=string_inputs)
    worst: dict[str, float] = {o.name: 0 for o in model.outputs if o.kind != "label"}
    for row, got, want in zip(accepted, scored, expected):
        assert list(got) == list(want), "output names differ from the reference's"
        for output in model.outputs:
            if output.kind == "label":
                assert got[output.name] == want[output.name], (row, output.name)
            else:
                worst[output.name] = max(worst[output.name], ulp_distance(got[output.name], want[output.name]))
    return worst


def max_ulp(worst: dict[str, float]) -> float:
    """The largest of ``assert_parity``'s per-output distances (0 for label-only models)."""
    return max(worst.values(), default=0)
