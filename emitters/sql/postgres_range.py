"""PostgreSQL's float8 ``+ - * /`` without its range errors: IEEE ``+-0`` and ``+-inf`` instead.

PostgreSQL raises "value out of range: underflow" when ``*`` or ``/`` of non-zero finite doubles
rounds to 0, and "overflow" when ``+ - * /`` of finite doubles rounds to inf (``float.h``:
``float8_mul`` etc. test the *result*, so the operation itself must not run). Each guard below
decides the case exactly, without rounding and without raising, and only then runs the operation:

- a fast path (operands whose magnitudes cannot reach the limits: one pair of comparisons each);
- zero, NaN and infinite operands go to the plain operation (PostgreSQL never raises for them);
- otherwise the decision is exact integer arithmetic on the operands' bits: ``FLOAT8SEND`` gives
  the 8 bytes, read as a BIGINT; a magnitude is ``M * 2**(E - 1075)`` with integer ``M < 2**53``
  and biased exponent ``E >= 1``, and the real product or quotient is compared with the rounding
  boundary (``2**-1075``: at or below it rounds to 0, ties to even; ``(2**54 - 1) * 2**970``: at or
  above it rounds to inf) in NUMERIC, whose ``*`` and integer ``POWER`` of 2 are exact.

A sum only overflows when both terms are at least ``2**969`` (half an ulp of DBL_MAX) and one is at
least ``2**1022``; there halving is exact, and ``a/2 + b/2`` is ``(a + b) / 2`` correctly rounded,
so the sum overflows exactly when that half reaches ``2**1023``.

The guards are SQL text (each operand's text appears ~10 times: the query builder binds operands
bigger than a few nodes, see ``DUPLICATING_BINARY``): ~2.5 kB per ``*``/``/``. A constant operand's
own tests are decided while emitting, and ``+ -`` with a constant below ``2**969`` (or ``* /`` with
a constant zero, NaN or infinity) are plain. Measured on the 44 golden cases: PostgreSQL queries
total 4.86 MB guarded vs 4.33 MB unguarded (x1.12; trees dominate); linear models grow x5-12
(onehot_missing_category_ridge 1.6 kB -> 19.7 kB).
"""

from __future__ import annotations

import math
import struct

from sqlglot import exp

from emitters.sql import literals, ops

_TWO52 = 2**52
_INF = "CAST('Infinity' AS DOUBLE PRECISION)"


def _double(value: float) -> str:
    return f"CAST('{value!r}' AS DOUBLE PRECISION)"


def _text(expression: exp.Expression) -> str:
    return f"({expression.sql(dialect='postgres')})"


def _bits(x: str) -> str:
    # the magnitude's IEEE bits as a non-negative BIGINT (FLOAT8SEND is big-endian)
    return f"CAST(CAST('x' || ENCODE(FLOAT8SEND(ABS({x})), 'hex') AS BIT(64)) AS BIGINT)"


def _constant_bits(x: exp.Expression) -> int | None:
    # a finite non-zero constant's magnitude bits, decided here instead of in every row
    value = literals.constant_value(x)
    if value is None or not math.isfinite(value) or value == 0:
        return None
    return struct.unpack("<Q", struct.pack("<d", abs(value)))[0]


def _mantissa(x: str, known: int | None) -> str:
    """``M`` of ``|x| = M * 2**(E - 1075)`` as NUMERIC (the hidden bit added for normals)."""
    if known is not None:
        return f"CAST({known % _TWO52 + (_TWO52 if known >= _TWO52 else 0)} AS NUMERIC)"
    bits = _bits(x)
    return (
        f"CAST({bits} % {_TWO52} + CASE WHEN {bits} >= {_TWO52} THEN {_TWO52} ELSE 0 END AS NUMERIC)"
    )


