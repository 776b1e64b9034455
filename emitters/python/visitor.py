"""IR node -> Python expression text, through dispatch tables; one ``render_node`` per module.

Operator expressions come back wrapped in parentheses so a parent can splice them in
anywhere; ``strip_parens`` drops the outer pair where a whole statement is one expression.
Helpers (``_div``, ``_f32``, ...) are recorded in ``PythonVisitor.used`` as they are needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emitters.base import cannot_express
from emitters.python.literals import const_literal, tuple_literal
from emitters.python.trees import POOLED_LOOKUP_SIZE, TreeCode
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

TARGET = "python"

# (template, helper it calls or None); {x} is the argument's text. A template without a
# helper call is a bare operator expression: the visitor parenthesises it (or rounds it).
UNARY_TEMPLATES: dict[str, tuple[str, str | None]] = {
    "neg": ("-{x}", None),
    "abs": ("abs({x})", None),
    "exp": ("_exp({x})", "_exp"),
    "log": ("_log({x})", "_log"),
    "log1p": ("_log1p({x})", "_log1p"),
    "expm1": ("_expm1({x})", "_expm1"),
    "sqrt": ("_sqrt({x})", "_sqrt"),
    "floor": ("_floor({x})", "_floor"),
}

BINARY_TEMPLATES: dict[str, tuple[str, str | None]] = {
    "add": ("{a} + {b}", None),
    "sub": ("{a} - {b}", None),
    "mul": ("{a} * {b}", None),
    "div": ("_div({a}, {b})", "_div"),
    "max": ("_max({a}, {b})", "_max"),
    "min": ("_min({a}, {b})", "_min"),
    "pow": ("_pow({a}, {b})", "_pow"),
}

COMPARE_TEMPLATES: dict[str, str] = {
    "lt": "({a} < {b})",
    "le": "({a} <= {b})",
    "gt": "({a} > {b})",
    "ge": "({a} >= {b})",
    "eq": "({a} == {b})",
    "ne": "({a} != {b})",
}

# ops printed as a bare Python operator (no helper call): wrapped in parentheses
OPERATOR_OPS = frozenset({"neg", "add", "sub", "mul"})

LONG_SUM_TERMS = 32
"""A double sum with more terms is printed as a call of the left-fold helper ``_sum``."""

# ops whose exact result is already a float32 when the operands are: no rounding needed
FLOAT32_EXACT_OPS = frozenset({"neg", "abs", "floor", "max", "min"})


def strip_parens(text: str, node: Node) -> str:
    """``text`` (``node`` rendered, not a reference to its variable) without ``render_node``'s outer parentheses."""
    return text[1:-1] if wraps_in_parens(node) else text


def wraps_in_parens(node: Node) -> bool:
    """Whether ``render_node`` wraps ``node``'s text in one pair of parentheses."""
    if isinstance(node, (Compare, And, Or, Not, IfElse, IsIn)):
        return True
    if isinstance(node, IsMissing):
        return node.x.dtype is STRING
    if isinstance(node, Sum):
        return node.dtype is DOUBLE and len(node.terms) <= LONG_SUM_TERMS
    if isinstance(node, (Unary, Binary)):
        # float32 operators come back as _f32(...), except the exact neg
        return node.op in OPERATOR_OPS and (node.dtype is DOUBLE or node.op in FLOAT32_EXACT_OPS)
    return False


