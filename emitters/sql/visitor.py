"""IR node -> sqlglot expression, one builder per node type (and per op), never recursive.

``build_node(node, args, dialect)`` gets the already-built expressions of the node's
children and returns the node's expression. Every bool it builds is plain TRUE/FALSE
(never NULL: SQL's three-valued logic must not leak into ``NOT``/``CASE``), every double is
the engine's IEEE value (NaN as the dialect represents it). Node types or ops without a
builder raise ``TargetCannotExpressError`` via :func:`emitters.base.cannot_express`.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

from sqlglot import exp

from emitters.base import cannot_express
from emitters.sql import literals, ops, trees
from emitters.sql.dialects import BinaryBuilder, SqlDialect, UnaryBuilder
from modelgen.ir import (
    BOOL,
    DOUBLE,
    FLOAT32,
    INT,
    STRING,
    And,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    IsIn,
    IsMissing,
    Lookup,
    Node,
    Not,
    Or,
    Sum,
    TreeLeaf,
    Unary,
)

TARGET = "sql"
NodeBuilder = Callable[[Node, list[exp.Expression], SqlDialect], exp.Expression]


def _copy(expression: exp.Expression) -> exp.Expression:
    return expression.copy()


def _may_be_nan_literal(expression: exp.Expression) -> bool:
    value = literals.constant_value(expression)
    return value is None or value != value


def _nan_propagating(op: str) -> BinaryBuilder:
    pick_a = exp.GTE if op == "max" else exp.LTE

    def build(dialect: SqlDialect, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        nan_tests = [dialect.is_nan(_copy(x)) for x in (a, b) if _may_be_nan_literal(x)]
        ifs = [exp.If(this=ops.or_(nan_tests), true=dialect.nan())] if nan_tests else []
        ifs.append(exp.If(this=ops.compare(pick_a, _copy(a), _copy(b)), true=a))
        return exp.Case(ifs=ifs, default=b)

    return build


def _dialect_unary(dialect: SqlDialect, op: str, x: exp.Expression) -> exp.Expression:
    builder = dialect.UNARY_OVERRIDES.get(op) or UNARY_BUILDERS[op]
    return builder(dialect, x)


def _log1p(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    """``log1p`` by Kahan's trick ``x * (ln(u) / (u - 1))`` with ``u = 1 + x``.

    No engine here has log1p and ``ln(1 + x)`` loses everything for small x; this form is
    within a few ULP of glibc's log1p (measured: ``LOG1P_EXPM1_ULP`` in modelgen/budget.py).
    """
    one = dialect.double(1.0)
    u = ops.add(dialect.double(1.0), _copy(x))
    ratio = ops.div(_dialect_unary(dialect, "log", u), ops.sub(u.copy(), one.copy()))
    ifs = [exp.If(this=ops.compare(exp.EQ, u.copy(), one.copy()), true=_copy(x))]
    if not dialect.rewrite_infinities:  # else no value is infinite (emitters/sql/infinities.py)
        ifs.append(exp.If(this=ops.compare(exp.EQ, _copy(x), dialect.double(float("inf"))), true=_copy(x)))
    return exp.Case(ifs=ifs, default=ops.mul(_copy(x), ratio))


def _expm1(dialect: SqlDialect, x: exp.Expression) -> exp.Expression:
    """``expm1`` by Kahan's trick ``(u - 1) * (x / ln(u))`` with ``u = exp(x)`` (see ``_log1p``)."""
    one = dialect.double(1.0)
    u = exp.Exp(this=_copy(x))
    u_minus_1 = ops.sub(u, one)
    ifs = [
        exp.If(this=ops.compare(exp.EQ, u.copy(), one.copy()), true=_copy(x)),
        exp.If(this=ops.compare(exp.EQ, u_minus_1.copy(), dialect.double(-1.0)), true=dialect.double(-1.0)),
    ]
    if not dialect.rewrite_infinities:  # else no value is infinite (emitters/sql/infinities.py)
        ifs.append(exp.If(this=ops.compare(exp.EQ, u.copy(), dialect.double(float("inf"))), true=u.copy()))
    return exp.Case(
        ifs=ifs,
        default=ops.mul(u_minus_1.copy(), ops.div(_copy(x), _dialect_unary(dialect, "log", u.copy()))),
    )


UNARY_BUILDERS: dict[str, UnaryBuilder] = {
    "neg": lambda d, x: ops.neg(x),
    "abs": lambda d, x: exp.Abs(this=x),
    "exp": lambda d, x: exp.Exp(this=x),
    "log": lambda d, x: exp.Ln(this=x),
    "log1p": _log1p,
    "expm1": _expm1,
    "sqrt": lambda d, x: exp.Sqrt(this=x),
    "floor": lambda d, x: exp.Floor(this=x),
}
"""IEEE unary ops where the engine's function already is IEEE (dialects override the rest).
``log1p``/``expm1`` exist in no engine here: they are built from ``ln``/``exp`` within a
measured, documented ULP budget."""

