"""PostgreSQL's n-ary ``Sum`` without its "value out of range: overflow" error, left to right.

``t1 + t2 + ... + tn`` raises in PostgreSQL as soon as a partial sum of finite doubles rounds to
inf; IEEE gives +-inf there (and ``inf + -inf`` NaN afterwards). Guarding each ``+`` as a binary
add (``postgres_range.add``) would repeat every partial sum ~10 times inside the next guard:
exponential text. Instead:

- **Bounds decided while emitting.** A constant or a ``Lookup`` (a tree's leaf values) has a known
  largest finite magnitude; other terms get a per-row bound ``D``, a power of two chosen so that the
  left-to-right sum of all bounds, rounded like the engine rounds, stays finite. Rounding is
  monotone, so then no partial sum of finite terms can overflow; a NaN or infinite term never
  raises (PostgreSQL only checks finite operands), and once a partial sum is NaN or infinite it
  stays so without raising. No term without a static bound and a finite static total: plain sum.
- **Fast path**: ``CASE WHEN`` every such term is below ``D`` (or NaN/infinite) ``THEN`` the plain
  sum.
- **Slow path** (a term of at least ``D``, ~2**1018 on a 25-term sum): the terms are read once into
  a row-local subquery, and each level adds one term with the exact binary guard over the previous
  level's column, so a partial sum is a column name, never repeated text. ``OFFSET 0`` keeps the
  planner from pulling the levels up into each other (which would substitute the partial sums
  back: exponential again). Evaluated only for the rows that take it (``CASE`` is lazy).

The terms are bound as columns by the query builder when bigger than a few nodes
(``SqlDialect.DUPLICATING_SUM``), so each is printed once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sqlglot import exp

from emitters.sql import literals, ops, postgres_range
from modelgen.ir import DOUBLE, Const, Lookup, Node

PREFIX = "__mg_sum_"
"""Column names inside the slow path's subqueries (internal: no user column starts with ``__mg_``)."""


def _static_bound(term: Node) -> float | None:
    """The largest finite magnitude ``term`` can take, when known while emitting."""
    if isinstance(term, Const) and term.dtype is DOUBLE:
        values: tuple[object, ...] = (term.value,)
    elif isinstance(term, Lookup) and term.value_dtype is DOUBLE:
        values = term.values
    else:
        return None
    finite = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v)]
    return max(finite, default=0.0)


def _left_to_right(bounds: list[float]) -> float:
    total = 0.0
    for bound in bounds:
        total += bound  # Python floats round like the engine: monotone, inf on overflow
    return total


def _dynamic_bound(bounds: list[float | None]) -> float | None:
    """The largest power of two ``D`` (down to 2**-1074) such that the sum of every bound, ``D`` for
    the unknown ones, is finite; None when even the known bounds overflow."""
    for exponent in range(1023, -1075, -1):
        d = 2.0**exponent
        if math.isfinite(_left_to_right([d if b is None else b for b in bounds])):
            return d
    return None


def _plain(args: list[exp.Expression]) -> exp.Expression:
    total = args[0]
    for term in args[1:]:
        total = ops.add(total, term)
    return total


def _slow(args: list[exp.Expression]) -> exp.Expression:
    """The exact guarded left fold as nested row-local subqueries (see the module docstring)."""
    names = [f"{PREFIX}c{i}" for i in range(len(args))]
    total = f"{PREFIX}s"
    level = exp.select(
        exp.alias_(args[0].copy(), literals.identifier(total), copy=False),
        *(exp.alias_(a.copy(), literals.identifier(n), copy=False) for a, n in zip(args[1:], names[1:])),
    ).offset(0)
    for i in range(1, len(args)):
        step = postgres_range.add(literals.column(total), literals.column(names[i]))
        later = [literals.column(n) for n in names[i + 1 :]]
        source = exp.Subquery(this=level, alias=exp.TableAlias(this=literals.identifier(f"{PREFIX}q{i}")))
        level = exp.select(exp.alias_(step, literals.identifier(total), copy=False), *later).from_(
            source, copy=False
        )
        if i < len(args) - 1:
            level = level.offset(0)
    return exp.Subquery(this=level)


def build_sum(
    terms: tuple[Node, ...], args: list[exp.Expression], double: Callable[[float], exp.Expression]
) -> exp.Expression:
    """IEEE ``terms[0] + terms[1] + ...`` (left to right) in PostgreSQL, never raising.

    ``args`` are the terms' expressions; ``double`` the dialect's literal function."""
    bounds = [_static_bound(t) for t in terms]
    if None not in bounds and math.isfinite(_left_to_right(bounds)):  # type: ignore[arg-type]
        return _plain(args)
    d = _dynamic_bound(bounds)
    if d is None:
        return _slow(args)
    tests = []
    for bound, arg in zip(bounds, args):
        if bound is None:
            # below D, or NaN / +-inf (NaN sorts above inf in PostgreSQL: ABS(NaN) < inf is FALSE)
            big = ops.compare(exp.GTE, exp.Abs(this=arg.copy()), double(d))
            finite = ops.compare(exp.LT, exp.Abs(this=arg.copy()), double(math.inf))
            tests.append(ops.not_(ops.and_([big, finite])))
    return exp.Case(ifs=[exp.If(this=ops.and_(tests), true=_plain([a.copy() for a in args]))], default=_slow(args))
