"""Generation-only SQL dialects: BigQuery, Snowflake, T-SQL, MySQL, Trino, Redshift, Oracle.

No engine for these runs in the test suite: each class encodes what the vendor documents
(see the "SQL dialects" table in ``emitters/sql/README.md``), and the tests check that every
golden case's query parses back with sqlglot in the dialect and that literals read back to the
same bits. Two families:

- **IEEE with NaN** (BigQuery, Snowflake, Trino, Oracle ``BINARY_DOUBLE``): missing inputs
  are read as NaN, the only missing value inside the query (as on DuckDB/PostgreSQL); where the
  engine raises instead of giving +-inf/NaN (``EXP`` overflow, ``LN(0)``, ``x / 0``), the
  operation is guarded to the IEEE result.
- **No NaN, no infinity** (T-SQL ``FLOAT``, MySQL ``DOUBLE``, Redshift ``FLOAT8`` taken
  conservatively): NULL is the NaN, as on SQLite. An infinity cannot be written, so a model
  constant +-inf is refused at compile time, and a row whose IEEE result would be infinite
  (``x / 0``, ``LN(0)``, ``EXP`` overflow) is *rejected* (the query fails), never scored wrong.
"""

from __future__ import annotations

import math
from typing import ClassVar

from sqlglot import exp

from emitters.sql import literals, ops
from emitters.sql.dialects import (
    _PG_EXP_MAX,
    _PG_EXP_MIN,
    REJECT_PREFIX,
    BinaryBuilder,
    SqlDialect,
    UnaryBuilder,
    _pg_div,
    _pg_exp,
    _pg_log,
    _pg_pow,
    _pg_sqrt,
)
from emitters.sql.names import IdentifierRules
from modelgen.errors import TargetCannotExpressError
from modelgen.ir.types import DOUBLE, STRING, DType


def _copy(expression: exp.Expression) -> exp.Expression:
    return expression.copy()


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _exponent_literal(value: float) -> exp.Expression:
    """``<repr>E0`` (a DOUBLE/FLOAT literal in MySQL and T-SQL), the sign as a unary minus."""
    digits = repr(abs(value))
    number = exp.Literal.number(digits if "e" in digits else digits + "e0")
    built = exp.Neg(this=number) if math.copysign(1.0, value) < 0 else number
    built.meta["modelgen_constant"] = value  # literals.constant_value: guards skip constants
    return built


def _cast_literal(text: str, type_name: str, value: float) -> exp.Expression:
    built = literals.cast(literals.string(text), type_name)
    built.meta["modelgen_constant"] = value
    return built


