"""fold_one_hot_sums: which runs fold (fixtures), exactness against the reference evaluator
(exhaustive over signed zeros, cancellation, NaN and infinities), that the exactness check catches
a wrong sign of zero, and a 1,000-category one-hot on every runner target."""

from __future__ import annotations

import importlib
import itertools
import math
import struct
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
    Binary,
    Cast,
    Const,
    IfElse,
    Input,
    InputField,
    IsIn,
    Model,
    Node,
    OutputField,
    Sum,
    topological_order,
)
from modelgen.ir.evaluate import evaluate
from modelgen.passes import PASSES, run_passes
from modelgen.passes.fold_one_hot_sums import fold_one_hot_sums
from modelgen.passes.simplify_identities import simplify_identities
from modelgen.passes.split_long_sums import split_long_sums

# the package re-exports the pass function under the module's own name
module = importlib.import_module("modelgen.passes.fold_one_hot_sums")

CAT = Input("cat", STRING)
OTHER = Input("other", STRING)
NUM = Input("num", DOUBLE)
ACC = Input("acc", DOUBLE)


def hot(values: tuple[Any, ...], x: Node = CAT) -> Node:
    return Cast(IsIn(x, values), DOUBLE)


def mul(values: tuple[Any, ...], c: float, x: Node = CAT) -> Node:
    return Binary("mul", hot(values, x), Const(c))


def rmul(values: tuple[Any, ...], c: float, x: Node = CAT) -> Node:
    return Binary("mul", Const(c), hot(values, x))


def chain(arms: Sequence[tuple[tuple[Any, ...], float]], z: float, x: Node = CAT) -> Node:
    node: Node = Const(z)
    for values, a in reversed(arms):
        node = IfElse(IsIn(x, values), Const(a), node)
    return node


def model_of(node: Node) -> Model:
    inputs = tuple(InputField(n.name, n.dtype) for n in topological_order([node]) if isinstance(n, Input))
    return Model(tuple(sorted(inputs, key=lambda f: f.name)), (OutputField("y", "value", node),))


# ---------------------------------------------------------------- fixtures: what folds and what not

