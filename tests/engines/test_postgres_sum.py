"""PostgreSQL's n-ary ``Sum`` (``emitters/sql/postgres_sum.py``) on the real server, bit for bit
against the IR reference: partial sums that overflow mid-sum, cancel back, or meet an infinity
of the other sign must give IEEE's +-inf / finite / NaN, left to right, never "overflow"."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pytest

from emitters.sql import postgres_sum
from modelgen.engines import pg_cluster
from modelgen.ir import DOUBLE, Const, Input, InputField, Lookup, Model, OutputField, Split, Sum, TreeLeaf, leaf_ref

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emitters"))
from helpers_sql import mismatches  # tests/emitters is not a package

DBL_MAX = 1.7976931348623157e308
N = 5


def _model() -> Model:
    xs = [Input(f"x{i}", DOUBLE) for i in range(N)]
    tree = TreeLeaf((xs[0],), (Split(0, "le", 0.0, True, leaf_ref(0), leaf_ref(1)),))
    leaves = Lookup(tree, (DBL_MAX, -DBL_MAX), DOUBLE)  # a term with a static bound of DBL_MAX
    return Model(
        tuple(InputField(x.name, DOUBLE) for x in xs),
        (
            OutputField("plain", "value", Sum(tuple(xs))),
            OutputField("with_constant", "value", Sum((xs[0], Const(DBL_MAX), *xs[1:]))),
            OutputField("with_tree", "value", Sum((leaves, *xs[1:], leaves))),
            OutputField("small", "value", Sum((Const(1.0), leaves, Const(-1.0)))),
        ),
    )


def _rows() -> list[dict[str, float]]:
    big = [DBL_MAX, 2.0**1023, 1.5 * 2.0**1023, 2.0**1018, 2.0**1017 * 1.75, 2.0**970, 2.0**969]
    pieces = big + [-v for v in big] + [0.0, -0.0, 1.0, -1.0, 5e-324, math.inf, -math.inf, math.nan]
    rows = [
        [DBL_MAX, DBL_MAX, -DBL_MAX, -DBL_MAX, 1.0],  # overflows to inf, stays inf
        [DBL_MAX, -DBL_MAX, DBL_MAX, 2.0**970, -(2.0**970)],  # cancels back to finite
        [DBL_MAX, DBL_MAX, -math.inf, 1.0, 0.0],  # inf + -inf: NaN
        [-DBL_MAX, -DBL_MAX, 2.0**1023, 0.0, -0.0],  # -inf
        [2.0**1023, 2.0**1023 - 2.0**970, -(2.0**1023), 0.0, 0.0],  # just below the edge: finite
        [2.0**1023, 2.0**1023 - 2.0**969, 0.0, 0.0, 0.0],  # exactly half-way: rounds to inf (even)
        [-0.0, -0.0, -0.0, -0.0, -0.0],  # the sign of a zero sum
        [math.nan, DBL_MAX, DBL_MAX, 0.0, 0.0],
    ]
    rng = random.Random(20261121)
    rows += [[rng.choice(pieces) for _ in range(N)] for _ in range(300)]
    return [{f"x{i}": v for i, v in enumerate(row)} for row in rows]


def test_sums_overflow_cancel_and_propagate_like_ieee(postgres: pg_cluster.PgCluster) -> None:
    problems = mismatches(_model(), "postgres", _rows())
    assert not problems, problems[:10]


def test_the_rows_do_overflow_mid_sum() -> None:
    # the test above would not test the guard if no row's partial sums reached inf
    overflowing = 0
    for row in _rows():
        total = 0.0
        for value in row.values():
            before = total
            total += value
            overflowing += math.isinf(total) and math.isfinite(before) and math.isfinite(value)
    assert overflowing >= 20


@pytest.mark.parametrize(
    "bounds",
    [[1.0, None, 2.0], [None] * 25, [DBL_MAX, None], [None, 2.0**1023, None], [0.0, None]],
)
def test_dynamic_bound_is_the_largest_that_keeps_the_total_finite(bounds: list[float | None]) -> None:
    d = postgres_sum._dynamic_bound(bounds)
    assert d is not None
    assert math.isfinite(postgres_sum._left_to_right([d if b is None else b for b in bounds]))
    assert math.isinf(postgres_sum._left_to_right([2 * d if b is None else b for b in bounds]))


def test_known_terms_that_overflow_alone_always_take_the_exact_path() -> None:
    assert postgres_sum._dynamic_bound([DBL_MAX, DBL_MAX, None]) is None