def _ieee_pow(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    # C pow: pow(x, 0) = 1 and pow(1, y) = 1 even for NaN, otherwise NaN in -> NaN out; the
    # PostgreSQL guard relies on NaN = NaN for the rest, so NaN operands are settled first
    exponent = literals.constant_value(b)
    if exponent is not None and exponent == exponent and exponent >= 0:
        return _pg_pow(dialect, a, b)
    one = ops.or_(
        [ops.compare(exp.EQ, _copy(b), dialect.double(0.0)), ops.compare(exp.EQ, _copy(a), dialect.double(1.0))]
    )
    any_nan = ops.or_([dialect.is_nan(_copy(a)), dialect.is_nan(_copy(b))])
    return exp.Case(
        ifs=[exp.If(this=one, true=dialect.double(1.0)), exp.If(this=any_nan, true=dialect.nan())],
        default=_pg_pow(dialect, a, b),
    )


class _GenerationDialect(SqlDialect):
    """What every generation-only dialect shares: no float32 type, and a row rejection that is
    typed like the value it stands beside, unless the engine's raising expression is untyped."""

    supports_float32 = False
    # T-SQL and MySQL raise on an overflowing addition; the others are not measured
    sums_overflow_to_infinity = False
    reject_is_untyped: ClassVar[bool] = False
    """True where :meth:`reject` is already valid beside a value of any type (a raising call
    without a type of its own, a VARCHAR of the lowest precedence, a CASE that converts)."""

    def typed_reject(self, message: str, dtype: DType) -> exp.Expression:
        """:meth:`reject` as a value of ``dtype``: a CASE arm beside a string must be a string
        (PostgreSQL-like engines and Oracle do not unify a double arm with a text one); the
        inner conversion raises before the outer one runs."""
        if self.reject_is_untyped:
            return self.reject(message)
        return _typed(self, self.reject(message), dtype)

    def round_float32(self, value: exp.Expression) -> exp.Expression:
        raise TargetCannotExpressError(f"SQL dialect {self.name!r} has no float32 type: cannot round to float32")


class _IeeeNanDialect(_GenerationDialect):
    """Engines whose doubles hold NaN and +-inf; missing inputs are read as NaN."""

    max_depth = 16
    max_case_nesting = 32
    # NaN sorts above every number and NaN = NaN (Snowflake, Oracle, like PostgreSQL);
    # IEEE engines (BigQuery, Trino) override with all-FALSE comparisons
    MISSING_COMPARES: ClassVar[dict[str, bool | None]] = {
        "le": False,
        "lt": False,
        "gt": True,
        "ge": True,
        "in": False,
        "notin": True,
    }
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {"exp": _pg_exp, "log": _pg_log, "sqrt": _pg_sqrt}
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {"div": _pg_div, "pow": _ieee_pow}
    DUPLICATING_UNARY = frozenset({"exp", "log", "log1p", "expm1", "sqrt"})
    DUPLICATING_BINARY = frozenset({"max", "min", "div", "pow"})

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return ops.compare(exp.EQ, value, self.nan())

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        return exp.Coalesce(this=self.cast_double(column), expressions=[self.nan()])

    def reject(self, message: str) -> exp.Expression:
        # casting the message to a double fails with the message in the error; the volatile
        # RANDOM() keeps the planner from folding (and raising) it when no row is rejected
        text = _call(
            "CONCAT",
            literals.string(REJECT_PREFIX + message),
            _call("LEFT", literals.cast(_call("RANDOM"), "VARCHAR"), literals.integer(0)),
        )
        return self.cast_double(text)


def _typed(dialect: SqlDialect, rejected: exp.Expression, dtype: DType) -> exp.Expression:
    if dtype is DOUBLE or dtype is not STRING:
        return rejected
    if dialect.name == "oracle":
        return _call("TO_CHAR", rejected)
    return literals.cast(rejected, "VARCHAR")


_IEEE_COMPARES: dict[str, bool | None] = {
    "le": False,
    "lt": False,
    "gt": False,
    "ge": False,
    "in": False,
    "notin": True,
}


class BigQueryDialect(_IeeeNanDialect):
    """BigQuery: FLOAT64 with IEEE comparisons (NaN compares FALSE); ``/`` raises on zero
    (``IEEE_DIVIDE`` does not), ``EXP``/``LN``/``SQRT``/``POW`` raise outside their domain."""

    name = "bigquery"
    # 300 characters, case-insensitive; flexible column names exclude this punctuation
    identifier_rules = IdentifierRules(max_length=300, case="unicode", forbidden='!"$()*,./;?@[\\]^`{}~')
    reject_is_untyped = True  # the raising call has no type of its own
    sqlglot_name = "bigquery"
    double_type = "DOUBLE"  # printed FLOAT64 by sqlglot
    MISSING_COMPARES = _IEEE_COMPARES
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {
        "div": lambda d, a, b: _call("IEEE_DIVIDE", a, b),
        "pow": _ieee_pow,
    }
    DUPLICATING_BINARY = frozenset({"max", "min", "pow"})

    def double(self, value: float) -> exp.Expression:
        # CAST from STRING accepts "nan", "inf", "-inf" and is correctly rounded (documented)
        return _cast_literal(_ieee_digits(value, "nan", "inf"), "DOUBLE", value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return _call("IS_NAN", value)

    def reject(self, message: str) -> exp.Expression:
        return _call("ERROR", literals.string(REJECT_PREFIX + message))


class SnowflakeDialect(_IeeeNanDialect):
    """Snowflake: FLOAT (64-bit) where NaN = NaN and NaN sorts above +inf (like PostgreSQL);
    division by zero and ``LN(0)`` raise: guarded."""

    name = "snowflake"
    identifier_rules = IdentifierRules(max_length=255)  # quoted names are case-sensitive
    sqlglot_name = "snowflake"
    double_type = "DOUBLE"

    def double(self, value: float) -> exp.Expression:
        return _cast_literal(_ieee_digits(value, "NaN", "inf"), "DOUBLE", value)


class TrinoDialect(_IeeeNanDialect):
    """Trino: DOUBLE with Java semantics: ``x/0``, ``ln(0)``, ``exp`` overflow are already IEEE;
    NaN compares FALSE. Java's ``pow(1, NaN)`` is NaN (C: 1): guarded. ``Math.exp``/``log`` may
    differ from glibc by 1 ULP (not bit-exact, like Spark)."""

    name = "trino"
    identifier_rules = IdentifierRules(case="lower")  # Trino lower-cases every name, quoted too
    reject_is_untyped = True  # the raising call has no type of its own
    sqlglot_name = "trino"
    double_type = "DOUBLE"
    MISSING_COMPARES = _IEEE_COMPARES
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {}
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {"pow": _ieee_pow}
    DUPLICATING_UNARY = frozenset({"log1p", "expm1"})
    DUPLICATING_BINARY = frozenset({"max", "min", "pow"})

    def double(self, value: float) -> exp.Expression:
        # CAST(varchar AS double) is Double.parseDouble: correctly rounded, "NaN", "Infinity"
        return _cast_literal(_ieee_digits(value, "NaN", "Infinity"), "DOUBLE", value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return _call("IS_NAN", value)

    def reject(self, message: str) -> exp.Expression:
        return _call("FAIL", literals.string(REJECT_PREFIX + message))


class OracleDialect(_IeeeNanDialect):
    """Oracle ``BINARY_DOUBLE`` (never ``NUMBER``/``DOUBLE PRECISION``, which are decimal):
    NaN = NaN and NaN sorts above +inf; guards as PostgreSQL's. Needs 23ai (BOOLEAN in SQL)."""

    name = "oracle"
    identifier_rules = IdentifierRules(max_length=128, unit="bytes")  # 12.2+; quoted: case-sensitive
    sqlglot_name = "oracle"
    double_type = "BINARY_DOUBLE"

    def double(self, value: float) -> exp.Expression:
        if math.isnan(value):
            built: exp.Expression = exp.column("BINARY_DOUBLE_NAN")
        elif math.isinf(value):
            infinity = exp.column("BINARY_DOUBLE_INFINITY")
            built = infinity if value > 0 else exp.Neg(this=infinity)
        else:
            # sqlglot reads the 0.1d literal form as "0.1 AS d": the conversion function instead
            built = _call("TO_BINARY_DOUBLE", literals.string(repr(value)))
        built.meta["modelgen_constant"] = value
        return built

    def cast_double(self, value: exp.Expression) -> exp.Expression:
        return _call("TO_BINARY_DOUBLE", value)

    def reject(self, message: str) -> exp.Expression:
        # no raise function in SQL: the conversion fails (ORA-01722) without the message text
        return self.cast_double(
            _call(
                "CONCAT",
                literals.string(REJECT_PREFIX + message),
                _call(
                    "SUBSTR",
                    _call("TO_CHAR", exp.column("VALUE", table="DBMS_RANDOM")),
                    literals.integer(1),
                    literals.integer(0),
                ),
            )
        )


def _ieee_digits(value: float, nan: str, inf: str) -> str:
    if math.isnan(value):
        return nan
    if math.isinf(value):
        return inf if value > 0 else "-" + inf
    return repr(value)


# ---- engines without NaN or infinity: NULL is the NaN ------------------------------------


def _null_div(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    divisor = literals.constant_value(b)
    if divisor is not None and divisor == divisor and divisor != 0:
        return ops.div(a, b)
    # x / 0: IEEE gives NaN for 0/0 (NULL here) and +-inf otherwise, which these engines cannot
    # hold: that row is rejected rather than scored as missing
    zero = ops.compare(exp.EQ, _copy(b), dialect.double(0.0))
    a_zero_or_null = ops.or_([ops.is_null(_copy(a)), ops.compare(exp.EQ, _copy(a), dialect.double(0.0))])
    return exp.Case(
        ifs=[
            exp.If(this=ops.is_null(_copy(b)), true=dialect.nan()),
            exp.If(
                this=zero,
                true=exp.Case(
                    ifs=[exp.If(this=a_zero_or_null, true=dialect.nan())],
                    default=dialect.reject(f"division by zero is infinite, which {dialect.name} cannot hold"),
                ),
            ),
        ],
        default=ops.div(a, b),
    )


def _null_exp(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    return exp.Case(
        ifs=[
            exp.If(this=ops.compare(exp.LTE, _copy(x), dialect.double(_PG_EXP_MIN)), true=dialect.double(0.0)),
            exp.If(this=ops.compare(exp.LTE, _copy(x), dialect.double(_PG_EXP_MAX)), true=exp.Exp(this=_copy(x))),
            exp.If(this=ops.is_null(_copy(x)), true=dialect.nan()),
        ],
        default=dialect.reject(f"exp overflows to infinity, which {dialect.name} cannot hold"),
    )


def _null_log(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    return exp.Case(
        ifs=[
            exp.If(this=ops.compare(exp.GT, _copy(x), dialect.double(0.0)), true=exp.Ln(this=_copy(x))),
            exp.If(
                this=ops.compare(exp.EQ, _copy(x), dialect.double(0.0)),
                true=dialect.reject(f"ln(0) is -infinity, which {dialect.name} cannot hold"),
            ),
        ],
        default=dialect.nan(),  # negative or missing: NaN, i.e. NULL
    )


def _null_sqrt(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    less = ops.compare(exp.LT, _copy(x), dialect.double(0.0))
    return exp.Case(ifs=[exp.If(this=less, true=dialect.nan())], default=exp.Sqrt(this=x))


def _null_pow(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    exponent = literals.constant_value(b)
    if exponent is None or exponent != exponent or exponent < 0:
        # 0 ** negative is infinite and a variable exponent may be anything: refuse
        raise TargetCannotExpressError(
            f"SQL dialect {dialect.name!r} has no infinity: pow needs a constant exponent >= 0"
        )
    if exponent == 0:
        return dialect.double(1.0)  # C pow(x, 0) = 1 for every x, NaN included
    if exponent == int(exponent):
        return exp.Pow(this=a, expression=b)
    # a negative base to a non-integer power is NaN (NULL); the engines raise
    less = ops.compare(exp.LT, _copy(a), dialect.double(0.0))
    return exp.Case(ifs=[exp.If(this=less, true=dialect.nan())], default=exp.Pow(this=a, expression=b))


class _NullNanDialect(_GenerationDialect):
    """Engines without NaN and infinities: NULL is the NaN (arithmetic propagates it)."""

    max_depth = 8
    max_case_nesting = 16
    # `abs(x) < inf` range checks and `x <= inf` tree splits need no infinity: no value is infinite
    rewrite_infinities = True
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {"exp": _null_exp, "log": _null_log, "sqrt": _null_sqrt}
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {"div": _null_div, "pow": _null_pow}
    DUPLICATING_UNARY = frozenset({"exp", "log", "log1p", "expm1", "sqrt"})
    DUPLICATING_BINARY = frozenset({"max", "min", "div", "pow"})

    def _infinity(self, value: float) -> exp.Expression:
        raise TargetCannotExpressError(
            f"SQL dialect {self.name!r} has no infinity: the model needs the constant {value!r}"
        )

    def double(self, value: float) -> exp.Expression:
        if math.isnan(value):
            built = literals.cast(exp.null(), self.double_type)
            built.meta["modelgen_constant"] = value
            return built
        if math.isinf(value):
            return self._infinity(value)
        return _exponent_literal(value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return ops.is_null(value)

    def not_nan(self, value: exp.Expression) -> exp.Expression:
        return ops.is_not_null(value)

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        return self.cast_double(column)


class TsqlDialect(_NullNanDialect):
    """SQL Server (2022+: ``IS [NOT] DISTINCT FROM``): FLOAT = FLOAT(53), no NaN/inf; x/0,
    ``LOG(0)``, ``EXP`` overflow raise (guarded); CASE nests at most 10 levels (error 125)."""

    name = "tsql"
    # sysname is NVARCHAR(128); the default collation compares names ignoring case and trailing spaces
    identifier_rules = IdentifierRules(max_length=128, case="unicode", trailing_spaces="ignored")
    reject_is_untyped = True  # a VARCHAR of the lowest type precedence
    sqlglot_name = "tsql"
    double_type = "FLOAT"
    # documented (MSSQLSERVER_125): 10 nested CASE levels; tree CASEs nest <= 6 (flat paths
    # beyond), leaving 4 for guards and the row-check CASE around an output
    max_case_nesting = 6
    max_depth = 3

    def reject(self, message: str) -> exp.Expression:
        # 'Conversion failed when converting the varchar value '<message>' to data type int'.
        # Typed VARCHAR, the lowest type precedence, so a CASE keeps its value's type (FLOAT,
        # INT, a label's NVARCHAR) instead of converting every label to INT
        return literals.cast(literals.cast(literals.string(REJECT_PREFIX + message), "INT"), "VARCHAR(1)")


class MySQLDialect(_NullNanDialect):
    """MySQL 8.0.17+: DOUBLE, no NaN/inf; x/0 and ``LN(0)`` are NULL, ``EXP`` overflow raises
    (guarded); ``<repr>E0`` is a DOUBLE literal (dtoa, correctly rounded)."""

    name = "mysql"
    # a view's column names: 64 characters, case-insensitive, BMP only, no trailing space
    identifier_rules = IdentifierRules(max_length=64, case="unicode", trailing_spaces="refused", bmp_only=True)
    reject_is_untyped = True  # MySQL's CASE converts between any types
    sqlglot_name = "mysql"
    double_type = "DOUBLE"

    def reject(self, message: str) -> exp.Expression:
        # no raise in a SELECT: an invalid JSON path fails the query (MySQL's error text does
        # not repeat the path, so the message is lost; the query still fails)
        return _call("JSON_EXTRACT", literals.string("{}"), literals.string(REJECT_PREFIX + message))


class RedshiftDialect(_NullNanDialect):
    """Redshift: FLOAT8 taken as having no NaN/inf (conservative: not documented as
    supported); x/0 raises, guarded; literals as PostgreSQL's ``CAST('…' AS DOUBLE PRECISION)``."""

    name = "redshift"
    # 127 bytes; folded to lower case unless enable_case_sensitive_identifier is on
    identifier_rules = IdentifierRules(max_length=127, unit="bytes", case="lower")
    sqlglot_name = "redshift"
    double_type = "DOUBLE PRECISION"

    def double(self, value: float) -> exp.Expression:
        if math.isnan(value) or math.isinf(value):
            return super().double(value)
        return _cast_literal(repr(value), "DOUBLE PRECISION", value)

    def reject(self, message: str) -> exp.Expression:
        # 'invalid input syntax for type double precision: "<message>"'
        text = _call(
            "CONCAT",
            literals.string(REJECT_PREFIX + message),
            _call("LEFT", literals.cast(_call("RANDOM"), "VARCHAR"), literals.integer(0)),
        )
        return self.cast_double(text)


GENERATION_DIALECTS: dict[str, type[SqlDialect]] = {
    "bigquery": BigQueryDialect,
    "snowflake": SnowflakeDialect,
    "tsql": TsqlDialect,
    "mysql": MySQLDialect,
    "trino": TrinoDialect,
    "redshift": RedshiftDialect,
    "oracle": OracleDialect,
}
"""Dialects generated but not run in the test suite (no engine here), by ``--dialect`` name."""