FOLDED = [
    pytest.param(Sum((mul(("a",), 1.5), mul(("b",), -2.0), ACC)),
                 Sum((chain([(("a",), 1.5), (("b",), -2.0)], 0.0), ACC)), id="run-at-start"),
    pytest.param(Sum((ACC, mul(("a",), 1.5), rmul(("b", "c"), -2.0), mul(("d",), 3.0), Const(0.25))),
                 Sum((ACC, chain([(("a",), 1.5), (("b", "c"), -2.0), (("d",), 3.0)], 0.0), Const(0.25))),
                 id="run-in-middle-commuted-multi-value"),
    pytest.param(Sum((ACC, mul(("a",), 1.5), mul(("b",), -2.0))),
                 Sum((ACC, chain([(("a",), 1.5), (("b",), -2.0)], 0.0))), id="run-at-end"),
    pytest.param(Sum((mul(("a",), 1.5), mul(("b",), -2.0))),
                 chain([(("a",), 1.5), (("b",), -2.0)], 0.0), id="whole-sum-is-the-select"),
    # every unmatched term is -0.0 (negative coefficients): z = -0.0
    pytest.param(Sum((mul(("a",), -1.5), mul(("b",), -2.0))),
                 chain([(("a",), -1.5), (("b",), -2.0)], -0.0), id="negative-z"),
    # zero coefficients: -0.0 only where c_j and every other term's zero are -0.0
    pytest.param(Sum((mul(("a",), -0.0), mul(("b",), -2.0), mul(("c",), 0.0))),
                 chain([(("a",), 0.0), (("b",), -2.0), (("c",), 0.0)], 0.0), id="zero-arms-positive"),
    pytest.param(Sum((mul(("a",), -0.0), mul(("b",), -2.0), mul(("c",), -0.0))),
                 chain([(("a",), -0.0), (("b",), -2.0), (("c",), -0.0)], -0.0), id="zero-arms-negative"),
    # a bare indicator is coefficient 1.0 (simplify_identities leaves it of `[x in V] * 1.0`)
    pytest.param(Sum((ACC, hot(("a",)), mul(("b",), -2.0))),
                 Sum((ACC, chain([(("a",), 1.0), (("b",), -2.0)], 0.0))), id="bare-indicator"),
    # two features: two runs, each its own select
    pytest.param(Sum((mul(("a",), 1.5), mul(("b",), 2.0), mul(("n",), 3.0, OTHER), mul(("s",), 4.0, OTHER))),
                 Sum((chain([(("a",), 1.5), (("b",), 2.0)], 0.0), chain([(("n",), 3.0), (("s",), 4.0)], 0.0, OTHER))),
                 id="two-features"),
    # a numeric one-hot
    pytest.param(Sum((ACC, mul((1.0, 2.0), 0.5, NUM), mul((3.0,), -0.5, NUM))),
                 Sum((ACC, chain([((1.0, 2.0), 0.5), ((3.0,), -0.5)], 0.0, NUM))), id="numeric-x"),
    # an overlap ends the run: the overlapping term starts the next one
    pytest.param(Sum((mul(("a",), 1.0), mul(("b",), 2.0), mul(("a",), 3.0), mul(("c",), 4.0))),
                 Sum((chain([(("a",), 1.0), (("b",), 2.0)], 0.0), chain([(("a",), 3.0), (("c",), 4.0)], 0.0))),
                 id="overlap-splits-runs"),
    # a run interrupted by another term: only the consecutive pieces fold
    pytest.param(Sum((mul(("a",), 1.0), mul(("b",), 2.0), ACC, mul(("c",), 3.0), mul(("d",), 4.0), mul(("e",), 5.0))),
                 Sum((chain([(("a",), 1.0), (("b",), 2.0)], 0.0), ACC,
                      chain([(("c",), 3.0), (("d",), 4.0), (("e",), 5.0)], 0.0))),
                 id="interrupted-run"),
]


@pytest.mark.parametrize(("before", "after"), FOLDED)
def test_folds(before: Node, after: Node) -> None:
    assert fold_one_hot_sums(model_of(before)).outputs[0].expr is after


def _float32_sum() -> Node:
    # a bool casts only to double, so a float32 sum holds one-hot terms only behind a cast
    terms = (Cast(mul(("a",), 1.5), FLOAT32), Cast(mul(("b",), 2.0), FLOAT32))
    return Cast(Sum(terms), DOUBLE)


UNTOUCHED = [
    # one term is not a run
    pytest.param(Sum((ACC, mul(("a",), 1.5), Const(1.0))), id="single-term"),
    pytest.param(Sum((mul(("a",), 1.5), ACC, mul(("b",), 2.0))), id="not-consecutive"),
    # 0.0 * inf is NaN: the unmatched term is not a zero
    pytest.param(Sum((mul(("a",), math.inf), mul(("b",), 2.0))), id="infinite-coefficient"),
    pytest.param(Sum((mul(("a",), 1.0), rmul(("b",), -math.inf))), id="negative-infinite-coefficient"),
    pytest.param(Sum((mul(("a",), math.nan), mul(("b",), 2.0))), id="nan-coefficient"),
    # both could be true at once
    pytest.param(Sum((mul(("a", "b"), 1.0), mul(("b",), 2.0))), id="overlapping-sets"),
    # IsIn compares with ==: 0.0 matches -0.0
    pytest.param(Sum((mul((0.0,), 1.0, NUM), mul((-0.0,), 2.0, NUM))), id="signed-zero-categories-overlap"),
    pytest.param(Sum((mul(("a",), 1.0), mul(("b",), 2.0, OTHER))), id="different-x"),
    # each add of a float32 sum rounds to float32
    pytest.param(_float32_sum(), id="float32-sum"),
    # not the one-hot shape
    pytest.param(Sum((Binary("mul", hot(("a",)), ACC), Binary("mul", hot(("b",)), ACC))), id="non-constant-factor"),
    pytest.param(Sum((Binary("add", hot(("a",)), Const(1.0)), Binary("add", hot(("b",)), Const(2.0)))),
                 id="add-not-mul"),
    pytest.param(Binary("mul", hot(("a",)), Const(2.0)), id="no-sum"),
]


