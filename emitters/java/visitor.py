"""IR node -> Java expression text, through dispatch tables; every node not handled raises.

Numerics (how each IR op maps onto Java, and why):

- ``+ - * /`` on ``double`` and ``float`` are single IEEE-754 operations in Java (never fused;
  strict by definition since Java 17, and identical on every SSE2 HotSpot before it). ``float``
  arithmetic rounds every step to binary32, which equals the IR's "compute in double, round to
  float32" for + - * / sqrt (double has more than 2p+2 bits, so that double rounding is innocuous).
- ``max``/``min``: ``Math.max`` treats -0.0 < 0.0, the IR does not (``a >= b ? a : b``), so a
  helper spells the IR rule out, NaN first.
- ``pow``: ``Math.pow(1, NaN)`` and ``Math.pow(+-1, +-inf)`` are NaN in Java but 1 in C (the IR's
  reference); a helper returns 1 there and calls ``Math.pow`` otherwise.
- ``floor``: ``Math.floor`` is IEEE floor (exact; ``floor(-0.0)`` is -0.0, like the IR).
- ``exp log log1p expm1 pow``: neither ``Math`` nor ``StrictMath`` is glibc. Measured against
  CPython ``math`` (glibc 2.36, x86-64) on 300,000 inputs per function with
  ``emitters/java/numerics/measure.py`` (JDK 17.0.15, after JIT warm-up):

  ======== ===================== ===================== =======
  function Math mismatch rate    StrictMath mismatch   max ULP
  ======== ===================== ===================== =======
  exp      0.260 % (780)         9.517 % (28,552)      1
  log      0.034 % (101)         2.513 % (7,538)       1
  log1p    0.019 % (57)          0.019 % (57)          1
  expm1    0.084 % (252)         0.084 % (252)         1
  pow      0.105 % (316)         9.759 % (29,276)      1
  sqrt     0 %                   0 %                   0
  ======== ===================== ===================== =======

  So ``Math.*`` is used for all of them, and Java outputs that depend on exp/log/log1p/expm1/pow
  carry a budget of ``TRANSCENDENTAL_ULP_BUDGET`` ULP against the reference; everything else
  (sqrt included: correctly rounded in both) is bit-exact.
"""

from __future__ import annotations

from collections.abc import Callable

from emitters.base import cannot_express
from emitters.java.literals import double_literal, float_literal, long_literal, string_literal
from emitters.java.trees import TreePool
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

TARGET = "java"

POOLED_LOOKUP_SIZE = 64
"""A double/float32 ``Lookup`` this long, or indexed by a tree's leaf, lives in the packed
``LEAF_VALUES`` table (trees.py) instead of an array initialiser, which costs ``<clinit>``
bytecode and constant-pool entries per element."""

TRANSCENDENTAL_OPS: frozenset[str] = frozenset({"exp", "log", "log1p", "expm1", "pow"})
"""IR ops whose Java result may differ from the glibc reference (see the table above)."""

TRANSCENDENTAL_ULP_BUDGET = 1
"""The largest distance measured for any of ``TRANSCENDENTAL_OPS``, in ULP."""

UNARY_TEMPLATES: dict[tuple[str, DType], str] = {
    ("neg", DOUBLE): "(-{x})",
    ("abs", DOUBLE): "Math.abs({x})",
    ("exp", DOUBLE): "Math.exp({x})",
    ("log", DOUBLE): "Math.log({x})",
    ("log1p", DOUBLE): "Math.log1p({x})",
    ("expm1", DOUBLE): "Math.expm1({x})",
    ("sqrt", DOUBLE): "Math.sqrt({x})",
    ("floor", DOUBLE): "Math.floor({x})",
    ("neg", FLOAT32): "(-{x})",
    ("abs", FLOAT32): "Math.abs({x})",
    ("exp", FLOAT32): "((float) Math.exp({x}))",
    ("log", FLOAT32): "((float) Math.log({x}))",
    ("log1p", FLOAT32): "((float) Math.log1p({x}))",
    ("expm1", FLOAT32): "((float) Math.expm1({x}))",
    ("sqrt", FLOAT32): "((float) Math.sqrt({x}))",
    ("floor", FLOAT32): "((float) Math.floor({x}))",
}

