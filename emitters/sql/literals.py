"""The one place that spells SQL names and literals: identifiers, strings, doubles per dialect.

Identifiers and strings go through sqlglot's own quoting (``"`` doubled in identifiers, ``'``
doubled in strings), so a name like ``weird name "'; --`` is always one quoted identifier.
Doubles must read back to the identical bits in the target engine:

- DuckDB: ``<repr>e0`` -- a literal with an exponent is a DOUBLE read by the engine's
  correctly-rounded parser (short: a tree ensemble prints millions of them); ``'inf'``,
  ``'-inf'`` and ``'nan'`` only exist as ``CAST('inf' AS DOUBLE)``.
- SQLite: its decimal parser is *not* correctly rounded (about 1 in 150 random doubles read
  back one ULP off, even ``1e-12``-sized ones), so a non-integral double is built exactly as
  ``m * POWER(2.0, e)`` (an odd 53-bit integer times an exact power of two, one exact rounding),
  with the decimal value as a comment. ``9e999`` / ``-9e999`` are +-inf; NaN is ``NULL``
  (SQLite turns every NaN into NULL, so NULL is its only NaN).
"""

from __future__ import annotations

import math

from sqlglot import exp

_TWO_53 = 2**53


def identifier(name: str) -> exp.Identifier:
    """A quoted identifier for any name (sqlglot escapes embedded quotes per dialect).

    >>> identifier('a"b').sql(dialect="duckdb")
    '"a""b"'
    """
    return exp.to_identifier(name, quoted=True)


def column(name: str) -> exp.Column:
    """A reference to column ``name`` (always quoted)."""
    return exp.Column(this=identifier(name))


def string(value: str) -> exp.Literal:
    """A string literal; sqlglot doubles embedded single quotes.

    >>> string("O'Brien").sql()
    "'O''Brien'"
    """
    return exp.Literal.string(value)


def integer(value: int) -> exp.Expression:
    """An integer literal (64-bit)."""
    if value < 0:
        return exp.Neg(this=exp.Literal.number(str(-value)))
    return exp.Literal.number(str(value))


def boolean(value: bool) -> exp.Boolean:
    """``TRUE`` / ``FALSE``."""
    return exp.true() if value else exp.false()


_TYPES: dict[str, exp.DataType] = {}


def cast(expression: exp.Expression, type_name: str) -> exp.Cast:
    """``CAST(expression AS type_name)``."""
    # DataType.build parses the name every call: once per name, then cheap copies
    if type_name not in _TYPES:
        _TYPES[type_name] = exp.DataType.build(type_name)
    return exp.Cast(this=expression, to=_TYPES[type_name].copy())


_CONSTANT = "modelgen_constant"


def _mark(expression: exp.Expression, value: float) -> exp.Expression:
    # builders look at this to skip guards a constant operand cannot need (e.g. x / 2.0)
    expression.meta[_CONSTANT] = value
    return expression


def constant_value(expression: exp.Expression) -> float | None:
    """The double a literal built by this module stands for (None for any other expression)."""
    value = expression.meta.get(_CONSTANT) if expression.meta else None
    return value if isinstance(value, float) else None