@pytest.mark.parametrize("before", UNTOUCHED)
def test_leaves_alone(before: Node) -> None:
    assert fold_one_hot_sums(model_of(before)).outputs[0].expr is before


def test_in_default_pipeline_between_simplify_and_split() -> None:
    order = list(PASSES)
    assert order.index(simplify_identities) < order.index(fold_one_hot_sums) < order.index(split_long_sums)
    # `[x in V] * 1.0` reaches the fold as a bare indicator and still joins the run
    before = Sum((ACC, mul(("a",), 1.0), mul(("b",), 2.0)))
    assert run_passes(model_of(before)).outputs[0].expr is Sum((ACC, chain([(("a",), 1.0), (("b",), 2.0)], 0.0)))


# ---------------------------------------------------------------- exactness, exhaustively

ACCUMULATORS = (0.0, -0.0, 1.5, -1.5, -2.5, math.nan, math.inf, -math.inf)
"""Values before the run; 1.5 and -2.5 cancel the coefficients -1.5 and 2.5 exactly."""

# (coefficient, how the term is written)
COEFFICIENTS = ((2.5, "mul"), (-1.5, "rmul"), (0.0, "mul"), (-0.0, "mul"), (-0.0, "rmul"), (1.0, "bare"))
CATEGORY_SETS = (("v0",), ("v1", "w1"), ("v2",))
CATEGORY_ROWS = ("v0", "v1", "w1", "v2", "none-of-them", None)


def _term(values: tuple[str, ...], coefficient: float, form: str) -> Node:
    if form == "bare":
        return hot(values)
    return (mul if form == "mul" else rmul)(values, coefficient)


def _layouts(run: list[Node]) -> list[tuple[str, Node]]:
    # ACC twice in the middle layout: a -0.0 on both sides shows the run's sign of zero
    layouts = [("start", Sum((*run, ACC))), ("middle", Sum((ACC, *run, ACC))), ("end", Sum((ACC, *run)))]
    if len(run) >= 2:
        layouts.append(("whole", Sum(tuple(run))))
    return layouts


