"""SQL dialects as small tables: how each engine spells doubles, NaN tests, guards and rejections.

A dialect subclasses :class:`SqlDialect` (or the nearest existing dialect) and overrides
only what differs: its literal function, its NaN representation, and per-op builders in
``UNARY_OVERRIDES`` / ``BINARY_OVERRIDES`` where the engine departs from IEEE-754.
PostgreSQL, Spark, ... are meant to be added the same way (one class, one ``DIALECTS`` line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sqlglot import exp

from emitters.sql import literals, ops, postgres_range, postgres_sum, tables
from emitters.sql.names import IdentifierRules
from modelgen.errors import ModelgenError
from modelgen.ir.nodes import Node
from modelgen.ir.types import BOOL, DOUBLE, INT, STRING, DType
from modelgen.numerics import format_double

UnaryBuilder = Callable[["SqlDialect", exp.Expression], exp.Expression]
BinaryBuilder = Callable[["SqlDialect", exp.Expression, exp.Expression], exp.Expression]

FLOAT32_ROUNDING_BOUND = 3.4028235677973366e38
"""Half-way between FLT_MAX and the next float32 step: doubles at or beyond it round to +-inf."""

REJECT_PREFIX = "modelgen row rejected: "


def _copy(expression: exp.Expression) -> exp.Expression:
    return expression.copy()


class SqlDialect:
    """Defaults follow IEEE-754 engines with a real NaN (DuckDB); subclasses override the rest."""

    name: ClassVar[str]
    sqlglot_name: ClassVar[str]
    double_type: ClassVar[str]
    max_depth: ClassVar[int] = 16
    """Deepest IR expression inlined into one SQL expression (parser/planner nesting limits)."""
    supports_float32: ClassVar[bool] = False
    max_case_nesting: ClassVar[int] = 12
    """Deepest CASE-in-THEN nesting a tree's nested CASE may have (``emitters/sql/trees.py``);
    a deeper tree is printed as flat leaf paths."""
    table_trees: ClassVar[bool] = False
    """Route threshold trees through node arrays (``emitters/sql/tables.py``) instead of CASEs."""
    tree_arrays: ClassVar[tables.ArraySyntax] = tables.DUCKDB_ARRAYS
    """How the node arrays are written where ``table_trees`` (``tables.ArraySyntax``)."""
    materialize_layers: ClassVar[bool] = False
    """Write layers ``AS MATERIALIZED``: needed where the planner would substitute a layer's
    expressions into every use in the next one (SQLite's flattener: exponential on chains)."""
    rewrite_infinities: ClassVar[bool] = False
    """Rewrite comparisons against +-inf constants before building (``emitters/sql/infinities.py``):
    for engines that cannot write an infinity (and where no value is ever infinite)."""
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {}
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {}
    DUPLICATING_UNARY: ClassVar[frozenset[str]] = frozenset({"log1p", "expm1"})
    """Unary ops whose SQL mentions the argument more than once (the argument is then bound)."""
    DUPLICATING_BINARY: ClassVar[frozenset[str]] = frozenset({"max", "min"})
    identifier_rules: ClassVar[IdentifierRules] = IdentifierRules()
    """The engine's rules for result column names (length, case, characters: ``names.py``)."""
    DUPLICATING_SUM: ClassVar[bool] = False
    sums_overflow_to_infinity: ClassVar[bool] = True
    """A sum of finite doubles that overflows gives +-inf here (PostgreSQL: guarded to), never an
    error: the row checks' guard sum relies on it (``emitters/sql/checks.py``)."""
    """True where :meth:`build_sum` mentions a term more than once (terms are then bound)."""
    MISSING_COMPARES: ClassVar[dict[str, bool | None]] = {
        "le": None, "lt": None, "gt": None, "ge": None, "in": None, "notin": None
    }
    """What ``x <op> t`` (``x IN (...)``, ``NOT x IN (...)``) gives when ``x`` is this engine's
    missing double, for non-NaN constants ``t``: TRUE, FALSE or NULL (None). Tree paths guard
    only the tests whose answer is not already the one they need."""

    def double(self, value: float) -> exp.Expression:
        """A double literal that reads back to the identical bits in this engine."""
        raise NotImplementedError

    def double_text(self, value: float) -> str:
        """:meth:`double` as SQL text (tree CASEs print millions of literals: no sqlglot round trip)."""
        return self.double(value).sql(dialect=self.sqlglot_name)

    def tree_double_text(self, value: float, column: str) -> str:
        """A double literal inside a tree CASE (thresholds, leaf values), as text; ``column`` is
        any column of the same row, for engines that must not see the literal as a constant."""
        return self.double_text(value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        """TRUE when ``value`` is this engine's NaN, FALSE otherwise (never NULL)."""
        raise NotImplementedError

    def not_nan(self, value: exp.Expression) -> exp.Expression:
        """The negation of :meth:`is_nan`."""
        return ops.not_(self.is_nan(value))

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        """Read a numeric input column into this engine's double, missing -> NaN."""
        raise NotImplementedError

    def reject(self, message: str) -> exp.Expression:
        """An expression that aborts the query with ``message`` when (and only when) evaluated."""
        raise NotImplementedError

    def typed_reject(self, message: str, dtype: DType) -> exp.Expression:
        """:meth:`reject` where a value of ``dtype`` is expected (a CASE arm beside that value).
        Engines whose raising expression is untyped (DuckDB's ``error``, SQLite) need nothing more."""
        return self.reject(message)

    def round_float32(self, value: exp.Expression) -> exp.Expression:
        """Round a double to the nearest float32 (ties to even), kept as a double; +-inf on overflow."""
        raise NotImplementedError

    def build_sum(self, terms: tuple[Node, ...], args: list[exp.Expression]) -> exp.Expression | None:
        """A double ``Sum`` of ``terms`` (built as ``args``), left to right; None: the plain
        ``a + b + c`` (engines whose ``+`` is IEEE)."""
        return None

    def check_layers(self, count: int) -> None:
        """Raise ``ModelgenError`` where this engine cannot plan a query of ``count`` CTE layers."""

    def nan(self) -> exp.Expression:
        """This engine's NaN."""
        return self.double(float("nan"))

    def cast_double(self, value: exp.Expression) -> exp.Expression:
        """``CAST(value AS <double type>)``."""
        return literals.cast(value, self.double_type)


def _greatest(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    # not exp.Greatest: sqlglot rewrites that into a NULL-propagating CASE repeating each argument
    return exp.Anonymous(this="GREATEST", expressions=[a, b])


class DuckDBDialect(SqlDialect):
    """DuckDB: real IEEE doubles (x/0, ln(0), sqrt(-1) as IEEE), but NaN = NaN is TRUE and NaN
    sorts above +inf, so every comparison of a possibly-NaN value is guarded with ``isnan``.
    Missing inputs (NULL) are read as NaN so that NaN is the only missing value inside the query."""

    name = "duckdb"
    sqlglot_name = "duckdb"
    double_type = "DOUBLE"
    max_depth = 24
    supports_float32 = True
    # measured: 399 nested THEN levels parse and run (DuckDB's own limit is its 1,000-deep
    # expression depth); a tree nesting 100 levels would need 2**99 leaves
    max_case_nesting = 100
    # a nested CASE costs ~100-200 us of planning per split; node arrays are planned in O(depth)
    table_trees = True
    tree_arrays = tables.DUCKDB_ARRAYS
    # CASE trees: a missing guard is one comparison of the negated feature (trees.py, _NEGATED)
    negated_nan_guards = True
    # names compare ignoring ASCII case: CREATE VIEW renames "a" after "A" to "a_1" (measured)
    identifier_rules = IdentifierRules(case="ascii")

    # NaN sorts above everything in DuckDB and GREATEST keeps its first argument on ties, so
    # GREATEST(a, b) is exactly numpy.maximum here, and -GREATEST(-a, -b) numpy.minimum; unlike
    # the generic CASE they mention each operand once (no NULLs reach them: inputs are NaN)
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {
        "max": lambda d, a, b: _greatest(a, b),
        "min": lambda d, a, b: ops.neg(_greatest(ops.neg(a), ops.neg(b))),
    }
    DUPLICATING_BINARY = frozenset()
    # NaN sorts above every number (+inf included) and is no member of a NaN-free list
    MISSING_COMPARES: ClassVar[dict[str, bool | None]] = {
        "le": False, "lt": False, "gt": True, "ge": True, "in": False, "notin": True
    }

    def double(self, value: float) -> exp.Expression:
        return literals.duckdb_double(value)

    def double_text(self, value: float) -> str:
        return literals.duckdb_double_text(value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return exp.IsNan(this=value)

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        # CAST raises on a non-numeric string, which is the contract's "bad row" behaviour
        return exp.Coalesce(this=self.cast_double(column), expressions=[self.nan()])

    def reject(self, message: str) -> exp.Expression:
        return exp.Anonymous(this="error", expressions=[literals.string(REJECT_PREFIX + message)])

    def round_float32(self, value: exp.Expression) -> exp.Expression:
        # CAST(x AS FLOAT) raises beyond the float32 range where IEEE rounds to +-inf, so only
        # values strictly inside the rounding bound are cast; outside, x * inf gives the signed
        # infinity (and NaN * inf stays NaN; NaN fails both range tests since NaN sorts highest)
        bound = FLOAT32_ROUNDING_BOUND
        above = ops.compare(exp.GT, _copy(value), self.double(-bound))
        in_range = ops.and_([above, ops.compare(exp.LT, _copy(value), self.double(bound))])
        rounded = self.cast_double(literals.cast(_copy(value), "FLOAT"))
        overflow = ops.mul(_copy(value), self.double(float("inf")))
        return exp.Case(ifs=[exp.If(this=in_range, true=rounded)], default=overflow)


def _sqlite_neg(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # SQLite compiles -x as 0 - x, which loses the sign of zero; x * -1.0 is an exact sign flip
    return ops.mul(x, dialect.double(-1.0))


def _sqlite_abs(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # SQLite's abs(-0.0) is -0.0; adding +0.0 turns only that case into +0.0
    return ops.add(exp.Abs(this=x), dialect.double(0.0))


def _sqlite_log(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # SQLite's ln(0) is NULL; IEEE says -inf (ln of negatives is NaN = NULL either way)
    is_zero = ops.compare(exp.EQ, _copy(x), dialect.double(0.0))
    return exp.Case(ifs=[exp.If(this=is_zero, true=dialect.double(float("-inf")))], default=exp.Ln(this=x))


def _sqlite_div(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    divisor = literals.constant_value(b)
    if divisor is not None and divisor == divisor and divisor != 0:
        return ops.div(a, b)  # a nonzero number: SQLite's division is IEEE's
    # SQLite's x/0 is NULL; IEEE: NaN for 0/0 and NaN/0, else an infinity whose sign is
    # sign(a) xor sign(b), where the sign of a zero b comes from atan2(b, -1) = +-pi
    missing = ops.or_([ops.is_null(_copy(a)), ops.is_null(_copy(b))])
    nonzero = ops.compare(exp.NEQ, _copy(b), dialect.double(0.0))
    a_is_zero = ops.compare(exp.EQ, _copy(a), dialect.double(0.0))
    a_negative = ops.compare(exp.LT, _copy(a), dialect.double(0.0))
    b_negative = ops.compare(
        exp.LT, exp.Anonymous(this="atan2", expressions=[_copy(b), dialect.double(-1.0)]), dialect.double(0.0)
    )
    same_sign = ops.compare(exp.EQ, a_negative, b_negative)
    return exp.Case(
        ifs=[
            exp.If(this=missing, true=dialect.nan()),
            exp.If(this=nonzero, true=ops.div(a, b)),
            exp.If(this=a_is_zero, true=dialect.nan()),
            exp.If(this=same_sign, true=dialect.double(float("inf"))),
        ],
        default=dialect.double(float("-inf")),
    )


def _sqlite_pow(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    # C pow(x, 0) = 1 and pow(1, y) = 1 even for NaN; SQLite's pow(NULL, 0) is NULL
    exponent = literals.constant_value(b)
    if exponent is not None and exponent == exponent and exponent != 0:
        return exp.Pow(this=a, expression=b)
    one = ops.or_(
        [ops.compare(exp.EQ, _copy(b), dialect.double(0.0)), ops.compare(exp.EQ, _copy(a), dialect.double(1.0))]
    )
    return exp.Case(ifs=[exp.If(this=one, true=dialect.double(1.0))], default=exp.Pow(this=a, expression=b))


class SQLiteDialect(SqlDialect):
    """SQLite (3.38+, with its math functions and json1): every NaN becomes NULL, so NULL is
    the NaN here; ``x/0`` and ``ln(0)`` are NULL (guarded to IEEE); no float32 type."""

    name = "sqlite"
    sqlglot_name = "sqlite"
    double_type = "REAL"
    # SQLite's LALR parser stack overflows at ~20 nested CASE/parentheses levels
    max_depth = 6
    # measured (SQLite 3.40, tests/emitters/test_sql_trees.py): 16 nested THEN levels parse as
    # an output, 15 inside a sum divided by a constant, 16/17 overflow the parser stack; 10
    # leaves ~25 stack entries for the expression around a tree (scikit-learn's depth-12
    # forests nest at most 7: the less nested side goes in each THEN)
    max_case_nesting = 10
    supports_float32 = False
    materialize_layers = True
    # names compare ignoring ASCII case: CREATE VIEW renames "a" after "A" to "a:1" (measured)
    identifier_rules = IdentifierRules(case="ascii")
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {"neg": _sqlite_neg, "abs": _sqlite_abs, "log": _sqlite_log}
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {"div": _sqlite_div, "pow": _sqlite_pow}
    DUPLICATING_UNARY = frozenset({"log", "log1p", "expm1"})
    DUPLICATING_BINARY = frozenset({"max", "min", "div", "pow"})

    def double(self, value: float) -> exp.Expression:
        return literals.sqlite_double(value)

    def double_text(self, value: float) -> str:
        return literals.sqlite_double_text(value)

    def tree_double_text(self, value: float, column: str) -> str:
        return literals.sqlite_unfactored_double_text(value, column)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return ops.is_null(value)

    def not_nan(self, value: exp.Expression) -> exp.Expression:
        return ops.is_not_null(value)

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        # SQLite would CAST 'abc' to 0.0 silently: a value that is not a number rejects the row
        numeric = ops.in_(
            exp.Anonymous(this="typeof", expressions=[_copy(column)]),
            [literals.string("real"), literals.string("integer"), literals.string("null")],
        )
        message = f"input {input_name!r} is not a number"
        return exp.Case(ifs=[exp.If(this=numeric, true=self.cast_double(column))], default=self.reject(message))

    def reject(self, message: str) -> exp.Expression:
        # No user-raise function in a SELECT: json_extract with an invalid path (it does not
        # start with '$') aborts with "JSON path error near '<path>'", and the path is the message
        return exp.Anonymous(
            this="json_extract", expressions=[literals.string("{}"), literals.string(REJECT_PREFIX + message)]
        )


_PG_EXP_MAX = 709.782712893384
"""Largest double whose ``exp`` is finite (glibc, which PostgreSQL calls); above it IEEE gives +inf."""
_PG_EXP_MIN = -745.1332191019412
"""Largest double whose ``exp`` rounds to 0.0; PostgreSQL raises "underflow" there, IEEE gives 0."""
_FLOAT32_ZERO_BOUND = 2.0**-150
"""Half the smallest float32 subnormal: doubles of at most this magnitude round to a signed zero."""


def _pg_exp_guard(dialect: SqlDialect, x: exp.Expression, inside: exp.Expression, below: float) -> exp.Expression:
    # PostgreSQL raises where exp over/underflows from a finite argument; IEEE gives +inf / 0.
    # NaN sorts above everything in PostgreSQL, so it falls to the ELSE, where NaN * inf = NaN
    # (x * inf never raises: PostgreSQL only checks products of two finite operands)
    return exp.Case(
        ifs=[
            exp.If(this=ops.compare(exp.LTE, _copy(x), dialect.double(_PG_EXP_MIN)), true=dialect.double(below)),
            exp.If(this=ops.compare(exp.LTE, _copy(x), dialect.double(_PG_EXP_MAX)), true=inside),
        ],
        default=ops.mul(_copy(x), dialect.double(float("inf"))),
    )


def _pg_exp(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    return _pg_exp_guard(dialect, x, exp.Exp(this=_copy(x)), 0.0)


def _pg_expm1(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    from emitters.sql.visitor import UNARY_BUILDERS  # the generic Kahan form; visitor imports this module

    return _pg_exp_guard(dialect, x, UNARY_BUILDERS["expm1"](dialect, _copy(x)), -1.0)


def _pg_log(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # ln(0) and ln(x < 0) raise in PostgreSQL; IEEE: -inf and NaN. NaN > 0 is TRUE here and
    # ln(NaN) is NaN, ln(inf) inf: both fine
    return exp.Case(
        ifs=[
            exp.If(this=ops.compare(exp.GT, _copy(x), dialect.double(0.0)), true=exp.Ln(this=_copy(x))),
            exp.If(this=ops.compare(exp.EQ, _copy(x), dialect.double(0.0)), true=dialect.double(float("-inf"))),
        ],
        default=dialect.nan(),
    )


def _pg_sqrt(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    # sqrt of a negative raises in PostgreSQL (NaN in IEEE); sqrt(-0.0) is -0.0 in both
    less = ops.compare(exp.LT, _copy(x), dialect.double(0.0))
    return exp.Case(ifs=[exp.If(this=less, true=dialect.nan())], default=exp.Sqrt(this=x))


def _pg_div(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    divisor = literals.constant_value(b)
    if divisor is not None and divisor == divisor and divisor != 0:
        return postgres_range.div(a, b)
    # x / 0 raises unless x is NaN; IEEE: NaN for 0/0 and NaN/0, else an infinity whose sign is
    # sign(a) xor sign(b), the sign of a zero b from atan2(b, -1) = +-pi. NaN = NaN is TRUE here
    b_nonzero = ops.not_(ops.compare(exp.EQ, _copy(b), dialect.double(0.0)))
    a_zero_or_nan = ops.or_(
        [ops.compare(exp.EQ, _copy(a), dialect.double(0.0)), dialect.is_nan(_copy(a))]
    )
    a_negative = ops.compare(exp.LT, _copy(a), dialect.double(0.0))
    b_negative = ops.compare(
        exp.LT, exp.Anonymous(this="ATAN2", expressions=[_copy(b), dialect.double(-1.0)]), dialect.double(0.0)
    )
    return exp.Case(
        ifs=[
            exp.If(this=b_nonzero, true=postgres_range.div(a, b)),
            exp.If(this=a_zero_or_nan, true=dialect.nan()),
            exp.If(this=ops.compare(exp.EQ, a_negative, b_negative), true=dialect.double(float("inf"))),
        ],
        default=dialect.double(float("-inf")),
    )


def _pg_pow(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    # PostgreSQL's POWER follows POSIX for NaN and infinities but raises for 0 ** negative
    # (C: +-inf) and negative ** non-integer (C: NaN; -inf ** y: +inf or 0)
    exponent = literals.constant_value(b)
    if exponent is not None and exponent == exponent and exponent >= 0:
        return exp.Pow(this=a, expression=b)
    b_floor = exp.Floor(this=_copy(b))
    non_integer = ops.not_(ops.compare(exp.EQ, b_floor, _copy(b)))
    half_floor = exp.Floor(this=ops.div(_copy(b), dialect.double(2.0)))
    odd = ops.and_([ops.not_(non_integer.copy()), ops.not_(ops.compare(
        exp.EQ, ops.mul(half_floor, dialect.double(2.0)), _copy(b)))])
    a_negative_zero = ops.compare(
        exp.LT, exp.Anonymous(this="ATAN2", expressions=[_copy(a), dialect.double(-1.0)]), dialect.double(0.0)
    )
    zero_negative = ops.and_(
        [ops.compare(exp.EQ, _copy(a), dialect.double(0.0)), ops.compare(exp.LT, _copy(b), dialect.double(0.0))]
    )
    minus_inf = ops.compare(exp.EQ, _copy(a), dialect.double(float("-inf")))
    b_positive = ops.compare(exp.GT, _copy(b), dialect.double(0.0))
    return exp.Case(
        ifs=[
            exp.If(
                this=zero_negative,
                true=exp.Case(
                    ifs=[exp.If(this=ops.and_([a_negative_zero, odd]), true=dialect.double(float("-inf")))],
                    default=dialect.double(float("inf")),
                ),
            ),
            exp.If(
                this=ops.and_([minus_inf, non_integer.copy()]),
                true=exp.Case(ifs=[exp.If(this=b_positive, true=dialect.double(float("inf")))],
                              default=dialect.double(0.0)),
            ),
            exp.If(
                this=ops.and_([ops.compare(exp.LT, _copy(a), dialect.double(0.0)), non_integer.copy()]),
                true=dialect.nan(),
            ),
        ],
        default=exp.Pow(this=a, expression=b),
    )


_PG_TYPES: dict[DType, str] = {STRING: "TEXT", INT: "BIGINT", BOOL: "BOOLEAN"}
"""PostgreSQL's type for each non-double IR type (float32 is kept in a double)."""


def postgres_double_text(value: float) -> str:
    """A PostgreSQL double literal: ``CAST('<repr>' AS DOUBLE PRECISION)`` (a bare ``0.1`` or
    ``1e-1`` is NUMERIC; float8in is strtod, correctly rounded, subnormals accepted).

    >>> postgres_double_text(-0.0)
    "CAST('-0.0' AS DOUBLE PRECISION)"
    """
    return f"CAST('{_postgres_double_digits(value)}' AS DOUBLE PRECISION)"


def _postgres_double_digits(value: float) -> str:
    # float8 input reads the shortest round-trip digits and the words NaN / Infinity / -Infinity:
    # exactly the runner protocol's text of a double
    return format_double(value)


class PostgresDialect(SqlDialect):
    """PostgreSQL 15: IEEE doubles whose NaN equals itself and sorts above +inf (like DuckDB),
    but exp/ln/sqrt/division/power *raise* where IEEE gives inf/0/NaN: those are guarded.
    Missing inputs (NULL) are read as NaN, the only missing value inside the query.
    Binary ``+ - * /`` are guarded exactly against PostgreSQL's "value out of range" errors
    (``postgres_range``), and so are n-ary sums, left to right (``postgres_sum``)."""

    name = "postgres"
    sqlglot_name = "postgres"
    double_type = "DOUBLE PRECISION"
    max_depth = 24
    supports_float32 = True
    max_case_nesting = 64
    # NAMEDATALEN - 1: a longer name is silently truncated (two outputs could become one)
    identifier_rules = IdentifierRules(max_length=63, unit="bytes")
    # PostgreSQL inlines a CTE used once and pulls the subquery up, substituting expressions
    # into every use: exponential on chains without MATERIALIZED
    materialize_layers = True
    UNARY_OVERRIDES: ClassVar[dict[str, UnaryBuilder]] = {
        "exp": _pg_exp, "expm1": _pg_expm1, "log": _pg_log, "sqrt": _pg_sqrt
    }
    # GREATEST keeps its first argument on ties (+-0 included) and NaN sorts highest: numpy.maximum
    # + - * / raise where IEEE under/overflows to +-0 / +-inf: exact guards in postgres_range
    BINARY_OVERRIDES: ClassVar[dict[str, BinaryBuilder]] = {
        "add": lambda d, a, b: postgres_range.add(a, b),
        "sub": lambda d, a, b: postgres_range.sub(a, b),
        "mul": lambda d, a, b: postgres_range.mul(a, b),
        "div": _pg_div,
        "pow": _pg_pow,
        "max": lambda d, a, b: _greatest(a, b),
        "min": lambda d, a, b: ops.neg(_greatest(ops.neg(a), ops.neg(b))),
    }
    DUPLICATING_UNARY = frozenset({"exp", "expm1", "log", "log1p", "sqrt"})
    DUPLICATING_BINARY = frozenset({"add", "sub", "mul", "div", "pow"})
    DUPLICATING_SUM = True
    MISSING_COMPARES: ClassVar[dict[str, bool | None]] = {
        "le": False, "lt": False, "gt": True, "ge": True, "in": False, "notin": True
    }

    def build_sum(self, terms: tuple[Node, ...], args: list[exp.Expression]) -> exp.Expression | None:
        # a partial sum overflowing to inf raises "value out of range: overflow": exact guard
        return postgres_sum.build_sum(terms, args, self.double)

    def double(self, value: float) -> exp.Expression:
        built = literals.cast(literals.string(_postgres_double_digits(value)), "DOUBLE PRECISION")
        built.meta["modelgen_constant"] = value  # literals.constant_value reads this (guards skip constants)
        return built

    def double_text(self, value: float) -> str:
        return postgres_double_text(value)

    def is_nan(self, value: exp.Expression) -> exp.Expression:
        return ops.compare(exp.EQ, value, self.nan())

    def read_double(self, column: exp.Expression, input_name: str) -> exp.Expression:
        # CAST raises on a non-numeric value, the contract's "bad row" behaviour
        return exp.Coalesce(this=self.cast_double(column), expressions=[self.nan()])

    def reject(self, message: str) -> exp.Expression:
        # no raise function in a plain SELECT: casting the message to a double raises
        # 'invalid input syntax for type double precision: "modelgen row rejected: ..."'; the
        # volatile random() keeps the cast from being folded (and raised) while planning
        text = exp.Anonymous(
            this="CONCAT",
            expressions=[
                literals.string(REJECT_PREFIX + message),
                exp.Anonymous(this="LEFT", expressions=[literals.cast(exp.Anonymous(this="RANDOM", expressions=[]),
                                                                      "TEXT"), literals.integer(0)]),
            ],
        )
        return self.cast_double(text)

    def typed_reject(self, message: str, dtype: DType) -> exp.Expression:
        # the raising cast is a DOUBLE PRECISION, and a CASE does not unify text or bigint with it:
        # cast it on to the guarded value's type (the inner cast raises before the outer one runs)
        rejected = self.reject(message)
        return rejected if dtype is DOUBLE else literals.cast(rejected, _PG_TYPES.get(dtype, self.double_type))

    def round_float32(self, value: exp.Expression) -> exp.Expression:
        # CAST(x AS REAL) raises on overflow and on underflow to zero, where IEEE gives +-inf and
        # a signed zero: tiny magnitudes become x * 0.0 (sign kept), out of range x * inf (NaN too)
        bound = FLOAT32_ROUNDING_BOUND
        tiny = ops.compare(exp.LTE, exp.Abs(this=_copy(value)), self.double(_FLOAT32_ZERO_BOUND))
        above = ops.compare(exp.GT, _copy(value), self.double(-bound))
        in_range = ops.and_([above, ops.compare(exp.LT, _copy(value), self.double(bound))])
        rounded = self.cast_double(literals.cast(_copy(value), "REAL"))
        return exp.Case(
            ifs=[
                exp.If(this=tiny, true=ops.mul(_copy(value), self.double(0.0))),
                exp.If(this=in_range, true=rounded),
            ],
            default=ops.mul(_copy(value), self.double(float("inf"))),
        )


def _generation_dialects() -> dict[str, type[SqlDialect]]:
    # generation-only dialects live in their own module, which imports this one
    from emitters.sql.generation_dialects import GENERATION_DIALECTS

    return GENERATION_DIALECTS


def _spark_dialect() -> type[SqlDialect]:
    from emitters.sql.spark_dialect import SparkDialect  # imports this module

    return SparkDialect


DIALECTS: dict[str, type[SqlDialect]] = {
    "duckdb": DuckDBDialect,
    "sqlite": SQLiteDialect,
    "postgres": PostgresDialect,
    "spark": _spark_dialect(),
    **_generation_dialects(),
}
"""Every supported dialect by its ``--dialect`` name."""

DEFAULT_DIALECT = "duckdb"


def get_dialect(name: str | None) -> SqlDialect:
    """The dialect called ``name`` (``None``: DuckDB); an unknown name is a ``ModelgenError``."""
    key = DEFAULT_DIALECT if name is None else name
    if key not in DIALECTS:
        raise ModelgenError(f"unknown SQL dialect {key!r}; known dialects: {', '.join(DIALECTS)}")
    return DIALECTS[key]()
