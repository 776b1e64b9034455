"""Operator constructors that parenthesise by precedence.

sqlglot prints a hand-built tree as is: ``Mul(Add(a, b), c)`` would print ``a + b * c``.
Every operator of the SQL target is built here, and an operand is wrapped in parentheses
exactly when SQL's precedence would otherwise regroup it. Left-nested chains of the same
level (``a + b + c``, ``p AND q AND r``) stay flat: SQLite's parser overflows on deep
parenthesis nesting.
"""

from __future__ import annotations

from sqlglot import exp

_ADDITIVE = 6
_MULTIPLICATIVE = 7
_COMPARISON = 4
_NOT = 3

_PRECEDENCE: dict[type[exp.Expression], int] = {
    exp.Or: 1,
    exp.And: 2,
    exp.Not: _NOT,
    exp.EQ: _COMPARISON,
    exp.NEQ: _COMPARISON,
    exp.LT: _COMPARISON,
    exp.LTE: _COMPARISON,
    exp.GT: _COMPARISON,
    exp.GTE: _COMPARISON,
    exp.Is: _COMPARISON,
    exp.In: _COMPARISON,
    exp.NullSafeEQ: _COMPARISON,
    exp.NullSafeNEQ: _COMPARISON,
    exp.Add: _ADDITIVE,
    exp.Sub: _ADDITIVE,
    exp.Mul: _MULTIPLICATIVE,
    exp.Div: _MULTIPLICATIVE,
    exp.Neg: 9,
}
_ATOM = 100


def _precedence(expression: exp.Expression) -> int:
    return _PRECEDENCE.get(type(expression), _ATOM)


def _operand(child: exp.Expression, level: int, *, left: bool, chains: bool) -> exp.Expression:
    child_level = _precedence(child)
    if child_level > level or (child_level == level and left and chains):
        return child
    return exp.Paren(this=child)


def _binary(cls: type[exp.Binary], a: exp.Expression, b: exp.Expression, **args: object) -> exp.Expression:
    level = _PRECEDENCE[cls]
    chains = level != _COMPARISON  # comparisons never chain (a < b < c is not what we mean)
    return cls(
        this=_operand(a, level, left=True, chains=chains),
        expression=_operand(b, level, left=False, chains=chains),
        **args,
    )


def add(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a + b``."""
    return _binary(exp.Add, a, b)


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a - b``."""
    return _binary(exp.Sub, a, b)


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a * b``."""
    return _binary(exp.Mul, a, b)


def div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a / b`` (float division: ``typed`` stops sqlglot from adding casts)."""
    return _binary(exp.Div, a, b, typed=True)


def compare(cls: type[exp.Binary], a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``a <op> b`` for one of the comparison classes (``exp.LT``, ``exp.EQ``, ``exp.Is``, ...)."""
    return _binary(cls, a, b)


def neg(x: exp.Expression) -> exp.Expression:
    """``-x``."""
    return exp.Neg(this=_operand(x, _PRECEDENCE[exp.Neg], left=False, chains=False))


def not_(x: exp.Expression) -> exp.Expression:
    """``NOT x``."""
    return exp.Not(this=_operand(x, _NOT, left=False, chains=False))


def is_null(x: exp.Expression) -> exp.Expression:
    """``x IS NULL``."""
    return _binary(exp.Is, x, exp.null())


def is_not_null(x: exp.Expression) -> exp.Expression:
    """``NOT x IS NULL`` (TRUE/FALSE, never NULL)."""
    return not_(is_null(x))


def in_(x: exp.Expression, values: list[exp.Expression]) -> exp.Expression:
    """``x IN (values)``."""
    return exp.In(this=_operand(x, _COMPARISON, left=False, chains=False), expressions=values)


def and_(terms: list[exp.Expression]) -> exp.Expression:
    """``t0 AND t1 AND ...`` (one term: itself)."""
    result = terms[0]
    for term in terms[1:]:
        result = _binary(exp.And, result, term)
    return result


def or_(terms: list[exp.Expression]) -> exp.Expression:
    """``t0 OR t1 OR ...`` (one term: itself)."""
    result = terms[0]
    for term in terms[1:]:
        result = _binary(exp.Or, result, term)
    return result
