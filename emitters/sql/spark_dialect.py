"""Apache Spark SQL (4.x, ANSI mode on by default; also correct with ANSI off).

What Spark does with doubles, measured on Spark 4.0 local mode (``tests/engines/test_spark.py``):

- ``1.5`` is a DECIMAL; ``1.5D`` is a DOUBLE read by ``Double.parseDouble`` (correctly rounded):
  every finite literal is ``<repr>D``, the sign a unary minus (``-0.0D`` is -0.0); +-inf and NaN
  are ``CAST('Infinity' AS DOUBLE)``, ``'-Infinity'``, ``'NaN'``.
- NaN = NaN is TRUE and NaN sorts above +inf (like DuckDB/PostgreSQL): comparisons of a value
  that may be NaN are guarded by the visitor with ``ISNAN``; ``GREATEST`` orders NaN highest and
  keeps its first argument on ties (+-0 included), so it is ``numpy.maximum``.
- ``x / 0`` raises ``DIVIDE_BY_ZERO`` under ANSI (NULL without ANSI), for any ``x``, NaN too:
  guarded to IEEE. ``ATAN2`` adds ``0.0`` to its arguments (loses the sign of a zero), so the
  sign of a zero divisor is read from its text (``CAST(-0.0D AS STRING)`` is ``'-0.0'``).
- ``LN(x <= 0)`` and ``LOG1P(x <= -1)`` are NULL: guarded to -inf / NaN. ``EXP``, ``SQRT``,
  ``EXPM1`` are IEEE (``EXP`` overflows to inf, underflows to 0). ``FLOOR`` returns a BIGINT and
  raises on +-inf under ANSI: only ``|x| < 2**52`` goes through it, the rest is already integral.
- ``POWER`` is ``StrictMath.pow`` (Java): ``pow(1, NaN)`` and ``pow(-1, +-inf)`` are NaN where C
  says 1: guarded.
- ``EXP``, ``LN``, ``LOG1P``, ``EXPM1``, ``POWER`` are ``java.lang.StrictMath`` (fdlibm), not
  glibc: within 1 ULP of the correctly rounded result, so outputs through them carry a budget
  (``modelgen/budget.py``, the golden cases' ``sql:spark`` budgets).
- Row rejection: ``raise_error(msg)`` (typed NULL: valid beside a value of any type, and never
  folded while planning).
- No float32 nodes (as SQLite: the tree float32 pass leaves only double comparisons, so float32
  trees compile; Spark's FLOAT cast raises on overflow under ANSI).
- Strings compare by UTF-8 bytes (the default ``UTF8_BINARY`` collation); identifiers are
  case-insensitive by default (``spark.sql.caseSensitive`` false).
"""

from __future__ import annotations

import math
from typing import ClassVar

from sqlglot import exp

from emitters.sql import literals, ops, tables
from emitters.sql.dialects import REJECT_PREFIX, BinaryBuilder, SqlDialect, UnaryBuilder, _greatest, _pg_log
from emitters.sql.names import IdentifierRules
from modelgen.errors import ModelgenError, TargetCannotExpressError
from modelgen.ir.nodes import Node
from modelgen.ir.types import DType

MAX_LAYERS = 97
"""Most CTE layers Spark 4.0's analyzer resolves with its default ``spark.sql.analyzer.maxIterations``
(100): measured, 97 layers plan and 98 fail with "Max iterations (100) reached for batch Resolution"
(each nested layer costs one iteration)."""

SUM_FOLD_TERMS = 3
"""Sums of at least this many terms are a Spark ``aggregate`` fold (``spark_fold_sum``)."""

_TWO_52 = 4503599627370496.0
"""At and above this magnitude every double is an integer: its floor is itself."""


def _copy(expression: exp.Expression) -> exp.Expression:
    return expression.copy()


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def spark_double_text(value: float) -> str:
    """A Spark double literal as text: ``0.1D``, ``-5e-324D``, ``CAST('NaN' AS DOUBLE)``.

    >>> spark_double_text(-0.0), spark_double_text(1e-05), spark_double_text(float("-inf"))
    ('-0.0D', '1e-05D', "CAST('-Infinity' AS DOUBLE)")
    """
    if math.isnan(value):
        return "CAST('NaN' AS DOUBLE)"
    if math.isinf(value):
        return f"CAST('{'Infinity' if value > 0 else '-Infinity'}' AS DOUBLE)"
    text = repr(abs(value)) + "D"
    return "-" + text if math.copysign(1.0, value) < 0 else text


