"""Measure Java's Math/StrictMath against CPython's ``math`` (glibc): the table in ../visitor.py.

Run from anywhere: ``python emitters/java/numerics/measure.py``. Needs javac/java and numpy.
Prints, per function and Java class, how many of 300,000 results differ from glibc and the
largest distance in ULP. Inputs are fixed-seed samples over the ranges models use.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from pathlib import Path

import numpy as np

N = 300_000
FUNCTIONS = ("exp", "log", "log1p", "expm1", "sqrt", "pow")


def _inputs(name: str, rng: np.random.Generator) -> np.ndarray:
    third, quarter, half = N // 3, N // 4, N // 2
    if name == "exp":  # whole non-overflowing range, the logistic range, and near 0
        parts = [rng.uniform(-745, 709.7, third), rng.uniform(-20, 20, third), rng.uniform(-1, 1, N - 2 * third)]
    elif name == "log":
        parts = [
            10.0 ** rng.uniform(-300, 300, half),
            rng.uniform(0.5, 2, quarter),
            rng.uniform(0, 1e3, N - 3 * quarter),
        ]
    elif name == "log1p":
        parts = [
            rng.uniform(-0.999, 10, half),
            rng.uniform(-1e-3, 1e-3, quarter),
            10.0 ** rng.uniform(-10, 10, quarter),
        ]
    elif name == "expm1":
        parts = [rng.uniform(-40, 40, half), rng.uniform(-1e-3, 1e-3, quarter), rng.uniform(-1, 1, quarter)]
    elif name == "sqrt":
        parts = [10.0 ** rng.uniform(-300, 300, half), rng.uniform(0, 100, half)]
    else:  # pow: (base, exponent) pairs, interleaved
        bases = np.concatenate([rng.uniform(0, 100, half), rng.uniform(0.5, 2, half)])
        exponents = np.concatenate([rng.uniform(-10, 10, half), rng.uniform(-100, 100, half)])
        return np.stack([bases, exponents], axis=1).reshape(-1)
    return np.concatenate(parts)


def _reference(name: str, x: np.ndarray) -> np.ndarray:
    if name == "pow":
        return np.array([math.pow(a, b) for a, b in x.reshape(-1, 2)])
    function = getattr(math, name)
    return np.array([function(v) for v in x])


def _ordered(values: np.ndarray) -> np.ndarray:
    bits = values.view(np.int64).copy()
    negative = bits < 0
    bits[negative] = np.int64(-0x8000000000000000) - bits[negative]
    return bits


def main() -> None:
    """Compile Measure.java, run it per function, print mismatch rates and max ULP."""
    here = Path(__file__).resolve().parent
    rng = np.random.default_rng(12345)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["javac", "-d", work, str(here / "Measure.java")], check=True)
        for name in FUNCTIONS:
            x = _inputs(name, rng)
            path = Path(work) / f"in_{name}.bin"
            x.astype("<f8").tofile(path)
            subprocess.run(["java", "-cp", work, "Measure", name, str(path)], check=True)
            expected = _ordered(_reference(name, x))
            for kind in ("math", "strict"):
                actual = _ordered(np.fromfile(f"{path}.{kind}", dtype="<f8"))
                distance = np.abs(actual - expected)
                wrong = int(np.count_nonzero(distance))
                print(
                    f"{name:6s} {kind:6s} mismatches={wrong:6d} ({wrong / len(expected):.3%}) max_ulp={distance.max()}"
                )


if __name__ == "__main__":
    main()