def duckdb_double(value: float) -> exp.Expression:
    """DuckDB double literal: ``1e-1``, ``-0.5e0``, ``CAST('-inf' AS DOUBLE)``, ``CAST('nan' AS DOUBLE)``.

    A number with an exponent is a DOUBLE in DuckDB, read by its correctly rounded parser
    (checked on 60,000 random bit patterns); without one, ``0.1`` would be a DECIMAL.

    >>> duckdb_double(-0.1).sql(dialect="duckdb")
    '-0.1e0'
    """
    if math.isnan(value) or math.isinf(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return _mark(cast(string(text), "DOUBLE"), value)
    digits = repr(abs(value))
    number = exp.Literal.number(digits if "e" in digits else digits + "e0")
    # the sign as a unary minus on the literal (exact; -0.0e0 is -0.0)
    return _mark(exp.Neg(this=number) if math.copysign(1.0, value) < 0 else number, value)


def duckdb_double_text(value: float) -> str:
    """``duckdb_double(value)`` as sqlglot prints it, without building it (trees print millions).

    >>> duckdb_double_text(-0.1)
    '-0.1e0'
    """
    if math.isnan(value) or math.isinf(value):
        return "CAST('nan' AS DOUBLE)" if math.isnan(value) else f"CAST('{'inf' if value > 0 else '-inf'}' AS DOUBLE)"
    digits = repr(abs(value))
    text = digits if "e" in digits else digits + "e0"
    return "-" + text if math.copysign(1.0, value) < 0 else text


def sqlite_double_text(value: float) -> str:
    """``sqlite_double(value)`` as sqlglot prints it minus the decimal comment, without building it.

    >>> sqlite_double_text(-0.5)
    '-(1 * POWER(2.0, -1))'
    """
    if math.isnan(value):
        return "CAST(NULL AS REAL)"
    if math.isinf(value):
        return "9e999" if value > 0 else "-9e999"
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0.0"
    sign = "-" if value < 0 else ""
    magnitude = -value if value < 0 else value
    if magnitude == int(magnitude) and magnitude < _TWO_53:
        return f"{sign}CAST({int(magnitude)} AS REAL)"
    significand, exponent = _odd_significand(magnitude)
    return f"{sign}({significand} * POWER(2.0, {exponent}))"


def sqlite_unfactored_double_text(value: float, column: str) -> str:
    """A SQLite double literal that SQLite does not factor out as a constant: ``COALESCE(me0,
    column) * POWER(2.0, e)`` (``column`` is never read: the first argument is not NULL).

    SQLite 3.40 hoists every constant operand into a list it searches linearly for a duplicate
    before adding it, so a query with n constant thresholds compiles in O(n^2) (measured: a
    92,000-split ensemble took 238 s to prepare). ``COALESCE`` with a column is not constant,
    and its arguments are coded in place; ``me0`` (a significand below 2**53 with exponent 0)
    is read exactly (``(double)s``). The few distinct ``POWER(2.0, e)`` are still shared.

    >>> sqlite_unfactored_double_text(-0.5, '"x"')
    'COALESCE(-1e0, "x") * POWER(2.0, -1)'
    """
    if math.isnan(value) or math.isinf(value):
        return sqlite_double_text(value)  # NULL / +-9e999: two constants, found first in the list
    if value == 0:
        return f"COALESCE({'-' if math.copysign(1.0, value) < 0 else ''}0.0, {column})"
    sign = "-" if value < 0 else ""
    significand, exponent = _odd_significand(-value if value < 0 else value)
    if exponent == 0:
        return f"COALESCE({sign}{significand}e0, {column})"
    return f"COALESCE({sign}{significand}e0, {column}) * POWER(2.0, {exponent})"


def _odd_significand(magnitude: float) -> tuple[int, int]:
    # magnitude == significand * 2**exponent exactly, the significand odd (< 2**53)
    numerator, denominator = magnitude.as_integer_ratio()  # denominator: a power of two
    if denominator > 1:
        return numerator, 1 - denominator.bit_length()
    zeros = (numerator & -numerator).bit_length() - 1
    return numerator >> zeros, zeros


def sqlite_double(value: float) -> exp.Expression:
    """SQLite double literal, exact whatever SQLite's decimal parser does (see the module docstring).

    >>> sqlite_double(0.5).sql(dialect="sqlite")
    '(1 /* 0.5 */ * POWER(2.0, -1))'
    """
    return _mark(_sqlite_double(value), value)


def _sqlite_double(value: float) -> exp.Expression:
    """SQLite double literal, exact whatever SQLite's decimal parser does (see the module docstring).

    >>> sqlite_double(0.5).sql(dialect="sqlite")
    '(1 /* 0.5 */ * POWER(2.0, -1))'
    """
    if math.isnan(value):
        return exp.Cast(this=exp.null(), to=exp.DataType.build("REAL"))
    if math.isinf(value):
        return exp.Literal.number("9e999") if value > 0 else exp.Neg(this=exp.Literal.number("9e999"))
    if value == 0 and math.copysign(1.0, value) < 0:
        # SQLite folds a unary minus on a literal into the literal's sign; on anything else it
        # emits ``0 - x``, which turns -0.0 into +0.0
        return exp.Neg(this=exp.Literal.number("0.0"))
    negative = value < 0
    magnitude = -value if negative else value
    if magnitude == int(magnitude) and magnitude < _TWO_53:
        built: exp.Expression = cast(exp.Literal.number(str(int(magnitude))), "REAL")
    else:
        significand, exponent = _odd_significand(magnitude)
        number = exp.Literal.number(str(significand))
        number.add_comments([repr(magnitude)])
        # 2**e underflows to 0 below -1074; a significand < 2**53 keeps e >= -1074 here
        built = exp.Paren(this=exp.Mul(this=number, expression=_power_of_two(exponent)))  # an atom wherever it goes
    return exp.Neg(this=built) if negative else built


def _power_of_two(exponent: int) -> exp.Expression:
    # pow() of an exact power of two is exact in every libm SQLite links against
    return exp.Pow(this=exp.Literal.number("2.0"), expression=integer(exponent))