def spark_double(value: float) -> exp.Expression:
    """:func:`spark_double_text` as a sqlglot expression (marked as a constant for the guards)."""
    if math.isnan(value) or math.isinf(value):
        word = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        built: exp.Expression = literals.cast(literals.string(word), "DOUBLE")
    else:
        number = exp.Literal.number(repr(abs(value)) + "D")
        built = exp.Neg(this=number) if math.copysign(1.0, value) < 0 else number
    built.meta["modelgen_constant"] = value  # literals.constant_value: guards skip constants
    return built


def _spark_div(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    divisor = literals.constant_value(b)
    if divisor is not None and divisor == divisor and divisor != 0:
        return ops.div(a, b)
    # x / 0 raises (ANSI) or is NULL; IEEE: NaN for 0/0 and NaN/0, else an infinity whose sign
    # is sign(a) xor sign(b). NaN = 0 is FALSE, so a NaN divisor takes the first arm (a / NaN)
    b_nonzero = ops.not_(ops.compare(exp.EQ, _copy(b), dialect.double(0.0)))
    a_zero_or_nan = ops.or_([ops.compare(exp.EQ, _copy(a), dialect.double(0.0)), dialect.is_nan(_copy(a))])
    a_negative = ops.compare(exp.LT, _copy(a), dialect.double(0.0))
    # b is +-0.0 here; ATAN2 drops the sign of a zero, its text keeps it
    b_negative = ops.compare(exp.EQ, literals.cast(_copy(b), "STRING"), literals.string("-0.0"))
    return exp.Case(
        ifs=[
            exp.If(this=b_nonzero, true=ops.div(a, b)),
            exp.If(this=a_zero_or_nan, true=dialect.nan()),
            exp.If(this=ops.compare(exp.EQ, a_negative, b_negative), true=dialect.double(float("inf"))),
        ],
        default=dialect.double(float("-inf")),
    )


def spark_fold_sum(args: list[exp.Expression]) -> exp.Expression:
    """``t0 + t1 + ... + tn`` as ``aggregate(array(t1, ..., tn), t0, (acc, t) -> acc + t)``.

    The same left fold (``((t0 + t1) + t2) + ...``, double ``+``: IEEE under ANSI on and off),
    but one expression node per term instead of an addition chain: Spark's optimizer
    (CollapseProject) merges the query's 25-term sum layers back into one expression, and a
    1,000-deep chain of additions overflows the JVM stack in code generation (and the heap, on
    gb1000). ``aggregate`` is interpreted (no generated code) and nests one level per layer.
    """
    merge = exp.Lambda(
        this=ops.add(exp.column("__mg_acc"), exp.column("__mg_term")),
        expressions=[exp.to_identifier("__mg_acc"), exp.to_identifier("__mg_term")],
    )
    terms = exp.Array(expressions=[_copy(arg) for arg in args[1:]])
    return _call("AGGREGATE", terms, _copy(args[0]), merge)


def _spark_pow(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    # StrictMath.pow follows C99 except pow(1, NaN) and pow(+-1, +-inf): NaN in Java, 1 in C
    exponent = literals.constant_value(b)
    if exponent is not None and exponent == exponent and not math.isinf(exponent):
        return exp.Pow(this=a, expression=b)  # pow(1, finite) is 1 in Java too
    one = ops.or_(
        [
            ops.compare(exp.EQ, _copy(a), dialect.double(1.0)),
            ops.and_(
                [
                    ops.compare(exp.EQ, exp.Abs(this=_copy(a)), dialect.double(1.0)),
                    ops.compare(exp.EQ, exp.Abs(this=_copy(b)), dialect.double(float("inf"))),
                ]
            ),
        ]
    )
    return exp.Case(ifs=[exp.If(this=one, true=dialect.double(1.0))], default=exp.Pow(this=a, expression=b))


def _spark_log1p(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # LOG1P(x <= -1) is NULL; IEEE: -inf at -1, NaN below. NaN > -1 is TRUE here: LOG1P(NaN) = NaN
    return exp.Case(
        ifs=[
            exp.If(this=ops.compare(exp.GT, _copy(x), dialect.double(-1.0)), true=_call("LOG1P", _copy(x))),
            exp.If(this=ops.compare(exp.EQ, _copy(x), dialect.double(-1.0)), true=dialect.double(float("-inf"))),
        ],
        default=dialect.nan(),
    )


def _spark_floor(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # FLOOR gives a BIGINT (raises on +-inf under ANSI); at |x| >= 2**52 (and NaN, which sorts
    # highest) x is already its floor; a zero keeps its sign (the BIGINT 0 would lose -0.0)
    small = ops.and_(
        [
            ops.compare(exp.LT, exp.Abs(this=_copy(x)), dialect.double(_TWO_52)),
            ops.not_(ops.compare(exp.EQ, _copy(x), dialect.double(0.0))),
        ]
    )
    floored = dialect.cast_double(exp.Floor(this=_copy(x)))
    return exp.Case(ifs=[exp.If(this=small, true=floored)], default=_copy(x))


class SparkDialect(SqlDialect):
    """Spark SQL 4 (ANSI on or off): IEEE doubles whose NaN equals itself and sorts highest;
    division by zero, ``LN``/``LOG1P`` outside their domain, ``FLOOR`` and Java's ``pow`` edge
    cases are guarded to IEEE. Missing inputs (NULL) are read as NaN."""

    name = "spark"
    sqlglot_name = "spark"
    double_type = "DOUBLE"
    max_depth = 16
    supports_float32 = False
    max_case_nesting = 32
    # a nested CASE per tree costs seconds of parsing/analysis/codegen per 100 KB of query
    table_trees = True
    tree_arrays = tables.SPARK_ARRAYS
    MISSING_COMPARES: ClassVar[dict[str, bool | None]] = {
        "le": False, "lt": False, "gt": True, "ge": True, "in": False, "notin": True
    }
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {
        "log": _pg_log,
        "log1p": _spark_log1p,
        "expm1": lambda d, x: _call("EXPM1", x),
        "floor": _spark_floor,
    }
    # GREATEST: NaN highest, first argument on ties (+-0 included): numpy.maximum
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {
        "div": _spark_div,
        "pow": _spark_pow,
        "max": lambda d, a, b: _greatest(a, b),
        "min": lambda d, a, b: ops.neg(_greatest(ops.neg(a), ops.neg(b))),
    }
    # spark.sql.caseSensitive=false (the default): `CREATE TEMP VIEW v AS SELECT ... AS a, ... AS A`
    # fails (duplicate column; names compared lower-cased with Locale.ROOT); measured in
    # tests/engines/test_spark_scale.py. case-folding refuses a little more (e.g. ß vs ss): safe
    identifier_rules = IdentifierRules(case="unicode")
    DUPLICATING_UNARY = frozenset({"log", "log1p", "floor"})
    DUPLICATING_BINARY = frozenset({"div", "pow"})

    def build_sum(self, terms: tuple[Node, ...], args: list[exp.Expression]) -> exp.Expression | None:
        # 3+ terms: the split 25-term chunks of an ensemble sum (see spark_fold_sum)
        return spark_fold_sum(args) if len(args) >= SUM_FOLD_TERMS else None

    def check_layers(self, count: int) -> None:
        if count > MAX_LAYERS:
            raise ModelgenError(
                f"SQL dialect 'spark': the query needs {count} nested layers (the model's expressions are "
                f"that deep), above the {MAX_LAYERS} that Spark's analyzer resolves with its default "
                f"spark.sql.analyzer.maxIterations=100 (one iteration a layer): it would fail to plan there "
                f"(\"Max iterations (100) reached for batch Resolution\"), so it is refused; a cluster with "
                f"spark.sql.analyzer.maxIterations of at least {count + 10} could run it, or emit duckdb/postgres"
            )

    def double(self, value: float) -> exp.Expression:
        return spark_double(value)

    def double_text(self, value: float) -> str:
        return spark_double_text(value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return exp.IsNan(this=value)

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        # with ANSI on CAST raises on a non-number; with ANSI off it would be NULL (= missing):
        # a NULL from a non-NULL value rejects the row instead
        message = f"input {input_name!r} is not a number"
        cast = exp.Coalesce(this=self.cast_double(_copy(column)), expressions=[self.reject(message)])
        return exp.Case(ifs=[exp.If(this=ops.is_null(_copy(column)), true=self.nan())], default=cast)

    def reject(self, message: str) -> exp.Expression:
        return _call("raise_error", literals.string(REJECT_PREFIX + message))

    def typed_reject(self, message: str, dtype: DType) -> exp.Expression:
        # raise_error is typed NULL: a CASE unifies it with a value of any type
        return self.reject(message)

    def round_float32(self, value: exp.Expression) -> exp.Expression:
        raise TargetCannotExpressError("SQL dialect 'spark' has no float32 arithmetic: cannot round to float32")
