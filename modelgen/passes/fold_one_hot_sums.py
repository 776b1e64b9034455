"""Fold a run of one-hot terms of a double ``Sum`` into one select, bit for bit.

A linear model over one-hot columns lowers to ``Sum(..., c_1 * [x in V_1], ..., c_k * [x in V_k],
...)`` with ``[b]`` = ``Cast(b, DOUBLE)`` (1.0 / 0.0). Every term costs a membership test, a
multiply and an add per category; with pairwise disjoint ``V_i`` at most one term is non-zero, so
a maximal consecutive run of k >= 2 such terms over the same ``x`` becomes the single term
``IfElse(x in V_1, a_1, IfElse(x in V_2, a_2, ... z))`` at the run's position (an emitter prints
it as one ``CASE`` / else-if chain). Accepted terms: ``[x in V] * Const(c)``, ``Const(c) * [x in
V]`` and a bare ``[x in V]`` (c = 1.0, what ``simplify_identities`` leaves of ``[x in V] * 1.0``).

Why it is exact (round to nearest). Unmatched, term i is t_i = 0.0 * c_i (a signed zero, since
c_i is finite); matched, it is c_i. Adding a zero of either sign to a non-zero or non-finite value
leaves it unchanged, so folding the zeros away can only change the sign of a *zero* accumulator,
and a zero accumulator stays -0.0 only if it was -0.0 and every zero added is -0.0 (``-0.0 +
+0.0`` is +0.0). Hence, with A the sum before the run:

- nothing matched: A + t_1 + ... + t_k = A + z with z = -0.0 if every t_i is -0.0, else +0.0;
- term j matched, c_j != 0: the zeros before c_j change at most A's sign of zero, and a zero A
  gives A + c_j = c_j either way; after c_j the accumulator is non-zero, or exactly +0.0 if A
  cancelled c_j (then adding zeros keeps +0.0): A + a_j with a_j = c_j;
- term j matched, c_j = +-0.0: every term is a zero: a_j = -0.0 if c_j and every t_i (i != j) is
  -0.0, else +0.0.

A run that starts the Sum has no A: its own left fold is the folded value by the same cases (a
sum of zeros is -0.0 only if all are -0.0; zeros plus one non-zero c_j is c_j). ``IsIn`` is false
for a missing value, so a missing ``x`` is "nothing matched".

Left alone: float32 sums (each add rounds to float32), non-finite coefficients (0.0 * inf is NaN),
overlapping value sets (0.0 and -0.0 overlap: IsIn compares with ==), runs mixing ``x`` nodes,
runs of one term.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from modelgen.ir import DOUBLE, Binary, Cast, Const, IfElse, IsIn, Model, Node, Sum, transform


class _OneHot(NamedTuple):
    """One one-hot term: ``coefficient * Cast(member, DOUBLE)``."""

    member: IsIn
    coefficient: float


def _indicator(node: Node) -> IsIn | None:
    if isinstance(node, Cast) and node.to is DOUBLE and isinstance(node.x, IsIn):
        return node.x
    return None


def _coefficient(node: Node) -> float | None:
    if isinstance(node, Const) and node.dtype is DOUBLE and math.isfinite(node.value):  # type: ignore[arg-type]
        return float(node.value)
    return None


def _one_hot(term: Node) -> _OneHot | None:
    """``term`` as a one-hot term with a finite coefficient, or None."""
    member = _indicator(term)
    if member is not None:
        return _OneHot(member, 1.0)
    if not (isinstance(term, Binary) and term.op == "mul"):
        return None
    for indicator, constant in ((term.a, term.b), (term.b, term.a)):
        member = _indicator(indicator)
        coefficient = _coefficient(constant)
        if member is not None and coefficient is not None:
            return _OneHot(member, coefficient)
    return None


def _is_negative_zero(value: float) -> bool:
    return value == 0.0 and math.copysign(1.0, value) < 0


def _select(run: list[_OneHot]) -> Node:
    """The one term equal, bit for bit, to ``run``'s terms added in order (see the module doc)."""
    unmatched = [0.0 * one.coefficient for one in run]
    negative = [_is_negative_zero(t) for t in unmatched]
    n_negative = sum(negative)
    chain: Node = Const(-0.0 if n_negative == len(run) else 0.0)
    for j in range(len(run) - 1, -1, -1):
        c = run[j].coefficient
        if c != 0.0:
            arm = c
        else:
            # every term is a zero: -0.0 only if c_j and all the other terms' zeros are -0.0
            others_negative = n_negative - negative[j] == len(run) - 1
            arm = -0.0 if _is_negative_zero(c) and others_negative else 0.0
        chain = IfElse(run[j].member, Const(arm), chain)
    return chain


def _fold_sum(node: Sum) -> Node:
    terms: list[Node] = []
    run: list[_OneHot] = []
    run_terms: list[Node] = []
    seen: set[object] = set()  # the run's categories; == semantics, so 0.0 and -0.0 collide

    def close() -> None:
        if len(run) >= 2:
            terms.append(_select(run))
        else:
            terms.extend(run_terms)
        run.clear()
        run_terms.clear()
        seen.clear()

    for term in node.terms:
        one = _one_hot(term)
        if one is None:
            close()
            terms.append(term)
            continue
        if run and (one.member.x is not run[0].member.x or not seen.isdisjoint(one.member.values)):
            close()
        run.append(one)
        run_terms.append(term)
        seen.update(one.member.values)
    close()
    if len(terms) == len(node.terms):
        return node
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))


def _fold(node: Node) -> Node:
    if isinstance(node, Sum) and node.dtype is DOUBLE:
        return _fold_sum(node)
    return node


def fold_one_hot_sums(model: Model) -> Model:
    """``model`` with each run of one-hot terms of a double ``Sum`` folded into one select."""
    return model.with_roots(tuple(transform(model.roots, _fold)))
