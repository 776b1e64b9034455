"""A cheap guard in front of the row checks: one sum per group of range checks, for good rows.

The sklearn frontend rejects a row with an infinite (or, for trees, float32-infinite) feature
through one check per feature: ``abs(e) < C`` or ``IsMissing(e) OR abs(e) < C``. Evaluating all
of them on every row is most of what the check column costs. For a group of such checks with
the same comparison and constant ``C``::

    Sum(abs(e1), ..., abs(en)) < C   implies   abs(ei) < C for every i

because adding non-negative doubles is monotone (``fl(a + b) >= max(a, b)`` under any rounding
to nearest), a NaN term makes the sum NaN and the comparison false, and a sum that overflows to
+inf only fails the guard. A row failing the guard is not rejected for that: the query then runs
every check in order, exactly as without a guard, so the first failing check (and its message)
is the same. Only the engine's addition must not raise on overflow
(``SqlDialect.sums_overflow_to_infinity``).

Example::

    >>> import math
    >>> from modelgen.ir import DOUBLE, Compare, Const, Input, RowCheck, Unary
    >>> checks = [RowCheck(Compare("lt", Unary("abs", Input(n, DOUBLE)), Const(math.inf)), n) for n in "ab"]
    >>> plan = plan_checks(checks)
    >>> plan.guarded, plan.others
    ((0, 1), ())
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelgen.errors import ModelgenError
from modelgen.ir import DOUBLE, And, Compare, Const, Node, Or, RowCheck, Sum, Unary
from modelgen.passes.split_long_sums import MAX_TERMS

GUARD_OPS = ("lt", "le")
"""Comparisons ``abs(e) <op> C`` a sum can vouch for (``le`` is what ``abs(e) < inf`` becomes on
engines without infinities: ``emitters/sql/infinities.py``)."""

MAX_AND_TERMS = 16
"""Conjunction width: wider guards nest (SQLite counts an AND chain against its depth limit)."""


@dataclass(frozen=True)
class CheckPlan:
    """How the check column evaluates ``checks``: ``guard`` (None: no guard) implies that every
    check in ``guarded`` passes; ``others`` are the remaining checks' positions, in order."""

    guard: Node | None
    guarded: tuple[int, ...]
    others: tuple[int, ...]
    sums: tuple[Sum, ...]
    """The guard's sums, each read twice by its comparison on NaN-aware engines (bind them)."""


def range_test(condition: Node) -> Compare | None:
    """The ``abs(e) <op> C`` comparison whose truth makes ``condition`` true, if it has one: the
    condition itself, or the first such term of an ``Or`` (``IsMissing(e) OR abs(e) < C``)."""
    candidates = condition.terms if isinstance(condition, Or) else (condition,)
    for candidate in candidates:
        if (
            isinstance(candidate, Compare)
            and candidate.op in GUARD_OPS
            and isinstance(candidate.a, Unary)
            and candidate.a.op == "abs"
            and candidate.a.dtype is DOUBLE
            and isinstance(candidate.b, Const)
        ):
            return candidate
    return None


def _chunks(terms: list[Node], width: int) -> list[list[Node]]:
    # balanced (sizes differ by at most one), so no chunk is a lone term when there are two or more
    count = -(-len(terms) // width)
    size, extra = divmod(len(terms), count)
    chunks: list[list[Node]] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(terms[start:end])
        start = end
    return chunks


def _conjunction(terms: list[Node]) -> Node:
    # nested in groups of MAX_AND_TERMS, level by level (no recursion)
    while len(terms) > 1:
        terms = [chunk[0] if len(chunk) == 1 else And(tuple(chunk)) for chunk in _chunks(terms, MAX_AND_TERMS)]
    return terms[0]


def plan_checks(checks: Sequence[RowCheck], max_terms: int = MAX_TERMS) -> CheckPlan:
    """Group the range checks of ``checks`` by comparison and constant, and build the guard:
    per group of at least two distinct ``abs`` terms, ``Sum(terms) <op> C`` in chunks of at most
    ``max_terms`` terms (each chunk its own comparison, all of them ANDed). Groups keep the order
    of their first check; terms keep check order, a term repeated by several checks once."""
    if max_terms < 2:
        raise ModelgenError(f"row check guard: a sum needs at least 2 terms a chunk, got max_terms={max_terms}")
    groups: dict[tuple[str, Node], list[int]] = {}
    terms: dict[tuple[str, Node], dict[Node, None]] = {}
    for index, check in enumerate(checks):
        test = range_test(check.condition)
        if test is None:
            continue
        key = (test.op, test.b)
        groups.setdefault(key, []).append(index)
        terms.setdefault(key, {})[test.a] = None  # a dict keeps the first occurrence's order
    comparisons: list[Node] = []
    sums: list[Sum] = []
    guarded: set[int] = set()
    for key, members in groups.items():
        distinct = list(terms[key])
        if len(distinct) < 2:
            continue  # the check itself is as cheap as a guard for it
        op, bound = key
        for chunk in _chunks(distinct, max_terms):
            total = Sum(tuple(chunk))
            sums.append(total)
            comparisons.append(Compare(op, total, bound))
        guarded.update(members)
    if not comparisons:
        return unguarded(checks)
    others = tuple(i for i in range(len(checks)) if i not in guarded)
    return CheckPlan(_conjunction(comparisons), tuple(sorted(guarded)), others, tuple(sums))


def unguarded(checks: Sequence[RowCheck]) -> CheckPlan:
    """The plan without a guard: every check in order (engines whose sums may raise on overflow)."""
    return CheckPlan(None, (), tuple(range(len(checks))), ())