class PythonVisitor:
    """Renders nodes to Python expressions; ``input_names`` maps each ``Input`` to its local."""

    def __init__(self, input_names: dict[str, str], trees: TreeCode | None = None) -> None:
        self.input_names = input_names
        self.trees = trees if trees is not None else TreeCode(())
        self.used: set[str] = set()
        self.imports: set[str] = set()
        self._table: dict[type[Node], Callable[[Any, list[str]], str]] = {
            Input: self._input,
            Const: self._const,
            Unary: self._unary,
            Binary: self._binary,
            Compare: self._compare,
            And: self._and,
            Or: self._or,
            Not: self._not,
            IsMissing: self._is_missing,
            IsIn: self._is_in,
            IfElse: self._if_else,
            Sum: self._sum,
            ArgMax: self._argmax,
            Lookup: self._lookup,
            Cast: self._cast,
            TreeLeaf: self._tree_leaf,
        }

    def render_node(self, node: Node, children: list[str]) -> str:
        """The text of ``node`` given the texts of its children (for ``schedule.render``)."""
        handler = self._table.get(type(node))
        if handler is None:
            raise cannot_express(TARGET, node, "no Python rendering for this node type")
        return handler(node, children)

    def _use(self, helper: str | None) -> None:
        if helper is not None:
            self.used.add(helper)

    def _arithmetic(self, node: Unary | Binary, text: str, helper: str | None) -> str:
        self._use(helper)
        if node.dtype is FLOAT32 and node.op not in FLOAT32_EXACT_OPS:
            # float32 arithmetic is done in double and rounded once, as evaluate.to_float32 does
            self._use("_f32")
            return f"_f32({text})"
        return f"({text})" if node.op in OPERATOR_OPS else text

    def _input(self, node: Input, children: list[str]) -> str:
        return self.input_names[node.name]

    def _const(self, node: Const, children: list[str]) -> str:
        return const_literal(node.value, node.dtype)

    def _unary(self, node: Unary, children: list[str]) -> str:
        template, helper = UNARY_TEMPLATES[node.op]
        x = children[0]
        if node.op == "neg" and x.startswith("-"):
            x = f" {x}"  # "- -1.5" reads better than "--1.5"
        return self._arithmetic(node, template.format(x=x), helper)

    def _binary(self, node: Binary, children: list[str]) -> str:
        template, helper = BINARY_TEMPLATES[node.op]
        return self._arithmetic(node, template.format(a=children[0], b=children[1]), helper)

    def _compare(self, node: Compare, children: list[str]) -> str:
        return COMPARE_TEMPLATES[node.op].format(a=children[0], b=children[1])

    def _and(self, node: And, children: list[str]) -> str:
        return "(" + " and ".join(children) + ")" if len(children) > 1 else f"({children[0]})"

    def _or(self, node: Or, children: list[str]) -> str:
        return "(" + " or ".join(children) + ")" if len(children) > 1 else f"({children[0]})"

    def _not(self, node: Not, children: list[str]) -> str:
        return f"(not {children[0]})"

    def _is_missing(self, node: IsMissing, children: list[str]) -> str:
        if node.x.dtype is STRING:
            return f"({children[0]} is None)"
        self.imports.add("math")
        return f"math.isnan({children[0]})"

    def _is_in(self, node: IsIn, children: list[str]) -> str:
        # a missing value (NaN / None) equals no member, so plain membership is the semantics
        if len(node.values) == 1:
            return f"({children[0]} == {const_literal(node.values[0], node.x.dtype)})"
        return f"({children[0]} in {tuple_literal(node.values, node.x.dtype)})"

    def _if_else(self, node: IfElse, children: list[str]) -> str:
        cond, then, otherwise = children
        return f"({then} if {cond} else {otherwise})"

    def _sum(self, node: Sum, children: list[str]) -> str:
        if node.dtype is FLOAT32:
            self._use("_f32_sum")
            return "_f32_sum(" + ", ".join(children) + ")"
        if len(children) > LONG_SUM_TERMS:
            # a long a + b + ... is one nested BinOp per term for CPython's compiler: fold in a loop
            self._use("_sum")
            return "_sum(" + ", ".join(children) + ")"
        # Python's + is left-associative: a + b + c is exactly ((a + b) + c)
        return "(" + " + ".join(children) + ")"

    def _argmax(self, node: ArgMax, children: list[str]) -> str:
        self._use("_argmax")
        return "_argmax(" + ", ".join(children) + ")"

    def _lookup(self, node: Lookup, children: list[str]) -> str:
        big = len(node.values) >= POOLED_LOOKUP_SIZE
        pooled = big or (isinstance(node.index, TreeLeaf) and not self.trees.if_mode)
        if node.value_dtype in (DOUBLE, FLOAT32) and pooled:
            offset = self.trees.leaf_offset(node.values)
            return f"_LEAF_VALUES[{offset} + {children[0]}]" if offset else f"_LEAF_VALUES[{children[0]}]"
        return f"{tuple_literal(node.values, node.value_dtype)}[{children[0]}]"

    def _tree_leaf(self, node: TreeLeaf, children: list[str]) -> str:
        if not node.splits:
            return "0"
        # emitter.py binds every routed tree and shares one feature tuple between trees; inline,
        # the tuple is built here
        return self.trees.call(node, "(" + ", ".join(children) + ",)")

    def _cast(self, node: Cast, children: list[str]) -> str:
        source, x = node.x.dtype, children[0]
        if node.to is FLOAT32:
            self._use("_f32")
            return f"_f32({x})"
        if node.to is DOUBLE and source is FLOAT32:
            return x
        if node.to is DOUBLE and source in (INT, BOOL):
            return f"float({x})"
        if node.to is INT and source is BOOL:
            return f"int({x})"
        raise cannot_express(TARGET, node, f"no cast from {source.value} to {node.to.value}")