BINARY_TEMPLATES: dict[tuple[str, DType], str] = {
    ("add", DOUBLE): "({a} + {b})",
    ("sub", DOUBLE): "({a} - {b})",
    ("mul", DOUBLE): "({a} * {b})",
    ("div", DOUBLE): "({a} / {b})",
    ("max", DOUBLE): "maxD({a}, {b})",
    ("min", DOUBLE): "minD({a}, {b})",
    ("pow", DOUBLE): "powC({a}, {b})",
    ("add", FLOAT32): "({a} + {b})",
    ("sub", FLOAT32): "({a} - {b})",
    ("mul", FLOAT32): "({a} * {b})",
    ("div", FLOAT32): "({a} / {b})",
    ("max", FLOAT32): "maxF({a}, {b})",
    ("min", FLOAT32): "minF({a}, {b})",
    ("pow", FLOAT32): "((float) powC({a}, {b}))",
}

BINARY_HELPERS: dict[tuple[str, DType], str] = {
    ("max", DOUBLE): "maxD",
    ("min", DOUBLE): "minD",
    ("pow", DOUBLE): "powC",
    ("max", FLOAT32): "maxF",
    ("min", FLOAT32): "minF",
    ("pow", FLOAT32): "powC",
}
"""The helper method each binary template calls, if any."""

COMPARE_SYMBOLS: dict[str, str] = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}

CAST_TEMPLATES: dict[tuple[DType, DType], str] = {
    (DOUBLE, FLOAT32): "((float) {x})",
    (FLOAT32, DOUBLE): "((double) {x})",
    (INT, DOUBLE): "((double) {x})",
    (BOOL, DOUBLE): "({x} ? 1.0 : 0.0)",
    (BOOL, INT): "({x} ? 1L : 0L)",
}

IS_MISSING_TEMPLATES: dict[DType, str] = {
    DOUBLE: "Double.isNaN({x})",
    FLOAT32: "Float.isNaN({x})",
    STRING: "({x} == null)",
}

JAVA_TYPES: dict[DType, str] = {DOUBLE: "double", FLOAT32: "float", INT: "long", BOOL: "boolean", STRING: "String"}

HELPERS: dict[str, str] = {
    "maxD": """    /** IR max: NaN if either is NaN, else (a >= b ? a : b); unlike Math.max, -0.0 ties 0.0. */
    private static double maxD(double a, double b) {
        return (Double.isNaN(a) || Double.isNaN(b)) ? Double.NaN : (a >= b ? a : b);
    }""",
    "minD": """    /** IR min: NaN if either is NaN, else (a <= b ? a : b); unlike Math.min, -0.0 ties 0.0. */
    private static double minD(double a, double b) {
        return (Double.isNaN(a) || Double.isNaN(b)) ? Double.NaN : (a <= b ? a : b);
    }""",
    "maxF": """    /** IR max on float32 (see maxD). */
    private static float maxF(float a, float b) {
        return (Float.isNaN(a) || Float.isNaN(b)) ? Float.NaN : (a >= b ? a : b);
    }""",
    "minF": """    /** IR min on float32 (see minD). */
    private static float minF(float a, float b) {
        return (Float.isNaN(a) || Float.isNaN(b)) ? Float.NaN : (a <= b ? a : b);
    }""",
    "powC": """    /** C pow(): Math.pow is NaN for pow(1, NaN) and pow(+-1, +-inf), C returns 1. */
    private static double powC(double a, double b) {
        if (a == 1.0 || (a == -1.0 && Double.isInfinite(b))) {
            return 1.0;
        }
        return Math.pow(a, b);
    }""",
    "argmaxD": """    /** Index of the first maximal value; the first NaN counts as the maximum (numpy.argmax). */
    private static long argmaxD(double... v) {
        int best = 0;
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(v[i])) {
                return i;
            }
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }""",
    "argmaxF": """    /** argmaxD on float32. */
    private static long argmaxF(float... v) {
        int best = 0;
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i])) {
                return i;
            }
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }""",
    "isInD": """    /** True when x equals a member (a NaN x never does; -0.0 equals 0.0). */
    private static boolean isInD(double x, double[] members) {
        for (double m : members) {
            if (x == m) {
                return true;
            }
        }
        return false;
    }""",
    "isInF": """    /** isInD on float32. */
    private static boolean isInF(float x, float[] members) {
        for (float m : members) {
            if (x == m) {
                return true;
            }
        }
        return false;
    }""",
    "isInL": """    /** True when x equals a member. */
    private static boolean isInL(long x, long[] members) {
        for (long m : members) {
            if (x == m) {
                return true;
            }
        }
        return false;
    }""",
    "isInS": """    /** True when x is present (not null) and equals a member. */
    private static boolean isInS(String x, String[] members) {
        for (String m : members) {
            if (m.equals(x)) {
                return true;
            }
        }
        return false;
    }""",
}
"""Generated helper methods, emitted only when used, always in this order."""