def _bits(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return struct.pack("<d", value).hex() + f" ({value!r})"


def _cases() -> list[tuple[str, Model]]:
    cases = []
    for k in (1, 2, 3):
        for combo in itertools.product(COEFFICIENTS, repeat=k):
            run = [_term(CATEGORY_SETS[i], c, form) for i, (c, form) in enumerate(combo)]
            for layout, total in _layouts(run):
                cases.append((f"{layout} {combo}", model_of(total)))
    return cases


CASES = _cases()
ROWS = [{"acc": a, "cat": c} for a in ACCUMULATORS for c in CATEGORY_ROWS]


def exactness_problems(fold: Callable[[Model], Model]) -> list[str]:
    """Every (case, row) where ``fold``'s model differs from the original in any bit (NaN: NaN-ness)."""
    problems = []
    for name, before in CASES:
        after = fold(before)
        for row in ROWS:
            want, got = evaluate(before, row)["y"], evaluate(after, row)["y"]
            if _bits(want) != _bits(got):
                problems.append(f"{name} row {row}: want {_bits(want)}, got {_bits(got)}")
    return problems


def test_cases_cover_every_shape() -> None:
    assert len(CASES) == 3 * 6 + 4 * 6**2 + 4 * 6**3
    folded = [fold_one_hot_sums(m).outputs[0].expr for _, m in CASES]
    assert sum(isinstance(e, IfElse) for e in folded) == 6**2 + 6**3  # the whole-sum layouts
    assert sum(isinstance(e, Sum) and any(isinstance(t, IfElse) for t in e.terms) for e in folded) == 3 * (6**2 + 6**3)


def test_exact_bits_before_and_after() -> None:
    assert exactness_problems(fold_one_hot_sums) == []


def _sabotaged(change: Callable[[list[Any], list[float], float], tuple[list[float], float]]) -> Callable[[Any], Node]:
    """``_select`` with its arms and default rewritten by ``change(run, arms, z)``."""
    original = module._select

    def select(run: list[Any]) -> Node:
        node = original(run)
        arms: list[float] = []
        members = []
        while isinstance(node, IfElse):
            members.append(node.cond)
            arms.append(node.then.value)  # type: ignore[attr-defined]
            node = node.otherwise
        new_arms, z = change(run, arms, node.value)  # type: ignore[attr-defined]
        rebuilt: Node = Const(z)
        for member, arm in zip(reversed(members), reversed(new_arms)):
            rebuilt = IfElse(member, Const(arm), rebuilt)
        return rebuilt

    return select


def _flip_zero(value: float) -> float:
    return -value if value == 0 else value


SABOTAGE = {
    "naive (a_j = c_j, z = +0.0)": lambda run, arms, z: ([one.coefficient for one in run], 0.0),
    "z always +0.0": lambda run, arms, z: (arms, 0.0),
    "z sign flipped": lambda run, arms, z: (arms, -z),
    "zero arms always +0.0": lambda run, arms, z: ([a if a != 0 else 0.0 for a in arms], z),
    "zero arms sign flipped": lambda run, arms, z: ([_flip_zero(a) for a in arms], z),
}


@pytest.mark.parametrize("name", list(SABOTAGE))
def test_exactness_check_catches_wrong_signs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_select", _sabotaged(SABOTAGE[name]))
    assert exactness_problems(fold_one_hot_sums), f"{name}: the exactness test cannot fail"


def test_numeric_x_exact() -> None:
    total = Sum((ACC, mul((1.0, 2.0), -0.0, NUM), rmul((3.0, -0.0), -2.5, NUM), mul((4.0,), -1.5, NUM), ACC))
    before = model_of(total)
    after = fold_one_hot_sums(before)
    assert isinstance(after.outputs[0].expr.terms[1], IfElse)  # type: ignore[attr-defined]
    for acc, num in itertools.product(ACCUMULATORS, (1.0, 2.0, 3.0, 0.0, -0.0, 4.0, 5.0, None, math.inf)):
        row = {"acc": acc, "num": num}
        assert _bits(evaluate(before, row)["y"]) == _bits(evaluate(after, row)["y"]), row


# ---------------------------------------------------------------- a 1,000-category one-hot on every target

TARGETS = ("python", "c", "java", "sql:duckdb", "sql:sqlite")


def _wide_model(n: int) -> Model:
    terms = tuple(mul((f"c{i}",), (i - n / 2) / 8 + 0.125) for i in range(n))
    return model_of(Sum((ACC, *terms, Const(0.5))))


@pytest.mark.parametrize("target", TARGETS)
def test_thousand_categories_on_every_target(target: str, tmp_path: Path) -> None:
    from modelgen.verify import build_target

    sys.path.insert(0, str(Path(__file__).resolve().parent / "emitters"))
    from runner_csv import csv_text

    before = _wide_model(1_000)
    after = run_passes(before)
    selects = [n for n in topological_order(after.roots) if isinstance(n, IfElse)]
    assert len(selects) == 1_000  # one chain: every category an arm
    limit = sys.getrecursionlimit()
    rows = [{"acc": a, "cat": c} for a, c in
            [(0.25, "c0"), (-0.0, "c999"), (1.0, "c500"), (0.0, "c437"), (None, "c1"), (-3.0, "zzz"), (2.0, None)]]
    scored = build_target(after, target, tmp_path).score(csv_text(after, rows), rows)
    assert sys.getrecursionlimit() == limit
    assert len(scored) == len(rows)
    for row, got in zip(rows, scored):
        want = evaluate(before, row)["y"]
        value = got["y"]
        value = math.nan if value is None else float(value)
        assert _bits(want) == _bits(value), (target, row)