BINARY_BUILDERS: dict[str, BinaryBuilder] = {
    "add": lambda d, a, b: ops.add(a, b),
    "sub": lambda d, a, b: ops.sub(a, b),
    "mul": lambda d, a, b: ops.mul(a, b),
    "div": lambda d, a, b: ops.div(a, b),
    "pow": lambda d, a, b: exp.Pow(this=a, expression=b),
    "max": _nan_propagating("max"),
    "min": _nan_propagating("min"),
}

COMPARE_BUILDERS: dict[str, type[exp.Binary]] = {
    "lt": exp.LT,
    "le": exp.LTE,
    "gt": exp.GT,
    "ge": exp.GTE,
    "eq": exp.EQ,
    "ne": exp.NEQ,
}


def _float_result(node: Node, value: exp.Expression, dialect: SqlDialect) -> exp.Expression:
    # a float32 node is a double holding a float32 value: round every result once
    return dialect.round_float32(value) if node.dtype is FLOAT32 else value


def _unary(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(Unary, node)  # NODE_BUILDERS dispatches on the exact type
    builder = dialect.UNARY_OVERRIDES.get(node.op) or UNARY_BUILDERS.get(node.op)
    if builder is None:
        raise cannot_express(TARGET, node, f"no exact {node.op} in {dialect.name}")
    return _float_result(node, builder(dialect, args[0]), dialect)


def _binary(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(Binary, node)  # NODE_BUILDERS dispatches on the exact type
    builder = dialect.BINARY_OVERRIDES.get(node.op) or BINARY_BUILDERS.get(node.op)
    if builder is None:
        raise cannot_express(TARGET, node, f"no exact {node.op} in {dialect.name}")
    return _float_result(node, builder(dialect, args[0], args[1]), dialect)


def _sum(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    if node.dtype is DOUBLE:
        guarded = dialect.build_sum(typing.cast(Sum, node).terms, args)
        if guarded is not None:
            return guarded
    # a left-nested tree prints as `a + b + c`, which SQL parses back left-associatively
    total = args[0]
    for term in args[1:]:
        total = _float_result(node, ops.add(total, term), dialect)
    return total


def _may_be_nan(node: Node) -> bool:
    return not (isinstance(node, Const) and node.value == node.value)


def _compare(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(Compare, node)  # NODE_BUILDERS dispatches on the exact type
    a, b = args
    if node.a.dtype is STRING:
        # a missing string equals only a missing string (the interpreter's None == None)
        if node.op == "eq":
            return ops.compare(exp.NullSafeEQ, a, b)
        return ops.compare(exp.NullSafeNEQ, a, b)
    compared = ops.compare(COMPARE_BUILDERS[node.op], a, b)
    if node.a.dtype is INT:
        return compared
    nan_operands = [(child, arg) for child, arg in ((node.a, a), (node.b, b)) if _may_be_nan(child)]
    if node.op == "ne":
        # IEEE: NaN != anything is true; the NaN tests come first so a NULL never reaches <>
        return ops.or_([dialect.is_nan(_copy(arg)) for _, arg in nan_operands] + [compared])
    return ops.and_([dialect.not_nan(_copy(arg)) for _, arg in nan_operands] + [compared])


def _and(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    return ops.and_(args)


def _or(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    return ops.or_(args)


def _not(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    return ops.not_(args[0])


def _is_missing(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(IsMissing, node)  # NODE_BUILDERS dispatches on the exact type
    if node.x.dtype is STRING:
        return ops.is_null(args[0])
    return dialect.is_nan(args[0])


def _literal(value: object, dtype: object, dialect: SqlDialect) -> exp.Expression:
    if dtype is DOUBLE or dtype is FLOAT32:
        return dialect.double(float(value))  # type: ignore[arg-type]
    if dtype is STRING:
        return literals.string(value)  # type: ignore[arg-type]
    if dtype is INT:
        return literals.integer(value)  # type: ignore[arg-type]
    return literals.boolean(bool(value))


def _is_in(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(IsIn, node)  # NODE_BUILDERS dispatches on the exact type
    x = args[0]
    member = ops.in_(x, [_literal(v, node.x.dtype, dialect) for v in node.values])
    if node.x.dtype is INT:
        return member
    present = ops.is_not_null(_copy(x)) if node.x.dtype is STRING else dialect.not_nan(_copy(x))
    return ops.and_([present, member])


def _if_else(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(IfElse, node)  # NODE_BUILDERS dispatches on the exact type
    return case_when(_when_condition(node.cond, args[0]), args[1], args[2])


def _when_condition(cond: Node, built: exp.Expression) -> exp.Expression:
    # a WHEN takes NULL as not true, so there a string membership needs no `NOT x IS NULL AND`
    # (a one-hot CASE per category: one comparison fewer per row and arm)
    if isinstance(cond, IsIn) and cond.x.dtype is STRING and isinstance(built, exp.And):
        member = built.expression
        if isinstance(member, exp.In):
            return member.copy()
    return built


def case_when(cond: exp.Expression, then: exp.Expression, otherwise: exp.Expression) -> exp.Case:
    """``CASE WHEN cond THEN then ELSE otherwise END``, merging an ELSE that is itself a
    searched CASE into one flat CASE (keeps else-if chains from nesting)."""
    if isinstance(otherwise, exp.Case) and otherwise.args.get("this") is None:
        ifs = [exp.If(this=cond, true=then), *otherwise.args.get("ifs", [])]
        return exp.Case(ifs=ifs, default=otherwise.args.get("default"))
    return exp.Case(ifs=[exp.If(this=cond, true=then)], default=otherwise)


def _argmax(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    # numpy.argmax: the first NaN wins; otherwise term i wins when it is greater than every
    # earlier term and not less than every later one (the first maximal term)
    ifs = [exp.If(this=dialect.is_nan(_copy(arg)), true=literals.integer(i)) for i, arg in enumerate(args)]
    last = len(args) - 1
    for i in range(last):
        tests = [ops.compare(exp.GT, _copy(args[i]), _copy(args[j])) for j in range(i)]
        tests += [ops.compare(exp.GTE, _copy(args[i]), _copy(args[j])) for j in range(i + 1, len(args))]
        ifs.append(exp.If(this=ops.and_(tests), true=literals.integer(i)))
    return exp.Case(ifs=ifs, default=literals.integer(last))


def _lookup(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(Lookup, node)  # NODE_BUILDERS dispatches on the exact type
    if len(node.values) == 1:
        return _literal(node.values[0], node.value_dtype, dialect)
    # an inline tree routing: its CASE yields the values directly (one CASE, not two)
    folded = trees.fold_values(
        args[0], node.values, node.value_dtype, dialect, lambda v: _literal(v, node.value_dtype, dialect)
    )
    if folded is not None:
        return folded
    values = [_literal(v, node.value_dtype, dialect) for v in node.values]
    ifs = [exp.If(this=literals.integer(i), true=v) for i, v in enumerate(values[:-1])]
    return exp.Case(this=args[0], ifs=ifs, default=values[-1])


def _cast(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(Cast, node)  # NODE_BUILDERS dispatches on the exact type
    source, x = node.x.dtype, args[0]
    if node.to is FLOAT32:
        return dialect.round_float32(x)
    if source is FLOAT32:
        return x  # a float32 value is already held exactly in a double
    if source is INT:
        return dialect.cast_double(x)
    if source is BOOL and node.to is DOUBLE:
        return exp.Case(ifs=[exp.If(this=x, true=dialect.double(1.0))], default=dialect.double(0.0))
    if source is BOOL and node.to is INT:
        return exp.Case(ifs=[exp.If(this=x, true=literals.integer(1))], default=literals.integer(0))
    raise cannot_express(TARGET, node, "no such cast")


def _tree_leaf(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    return trees.tree_case(typing.cast(TreeLeaf, node), args, dialect)


def _const(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    node = typing.cast(Const, node)  # NODE_BUILDERS dispatches on the exact type
    return _literal(node.value, node.dtype, dialect)


NODE_BUILDERS: dict[type[Node], NodeBuilder] = {
    Const: _const,
    Unary: _unary,
    Binary: _binary,
    Sum: _sum,
    Compare: _compare,
    And: _and,
    Or: _or,
    Not: _not,
    IsMissing: _is_missing,
    IsIn: _is_in,
    IfElse: _if_else,
    ArgMax: _argmax,
    Lookup: _lookup,
    Cast: _cast,
    TreeLeaf: _tree_leaf,
}
"""Every node type except ``Input`` (a column of the input layer, resolved by the query builder)."""


def build_node(node: Node, args: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    """The expression of ``node`` over its children's expressions ``args`` (in ``children`` order)."""
    if node.dtype is FLOAT32 and not dialect.supports_float32:
        raise cannot_express(TARGET, node, f"{dialect.name} has no float32 arithmetic")
    builder = NODE_BUILDERS.get(type(node))
    if builder is None:
        raise cannot_express(TARGET, node)
    return builder(node, args, dialect)


def child_copies(node: Node, dialect: SqlDialect) -> int:
    """How many times ``node``'s SQL mentions a child (1: once). Above 1, a large child must be
    a column: inlining it would copy its expression, exponentially along a chain."""
    if isinstance(node, ArgMax):
        return 2 * len(node.terms)
    if isinstance(node, TreeLeaf):
        return 2 * len(node.splits)  # every path mentions its features, some twice (missing guard)
    if isinstance(node, (Compare, IsIn)):
        return 1 if node.children[0].dtype in (STRING, INT) else 2
    if node.dtype is FLOAT32 and isinstance(node, (Unary, Binary, Sum, Cast)):
        return 4
    if isinstance(node, Unary) and node.op in dialect.DUPLICATING_UNARY:
        return 3
    if isinstance(node, Binary) and node.op in dialect.DUPLICATING_BINARY:
        return 4
    if isinstance(node, Sum) and dialect.DUPLICATING_SUM:
        return 4
    return 1
