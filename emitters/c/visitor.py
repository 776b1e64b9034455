"""IR node -> C expression text, one node at a time (``schedule.render`` drives the walk).

Every fragment is atomic or fully parenthesised. float32 nodes compute in double and cast
the result to ``float`` at every step, so each float32 result is rounded exactly once per
IR node, as ``modelgen.ir.evaluate`` does, whatever the platform's FLT_EVAL_METHOD.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from emitters.base import cannot_express
from emitters.c.literals import format_double, format_float32, format_int, string_literal
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
    DType,
    IfElse,
    Input,
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
from modelgen.ir.nodes import value_key

TARGET = "c"

C_TYPES: dict[DType, str] = {
    DOUBLE: "double",
    FLOAT32: "float",
    INT: "long long",
    BOOL: "int",
    STRING: "const char *",
}
"""The C type holding each IR dtype."""

UNARY_TEMPLATES: dict[str, str] = {
    "neg": "(-{x})",
    "abs": "fabs({x})",
    "exp": "exp({x})",
    "log": "log({x})",
    "log1p": "log1p({x})",
    "expm1": "expm1({x})",
    "sqrt": "sqrt({x})",
    "floor": "floor({x})",
}
"""Unary op -> C on a double argument (C99 libm gives the IR's IEEE results: log(0) = -inf, ...)."""

BINARY_TEMPLATES: dict[str, str] = {
    "add": "({a} + {b})",
    "sub": "({a} - {b})",
    "mul": "({a} * {b})",
    "div": "({a} / {b})",
    "max": "mg_max({a}, {b})",
    "min": "mg_min({a}, {b})",
    "pow": "pow({a}, {b})",
}
"""Binary op -> C on double operands."""

COMPARE_TEMPLATES: dict[str, str] = {
    "lt": "({a} < {b})",
    "le": "({a} <= {b})",
    "gt": "({a} > {b})",
    "ge": "({a} >= {b})",
    "eq": "({a} == {b})",
    "ne": "({a} != {b})",
}
"""Comparison -> C on numbers (IEEE: any NaN operand is false, except ``!=``)."""

STRING_COMPARE_TEMPLATES: dict[str, str] = {"eq": "mg_streq({a}, {b})", "ne": "(!mg_streq({a}, {b}))"}
"""String comparison -> C (NULL-aware)."""

_HELPER_CALL_PREFIX = "mg_"


def _as_double(text: str) -> str:
    return f"((double){text})"


def _to_float(text: str) -> str:
    return f"((float){text})"


def format_const(value: Any, dtype: DType) -> str:
    """A C literal of ``dtype`` (the one dispatch over literal kinds)."""
    if dtype is DOUBLE:
        return format_double(value)
    if dtype is FLOAT32:
        return format_float32(value)
    if dtype is INT:
        return format_int(value)
    if dtype is BOOL:
        return "1" if value else "0"
    return string_literal(value, "string constant")


_TABLE_ELEMENT_TYPES: dict[DType, str] = {
    DOUBLE: "const double",
    FLOAT32: "const float",
    INT: "const long long",
    STRING: "const char *const",
}


class ExpressionPrinter:
    """Renders nodes to C; collects the support functions and constant tables they need.

    ``input_fields`` maps model input names to struct member names. State is per emit call.
    """

    def __init__(self, input_fields: Mapping[str, str]) -> None:
        self.input_fields = dict(input_fields)
        # set by the emitter when the model has trees (emitters.c.trees.TreeCode.leaf_text)
        self.tree_leaf: Callable[[TreeLeaf, list[str]], str] | None = None
        # stand-in nodes and their C text (walk mode: a sum computed while routing, read as acc[j])
        self.placeholders: Mapping[Node, str] = {}
        self.helpers: list[str] = []
        self.tables: list[str] = []
        self._table_names: dict[tuple[Any, ...], str] = {}
        self.rendered_nodes = 0

    def use(self, helper: str) -> None:
        """Record that the generated code calls the support function ``helper``."""
        if helper not in self.helpers:
            self.helpers.append(helper)

    def _use_template(self, template: str) -> None:
        if template.startswith(_HELPER_CALL_PREFIX):
            self.use(template.split("(", 1)[0])
        elif template.startswith("(!" + _HELPER_CALL_PREFIX):
            self.use(template[2:].split("(", 1)[0])

    def table(self, values: tuple[Any, ...], dtype: DType) -> str:
        """The name of a file-scope constant array holding ``values`` (shared when equal)."""
        if dtype is DOUBLE:
            # one pack for the whole table: bits tell 0.0 from -0.0 (leaf tables have thousands of values)
            key: tuple[Any, ...] = (dtype.value, struct.pack(f"<{len(values)}d", *values))
        else:
            key = (dtype.value, *(value_key(v, dtype) for v in values))
        name = self._table_names.get(key)
        if name is None:
            name = f"mg_table{len(self._table_names)}"
            self._table_names[key] = name
            items = ", ".join(format_const(v, dtype) for v in values)
            self.tables.append(f"static {_TABLE_ELEMENT_TYPES[dtype]} {name}[{len(values)}] = {{{items}}};")
        return name

    def render_node(self, node: Node, args: list[str]) -> str:
        """C text of ``node`` over the already rendered ``args`` (its children, in order)."""
        self.rendered_nodes += 1
        placeholder = self.placeholders.get(node)
        if placeholder is not None:
            return placeholder
        renderer = _RENDERERS.get(type(node))
        if renderer is None:
            raise cannot_express(TARGET, node, "no C rendering for this node type")
        return renderer(self, node, args)


def _input(p: ExpressionPrinter, node: Input, args: list[str]) -> str:
    return f"in->{p.input_fields[node.name]}"


def _const(p: ExpressionPrinter, node: Const, args: list[str]) -> str:
    return format_const(node.value, node.dtype)


def _unary(p: ExpressionPrinter, node: Unary, args: list[str]) -> str:
    template = UNARY_TEMPLATES[node.op]
    p._use_template(template)
    if node.dtype is FLOAT32:
        return _to_float(template.format(x=_as_double(args[0])))
    return template.format(x=args[0])


def _binary(p: ExpressionPrinter, node: Binary, args: list[str]) -> str:
    template = BINARY_TEMPLATES[node.op]
    p._use_template(template)
    if node.dtype is FLOAT32:
        return _to_float(template.format(a=_as_double(args[0]), b=_as_double(args[1])))
    return template.format(a=args[0], b=args[1])


def _compare(p: ExpressionPrinter, node: Compare, args: list[str]) -> str:
    template = STRING_COMPARE_TEMPLATES[node.op] if node.a.dtype is STRING else COMPARE_TEMPLATES[node.op]
    p._use_template(template)
    return template.format(a=args[0], b=args[1])


def _and(p: ExpressionPrinter, node: And, args: list[str]) -> str:
    return args[0] if len(args) == 1 else "(" + " && ".join(args) + ")"


def _or(p: ExpressionPrinter, node: Or, args: list[str]) -> str:
    return args[0] if len(args) == 1 else "(" + " || ".join(args) + ")"


def _not(p: ExpressionPrinter, node: Not, args: list[str]) -> str:
    return f"(!{args[0]})"


def _is_missing(p: ExpressionPrinter, node: IsMissing, args: list[str]) -> str:
    if node.x.dtype is STRING:
        return f"({args[0]} == NULL)"
    return f"isnan({args[0]})"


_ISIN_HELPERS: dict[DType, str] = {
    DOUBLE: "mg_isin_double",
    FLOAT32: "mg_isin_float",
    INT: "mg_isin_int",
    STRING: "mg_isin_string",
}


def _is_in(p: ExpressionPrinter, node: IsIn, args: list[str]) -> str:
    helper = _ISIN_HELPERS[node.x.dtype]
    p.use(helper)
    return f"{helper}({args[0]}, {p.table(node.values, node.x.dtype)}, {len(node.values)})"


def _if_else(p: ExpressionPrinter, node: IfElse, args: list[str]) -> str:
    return f"({args[0]} ? {args[1]} : {args[2]})"


def _sum(p: ExpressionPrinter, node: Sum, args: list[str]) -> str:
    if node.dtype is FLOAT32:
        # round to float32 after every addition, exactly like the IR's left fold
        text = args[0]
        for term in args[1:]:
            text = _to_float(f"({_as_double(text)} + {_as_double(term)})")
        return text
    # C's + is left-associative: "a + b + c" *is* ((a + b) + c), without a nesting depth of n
    return "(" + " + ".join(args) + ")"


def _arg_max(p: ExpressionPrinter, node: ArgMax, args: list[str]) -> str:
    p.use("mg_argmax")
    # widening float32 -> double is exact and keeps NaN and order, so one helper serves both
    return f"mg_argmax((const double[]){{{', '.join(args)}}}, {len(args)})"


def _lookup(p: ExpressionPrinter, node: Lookup, args: list[str]) -> str:
    return f"{p.table(node.values, node.value_dtype)}[{args[0]}]"


def _tree_leaf(p: ExpressionPrinter, node: TreeLeaf, args: list[str]) -> str:
    if p.tree_leaf is None:
        raise cannot_express(TARGET, node, "no tree plan was given to the printer")
    return p.tree_leaf(node, args)


def _cast(p: ExpressionPrinter, node: Cast, args: list[str]) -> str:
    source = node.x.dtype
    if source is BOOL:
        return f"({args[0]} ? 1.0 : 0.0)" if node.to is DOUBLE else f"({args[0]} ? 1LL : 0LL)"
    if node.to is FLOAT32:
        return _to_float(args[0])  # IEEE conversion: nearest-even, overflow to +-inf, NaN stays NaN
    return _as_double(args[0])  # float32 and int (|i| <= 2**53) -> double are exact


_RENDERERS: dict[type[Node], Callable[[ExpressionPrinter, Any, list[str]], str]] = {
    Input: _input,
    Const: _const,
    Unary: _unary,
    Binary: _binary,
    Compare: _compare,
    And: _and,
    Or: _or,
    Not: _not,
    IsMissing: _is_missing,
    IsIn: _is_in,
    IfElse: _if_else,
    Sum: _sum,
    ArgMax: _arg_max,
    Lookup: _lookup,
    Cast: _cast,
    TreeLeaf: _tree_leaf,
}
"""Node type -> renderer; a type missing here gets ``cannot_express``."""