def _exponent(x: str, known: int | None) -> str:
    """``E`` of ``|x| = M * 2**(E - 1075)``: the biased exponent, 1 for subnormals."""
    if known is not None:
        return str(max(known // _TWO52, 1))
    return f"GREATEST({_bits(x)} / {_TWO52}, 1)"


def _pow2_pos(k: str) -> str:
    return f"POWER(CAST(2 AS NUMERIC), GREATEST({k}, 0))"


def _pow2_neg(k: str) -> str:
    return f"POWER(CAST(2 AS NUMERIC), GREATEST(-({k}), 0))"


def _finite_nonzero(x: str) -> str:
    # NaN sorts above +inf in PostgreSQL, so ABS(NaN) < inf is FALSE
    return f"ABS({x}) > {_double(0.0)} AND ABS({x}) < {_INF}"


def _inside(x: str, low: float, high: float) -> str:
    return f"ABS({x}) >= {_double(low)} AND ABS({x}) <= {_double(high)}"


def _never_raises(x: exp.Expression, small: float) -> bool:
    # a constant zero, NaN or infinity (PostgreSQL never raises with such an operand), or for
    # sums, a constant too small to push a finite double over the edge
    value = literals.constant_value(x)
    return value is not None and (not math.isfinite(value) or abs(value) < small)


def _known(x: exp.Expression, low: float, high: float) -> bool | None:
    # what _inside / _finite_nonzero would say of a constant, decided here (None: not a constant)
    value = literals.constant_value(x)
    return None if value is None else low <= abs(value) <= high


_OVERFLOW = f"{2**54 - 1}"
"""``(2**54 - 1) * 2**970``: half-way between DBL_MAX and 2**1024, the least magnitude rounding to inf."""


def _scaled_guard(
    operands: tuple[exp.Expression, exp.Expression],
    operation: str,
    underflow: tuple[str, str],
    overflow: tuple[str, str],
) -> str:
    # a finite non-zero constant operand's own range tests are decided here, not per row
    fast_terms: list[str] = []
    special_terms: list[str] = []
    fast_possible = True
    for expression in operands:
        text = _text(expression)
        known = _known(expression, 2.0**-511, 2.0**511)
        if known is None:
            fast_terms.append(_inside(text, 2.0**-511, 2.0**511))
            special_terms.append(_finite_nonzero(text))
        fast_possible = fast_possible and known is not False
    arms = []
    if fast_possible and fast_terms:
        arms.append(f"WHEN {' AND '.join(fast_terms)} THEN {operation}")
    if special_terms:
        arms.append(f"WHEN NOT ({' AND '.join(special_terms)}) THEN {operation}")
    a, b = (_text(x) for x in operands)
    sign = f"SIGN({a}) * SIGN({b})"  # +-1.0 * +-1.0: exact, never raises; * 0.0 / * inf neither
    return (
        f"CASE {' '.join(arms)} "
        f"WHEN {underflow[0]} <= {underflow[1]} THEN {sign} * {_double(0.0)} "
        f"WHEN {overflow[0]} >= {overflow[1]} THEN {sign} * {_INF} ELSE {operation} END"
    )


def _bits_of(a_expression: exp.Expression, b_expression: exp.Expression) -> tuple[str, str, str, str, str, str]:
    """SQL texts of both operands, then their mantissas M and exponents E (``|x| = M * 2**(E - 1075)``)."""
    a, b = _text(a_expression), _text(b_expression)
    ka, kb = _constant_bits(a_expression), _constant_bits(b_expression)
    return a, b, _mantissa(a, ka), _mantissa(b, kb), _exponent(a, ka), _exponent(b, kb)


def mul(a_expression: exp.Expression, b_expression: exp.Expression) -> exp.Expression:
    """IEEE ``a * b`` in PostgreSQL: ``+-0`` where it underflows, ``+-inf`` where it overflows."""
    if _never_raises(a_expression, 0.0) or _never_raises(b_expression, 0.0):
        return ops.mul(a_expression, b_expression)
    a, b, ma, mb, ea, eb = _bits_of(a_expression, b_expression)
    # |a * b| = ma * mb * 2**(ea + eb - 2150); underflow: <= 2**-1075; overflow: >= OVERFLOW * 2**970
    k = f"({ea} + {eb} - 1075)"
    g = f"({ea} + {eb} - 3120)"
    underflow = (f"{ma} * {mb} * {_pow2_pos(k)}", _pow2_neg(k))
    overflow = (f"{ma} * {mb} * {_pow2_pos(g)}", f"{_OVERFLOW} * {_pow2_neg(g)}")
    return exp.Var(this=_scaled_guard((a_expression, b_expression), f"{a} * {b}", underflow, overflow))


def div(a_expression: exp.Expression, b_expression: exp.Expression) -> exp.Expression:
    """IEEE ``a / b`` in PostgreSQL for a non-zero ``b`` (zero divisors are the caller's)."""
    if _never_raises(a_expression, 0.0) or _never_raises(b_expression, 0.0):
        return ops.div(a_expression, b_expression)
    a, b, ma, mb, ea, eb = _bits_of(a_expression, b_expression)
    # |a / b| = ma / mb * 2**(ea - eb); underflow: <= 2**-1075; overflow: >= OVERFLOW * 2**970
    k = f"({ea} - {eb} + 1075)"
    g = f"({ea} - {eb} - 970)"
    underflow = (f"{ma} * {_pow2_pos(k)}", f"{mb} * {_pow2_neg(k)}")
    overflow = (f"{ma} * {_pow2_pos(g)}", f"{mb} * {_OVERFLOW} * {_pow2_neg(g)}")
    return exp.Var(this=_scaled_guard((a_expression, b_expression), f"{a} / {b}", underflow, overflow))


def _sum(a: str, b: str, operator: str) -> exp.Expression:
    operation = f"{a} {operator} {b}"
    big = _double(2.0**1022)
    fast = f"ABS({a}) < {big} AND ABS({b}) < {big}"
    # a term below 2**969 cannot push a finite double over; NaN and inf (ABS >= inf) never raise
    small = _double(2.0**969)
    plain = f"ABS({a}) < {small} OR ABS({b}) < {small} OR ABS({a}) >= {_INF} OR ABS({b}) >= {_INF}"
    half = f"({a} * {_double(0.5)} {operator} {b} * {_double(0.5)})"
    return exp.Var(
        this=f"CASE WHEN {fast} THEN {operation} WHEN {plain} THEN {operation} "
        f"WHEN ABS{half} >= {_double(2.0**1023)} THEN SIGN{half} * {_INF} ELSE {operation} END"
    )


def add(a_expression: exp.Expression, b_expression: exp.Expression) -> exp.Expression:
    """IEEE ``a + b`` in PostgreSQL: ``+-inf`` where a finite sum overflows."""
    if _never_raises(a_expression, 2.0**969) or _never_raises(b_expression, 2.0**969):
        return ops.add(a_expression, b_expression)
    return _sum(_text(a_expression), _text(b_expression), "+")


def sub(a_expression: exp.Expression, b_expression: exp.Expression) -> exp.Expression:
    """IEEE ``a - b`` in PostgreSQL: ``+-inf`` where a finite difference overflows."""
    if _never_raises(a_expression, 2.0**969) or _never_raises(b_expression, 2.0**969):
        return ops.sub(a_expression, b_expression)
    return _sum(_text(a_expression), _text(b_expression), "-")