_IS_IN_HELPER = {DOUBLE: "isInD", FLOAT32: "isInF", INT: "isInL", STRING: "isInS"}
_ARGMAX_HELPER = {DOUBLE: "argmaxD", FLOAT32: "argmaxF"}


def literal(value: object, dtype: DType) -> str:
    """The Java literal of an IR constant of ``dtype``."""
    if dtype is DOUBLE:
        return double_literal(value)  # type: ignore[arg-type]
    if dtype is FLOAT32:
        return float_literal(value)  # type: ignore[arg-type]
    if dtype is INT:
        return long_literal(value)  # type: ignore[arg-type]
    if dtype is BOOL:
        return "true" if value else "false"
    if dtype is STRING:
        return string_literal(value)  # type: ignore[arg-type]
    raise cannot_express(TARGET, Const(value, dtype), "unknown constant type")  # type: ignore[arg-type]


class JavaExpressions:
    """Renders nodes for one emitted class, collecting the helpers and constant tables it needs.

    One instance per ``emit`` call (it accumulates state, in deterministic first-use order).
    """

    def __init__(self, input_fields: dict[str, str], feature_slots: dict[Node, int] | None = None) -> None:
        self.input_fields = input_fields
        self.pool = TreePool(dict(feature_slots or {}))
        self.placeholders: dict[str, str] = {}
        """Input names that stand for values the walk computed (walk.py), and their Java texts."""
        self.walked_leaves: dict[Node, int] = {}
        """Trees the walk routed: their leaf number is ``wl[k]``."""
        self.helpers_used: set[str] = set()
        self.tables: dict[tuple[str, tuple[str, ...]], str] = {}
        self._handlers: dict[type[Node], Callable[[Node, list[str]], str]] = {
            Input: self._input,
            Const: self._const,
            Unary: self._unary,
            Binary: self._binary,
            Compare: self._compare,
            And: lambda node, c: c[0] if len(c) == 1 else "(" + " && ".join(c) + ")",
            Or: lambda node, c: c[0] if len(c) == 1 else "(" + " || ".join(c) + ")",
            Not: lambda node, c: f"(!{c[0]})",
            IsMissing: lambda node, c: IS_MISSING_TEMPLATES[node.x.dtype].format(x=c[0]),  # type: ignore[attr-defined]
            IsIn: self._is_in,
            IfElse: lambda node, c: f"({c[0]} ? {c[1]} : {c[2]})",
            Sum: lambda node, c: "(" + " + ".join(c) + ")",  # Java's + is left-associative: the IR's fold
            ArgMax: self._argmax,
            Lookup: self._lookup,
            Cast: self._cast,
            TreeLeaf: self._tree_leaf,
        }

    def render_node(self, node: Node, children: list[str]) -> str:
        """Java text of ``node`` given the texts of its children (composite results are parenthesised)."""
        handler = self._handlers.get(type(node))
        if handler is None:
            raise cannot_express(TARGET, node, "no Java rendering for this node type")
        return handler(node, children)

    def helper_sources(self) -> list[str]:
        """Source of every helper used so far, in ``HELPERS`` order."""
        return [source for name, source in HELPERS.items() if name in self.helpers_used]

    def table_declarations(self) -> list[str]:
        """``private static final`` declarations of the constant tables, in first-use order."""
        return [
            f"    private static final {java_type}[] {name} = {{{', '.join(values)}}};"
            for (java_type, values), name in self.tables.items()
        ]

    def _use(self, helper: str) -> str:
        self.helpers_used.add(helper)
        return helper

    def _table(self, values: tuple[object, ...], dtype: DType) -> str:
        key = (JAVA_TYPES[dtype], tuple(literal(v, dtype) for v in values))
        if key not in self.tables:
            self.tables[key] = f"TABLE_{len(self.tables)}"
        return self.tables[key]

    def _input(self, node: Node, children: list[str]) -> str:
        placeholder = self.placeholders.get(node.name)  # type: ignore[attr-defined]
        if placeholder is not None:
            return placeholder
        return f"in.{self.input_fields[node.name]}"  # type: ignore[attr-defined]

    def _const(self, node: Node, children: list[str]) -> str:
        return literal(node.value, node.dtype)  # type: ignore[attr-defined]

    def _unary(self, node: Node, children: list[str]) -> str:
        template = UNARY_TEMPLATES.get((node.op, node.dtype))  # type: ignore[attr-defined]
        if template is None:
            raise cannot_express(TARGET, node)
        return template.format(x=children[0])

    def _binary(self, node: Node, children: list[str]) -> str:
        template = BINARY_TEMPLATES.get((node.op, node.dtype))  # type: ignore[attr-defined]
        if template is None:
            raise cannot_express(TARGET, node)
        helper = BINARY_HELPERS.get((node.op, node.dtype))  # type: ignore[attr-defined]
        if helper is not None:
            self._use(helper)
        return template.format(a=children[0], b=children[1])

    def _compare(self, node: Node, children: list[str]) -> str:
        a, b = children
        if node.a.dtype is STRING:  # type: ignore[attr-defined]
            equal = f"java.util.Objects.equals({a}, {b})"
            return equal if node.op == "eq" else f"(!{equal})"  # type: ignore[attr-defined]
        return f"({a} {COMPARE_SYMBOLS[node.op]} {b})"  # type: ignore[attr-defined]

    def _is_in(self, node: Node, children: list[str]) -> str:
        x = children[0]
        dtype = node.x.dtype  # type: ignore[attr-defined]
        values = node.values  # type: ignore[attr-defined]
        if len(values) == 1:
            member = literal(values[0], dtype)
            return f"{member}.equals({x})" if dtype is STRING else f"({x} == {member})"
        return f"{self._use(_IS_IN_HELPER[dtype])}({x}, {self._table(values, dtype)})"

    def _argmax(self, node: Node, children: list[str]) -> str:
        return f"{self._use(_ARGMAX_HELPER[node.terms[0].dtype])}({', '.join(children)})"  # type: ignore[attr-defined]

    def _lookup(self, node: Node, children: list[str]) -> str:
        values, dtype = node.values, node.value_dtype  # type: ignore[attr-defined]
        pooled = isinstance(node.index, TreeLeaf) or len(values) >= POOLED_LOOKUP_SIZE  # type: ignore[attr-defined]
        if dtype in (DOUBLE, FLOAT32) and pooled:
            offset = self.pool.leaf_offset(values)
            index = f"{offset} + (int) {children[0]}" if offset else f"(int) {children[0]}"
            # float32 values are stored as doubles (exact), narrowing back is exact too
            return f"LEAF_VALUES[{index}]" if dtype is DOUBLE else f"((float) LEAF_VALUES[{index}])"
        return f"{self._table(values, dtype)}[(int) {children[0]}]"

    def _tree_leaf(self, node: Node, children: list[str]) -> str:
        if not node.splits:  # type: ignore[attr-defined]
            return "0L"
        slot = self.walked_leaves.get(node)
        if slot is not None:
            return f"((long) wl[{slot}])"
        # the features were stored in fx / fs by the statements before this one (emitter.py)
        return f"route({self.pool.add_tree(node)}, fx, fs)"  # type: ignore[arg-type]

    def _cast(self, node: Node, children: list[str]) -> str:
        template = CAST_TEMPLATES.get((node.x.dtype, node.to))  # type: ignore[attr-defined]
        if template is None:
            raise cannot_express(TARGET, node)
        return template.format(x=children[0])
