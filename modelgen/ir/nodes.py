"""The IR's expression nodes: immutable, typed, validated when built, hash-consed.

Every node is *interned*: building a node equal to one that already exists returns the
existing object. So identical subtrees are shared automatically, equality is identity
(``is``) and the hash is the object's identity; the interning key holds the children
themselves, so building a node costs O(arity).

Semantics are IEEE-754 and written for every node below; an emitter must reproduce them
exactly (guarding where its language differs, e.g. Python raising on ``1/0``).
Expressions are pure and total: no node raises, so an emitter may evaluate a shared
subexpression once, eagerly. Row-level rejections live in ``Model.checks``.

Example::

    >>> from modelgen.ir import Input, Const, Binary, DOUBLE
    >>> x = Input("age", DOUBLE)
    >>> Binary("div", Binary("sub", x, Const(40.0)), Const(12.5)) is \\
    ...     Binary("div", Binary("sub", x, Const(40.0)), Const(12.5))
    True
"""

from __future__ import annotations

import math
import struct
import weakref
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from modelgen.errors import IRValidationError
from modelgen.ir.types import BOOL, DOUBLE, FLOAT32, INT, STRING, DType

ConstValue = float | int | bool | str

_INTERNED: weakref.WeakValueDictionary[tuple[Any, ...], Node] = weakref.WeakValueDictionary()


def value_key(value: ConstValue, dtype: DType) -> tuple[Any, ...]:
    """A key that tells constants apart by bits: 0.0 and -0.0 differ, NaN equals NaN."""
    if dtype is DOUBLE or dtype is FLOAT32:
        return (dtype.value, struct.pack("<d", value))
    return (dtype.value, type(value).__name__, value)


def check_const(value: object, dtype: DType, where: str) -> ConstValue:
    """Validate that ``value`` is exactly representable as ``dtype``; return it canonically."""
    if dtype is DOUBLE:
        if isinstance(value, bool) or not isinstance(value, (float, int)):
            raise IRValidationError(f"{where}: double constant must be a float, got {value!r}")
        if isinstance(value, int) and float(value) != value:
            raise IRValidationError(f"{where}: integer {value} is not exactly a double")
        return float(value)
    if dtype is FLOAT32:
        if isinstance(value, bool) or not isinstance(value, (float, int)):
            raise IRValidationError(f"{where}: float32 constant must be a float, got {value!r}")
        as_double = float(value)
        if math.isfinite(as_double):
            try:
                rounded = struct.unpack("<f", struct.pack("<f", as_double))[0]
            except OverflowError:
                rounded = math.nan
            if rounded != as_double:
                raise IRValidationError(f"{where}: {as_double!r} is not exactly a float32")
        return as_double
    if dtype is INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise IRValidationError(f"{where}: int constant must be an int, got {value!r}")
        if not -(2**63) <= value < 2**63:
            raise IRValidationError(f"{where}: int constant {value} does not fit 64 bits")
        return value
    if dtype is BOOL:
        if not isinstance(value, bool):
            raise IRValidationError(f"{where}: bool constant must be a bool, got {value!r}")
        return value
    if dtype is STRING:
        if not isinstance(value, str):
            raise IRValidationError(f"{where}: string constant must be a str, got {value!r}")
        return value
    raise IRValidationError(f"{where}: unknown dtype {dtype!r}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise IRValidationError(message)


def _expect_node(value: object, where: str) -> Node:
    if not isinstance(value, Node):
        raise IRValidationError(f"{where}: expected an IR node, got {type(value).__name__}")
    return value


class Node:
    """Base of all expression nodes. Subclasses declare ``_fields`` and ``_validate``.

    ``_validate(cls, *args)`` checks and canonicalises the constructor arguments, and
    returns ``(args, dtype)``. Children are the ``Node`` values among the fields, or the
    items of a tuple-of-nodes field, in field order.
    """

    __slots__ = ("__weakref__", "_children", "_key", "dtype")
    _fields: ClassVar[tuple[str, ...]] = ()
    _child_fields: ClassVar[tuple[str, ...]] = ()
    dtype: DType

    def __new__(cls, *args: Any) -> Node:
        if len(args) != len(cls._fields):
            raise IRValidationError(
                f"{cls.__name__} takes {len(cls._fields)} arguments ({', '.join(cls._fields)}), got {len(args)}"
            )
        canonical, dtype = cls._validate(*args)
        key = (cls.__name__, dtype.value, *(cls._key_part(name, v) for name, v in zip(cls._fields, canonical)))
        existing = _INTERNED.get(key)
        if existing is not None:
            return existing
        node = object.__new__(cls)
        for name, arg in zip(cls._fields, canonical):
            object.__setattr__(node, name, arg)
        object.__setattr__(node, "dtype", dtype)
        object.__setattr__(node, "_children", node._collect_children())
        object.__setattr__(node, "_key", key)
        _INTERNED[key] = node
        return node

    @classmethod
    def _key_part(cls, name: str, value: Any) -> Any:
        return value

    @classmethod
    def _validate(cls, *args: Any) -> tuple[tuple[Any, ...], DType]:
        raise NotImplementedError

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"IR nodes are immutable ({type(self).__name__}.{name})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"IR nodes are immutable ({type(self).__name__}.{name})")

    # Equality is identity and the hash is object's own (both C-level, so dicts and sets of nodes
    # stay fast): interning makes equal nodes the same object.

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(getattr(self, f) for f in self._fields))

    @property
    def children(self) -> tuple[Node, ...]:
        """Child nodes in evaluation order (computed once, when the node is built: walks ask often)."""
        return self._children

    def _collect_children(self) -> tuple[Node, ...]:
        fields = self._child_fields
        if len(fields) == 1:
            only = getattr(self, fields[0])
            return only if isinstance(only, tuple) else (only,)
        out: list[Node] = []
        for name in fields:
            value = getattr(self, name)
            if isinstance(value, tuple):
                out.extend(value)
            else:
                out.append(value)
        return tuple(out)

    def with_children(self, children: Iterable[Node]) -> Node:
        """The same node over new children (given in ``children`` order)."""
        new_children = list(children)
        args: list[Any] = []
        position = 0
        for name in self._fields:
            value = getattr(self, name)
            if name not in self._child_fields:
                args.append(value)
            elif isinstance(value, tuple):
                args.append(tuple(new_children[position : position + len(value)]))
                position += len(value)
            else:
                args.append(new_children[position])
                position += 1
        if position != len(new_children):
            raise IRValidationError(f"{type(self).__name__}.with_children: expected {position} children")
        return type(self)(*args)

    def __repr__(self) -> str:
        parts = []
        for name in self._fields:
            value = getattr(self, name)
            if name in self._child_fields:
                if isinstance(value, tuple):
                    parts.append(f"{name}=<{len(value)} nodes>")
                else:
                    parts.append(f"{name}=<{type(value).__name__}>")
            else:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)}): {self.dtype.value}"


class Input(Node):
    """The value of a model input field (numeric inputs are double, NaN = missing)."""

    __slots__ = ("input_dtype", "name")
    _fields = ("name", "input_dtype")
    name: str
    input_dtype: DType

    @classmethod
    def _validate(cls, name: Any, dtype: Any) -> tuple[tuple[Any, ...], DType]:
        _require(isinstance(name, str) and name != "", f"Input: name must be a non-empty str, got {name!r}")
        _require(dtype in (DOUBLE, STRING), f"Input {name!r}: inputs are double or string, got {dtype!r}")
        return (name, dtype), dtype


class Const(Node):
    """A literal; doubles compare by bits (``Const(0.0)`` is not ``Const(-0.0)``)."""

    __slots__ = ("const_dtype", "value")
    _fields = ("value", "const_dtype")
    value: ConstValue
    const_dtype: DType

    def __new__(cls, value: ConstValue, dtype: DType | None = None) -> Const:  # type: ignore[misc]
        if dtype is None:
            dtype = {bool: BOOL, int: INT, float: DOUBLE, str: STRING}.get(type(value), DOUBLE)
        return super().__new__(cls, value, dtype)  # type: ignore[return-value]

    @classmethod
    def _key_part(cls, name: str, value: Any) -> Any:
        return value_key(value, DOUBLE) if isinstance(value, float) else (type(value).__name__, value)

    @classmethod
    def _validate(cls, value: Any, dtype: Any) -> tuple[tuple[Any, ...], DType]:
        _require(isinstance(dtype, DType), f"Const: dtype must be a DType, got {dtype!r}")
        return (check_const(value, dtype, "Const"), dtype), dtype


UNARY_OPS: dict[str, str] = {
    "neg": "-x (sign flip, exact)",
    "abs": "|x|",
    "exp": "e**x, libm-exact reference (glibc exp); overflow -> +inf, underflow -> 0",
    "log": "natural log; log(0) = -inf, log(x<0) = NaN",
    "log1p": "log(1+x); log1p(-1) = -inf, below -1 NaN",
    "expm1": "exp(x)-1 computed directly; overflow -> +inf",
    "sqrt": "square root (correctly rounded); sqrt(x<0) = NaN",
    "floor": "largest integral value <= x",
}


class Unary(Node):
    """A one-argument float function from ``UNARY_OPS``; result has the argument's dtype."""

    __slots__ = ("op", "x")
    _fields = ("op", "x")
    _child_fields = ("x",)
    op: str
    x: Node

    @classmethod
    def _validate(cls, op: Any, x: Any) -> tuple[tuple[Any, ...], DType]:
        _require(op in UNARY_OPS, f"Unary: unknown op {op!r} (known: {', '.join(UNARY_OPS)})")
        x = _expect_node(x, f"Unary {op}")
        _require(x.dtype.is_float, f"Unary {op}: argument must be double or float32, got {x.dtype.value}")
        return (op, x), x.dtype


BINARY_OPS: dict[str, str] = {
    "add": "a + b",
    "sub": "a - b",
    "mul": "a * b",
    "div": "a / b (IEEE: x/0 = +-inf, 0/0 = NaN)",
    "max": "NaN-propagating maximum, numpy.maximum: NaN if either is NaN, else (a if a >= b else b)",
    "min": "NaN-propagating minimum, numpy.minimum: NaN if either is NaN, else (a if a <= b else b)",
    "pow": "a ** b, C pow() semantics",
}


class Binary(Node):
    """IEEE arithmetic on two operands of the same float dtype, rounded once."""

    __slots__ = ("a", "b", "op")
    _fields = ("op", "a", "b")
    _child_fields = ("a", "b")
    op: str
    a: Node
    b: Node

    @classmethod
    def _validate(cls, op: Any, a: Any, b: Any) -> tuple[tuple[Any, ...], DType]:
        _require(op in BINARY_OPS, f"Binary: unknown op {op!r} (known: {', '.join(BINARY_OPS)})")
        a = _expect_node(a, f"Binary {op}")
        b = _expect_node(b, f"Binary {op}")
        _require(a.dtype.is_float, f"Binary {op}: operands must be double or float32, got {a.dtype.value}")
        _require(a.dtype is b.dtype, f"Binary {op}: operand dtypes differ ({a.dtype.value} vs {b.dtype.value})")
        return (op, a, b), a.dtype


COMPARE_OPS: dict[str, str] = {
    "lt": "a < b",
    "le": "a <= b",
    "gt": "a > b",
    "ge": "a >= b",
    "eq": "a == b",
    "ne": "a != b",
}


class Compare(Node):
    """IEEE comparison (any NaN operand: false, except ``ne``: true); strings compare by code points."""

    __slots__ = ("a", "b", "op")
    _fields = ("op", "a", "b")
    _child_fields = ("a", "b")
    op: str
    a: Node
    b: Node

    @classmethod
    def _validate(cls, op: Any, a: Any, b: Any) -> tuple[tuple[Any, ...], DType]:
        _require(op in COMPARE_OPS, f"Compare: unknown op {op!r} (known: {', '.join(COMPARE_OPS)})")
        a = _expect_node(a, f"Compare {op}")
        b = _expect_node(b, f"Compare {op}")
        _require(a.dtype is b.dtype, f"Compare {op}: operand dtypes differ ({a.dtype.value} vs {b.dtype.value})")
        _require(a.dtype is not BOOL, f"Compare {op}: cannot compare bools")
        if a.dtype is STRING:
            _require(op in ("eq", "ne"), f"Compare {op}: strings only support eq/ne")
        return (op, a, b), BOOL


def _bool_terms(name: str, terms: Any) -> tuple[Node, ...]:
    _require(isinstance(terms, tuple), f"{name}: terms must be a tuple")
    _require(len(terms) >= 1, f"{name}: needs at least one term")
    for term in terms:
        _expect_node(term, name)
        _require(term.dtype is BOOL, f"{name}: terms must be bool, got {term.dtype.value}")
    return terms


class And(Node):
    """Conjunction of one or more bools."""

    __slots__ = ("terms",)
    _fields = ("terms",)
    _child_fields = ("terms",)
    terms: tuple[Node, ...]

    @classmethod
    def _validate(cls, terms: Any) -> tuple[tuple[Any, ...], DType]:
        return (_bool_terms("And", tuple(terms)),), BOOL


class Or(Node):
    """Disjunction of one or more bools."""

    __slots__ = ("terms",)
    _fields = ("terms",)
    _child_fields = ("terms",)
    terms: tuple[Node, ...]

    @classmethod
    def _validate(cls, terms: Any) -> tuple[tuple[Any, ...], DType]:
        return (_bool_terms("Or", tuple(terms)),), BOOL


class Not(Node):
    """Negation of a bool."""

    __slots__ = ("x",)
    _fields = ("x",)
    _child_fields = ("x",)
    x: Node

    @classmethod
    def _validate(cls, x: Any) -> tuple[tuple[Any, ...], DType]:
        x = _expect_node(x, "Not")
        _require(x.dtype is BOOL, f"Not: argument must be bool, got {x.dtype.value}")
        return (x,), BOOL


class IsMissing(Node):
    """True when a double is NaN (or a float32 is NaN) or a string is missing (None/NULL)."""

    __slots__ = ("x",)
    _fields = ("x",)
    _child_fields = ("x",)
    x: Node

    @classmethod
    def _validate(cls, x: Any) -> tuple[tuple[Any, ...], DType]:
        x = _expect_node(x, "IsMissing")
        _require(
            x.dtype in (DOUBLE, FLOAT32, STRING), f"IsMissing: needs double, float32 or string, got {x.dtype.value}"
        )
        return (x,), BOOL


class IsIn(Node):
    """True when ``x`` is not missing and equals one of ``values`` (set membership, categorical splits)."""

    __slots__ = ("values", "x")
    _fields = ("x", "values")
    _child_fields = ("x",)
    x: Node
    values: tuple[ConstValue, ...]

    @classmethod
    def _key_part(cls, name: str, value: Any) -> Any:
        if name == "values":
            return tuple(value_key(v, DOUBLE) if isinstance(v, float) else v for v in value)
        return value

    @classmethod
    def _validate(cls, x: Any, values: Any) -> tuple[tuple[Any, ...], DType]:
        x = _expect_node(x, "IsIn")
        _require(x.dtype in (DOUBLE, FLOAT32, STRING, INT), f"IsIn: cannot test membership of {x.dtype.value}")
        values = tuple(check_const(v, x.dtype, "IsIn") for v in values)
        _require(len(values) >= 1, "IsIn: needs at least one value")
        keys = [value_key(v, x.dtype) for v in values]
        _require(len(set(keys)) == len(keys), "IsIn: values must be distinct")
        if x.dtype.is_float:
            _require(not any(math.isnan(v) for v in values), "IsIn: NaN is never a member (use IsMissing)")  # type: ignore[arg-type]
        return (x, values), BOOL


class IfElse(Node):
    """``then`` if ``cond`` else ``otherwise``; both branches have the same dtype."""

    __slots__ = ("cond", "otherwise", "then")
    _fields = ("cond", "then", "otherwise")
    _child_fields = ("cond", "then", "otherwise")
    cond: Node
    then: Node
    otherwise: Node

    @classmethod
    def _validate(cls, cond: Any, then: Any, otherwise: Any) -> tuple[tuple[Any, ...], DType]:
        cond = _expect_node(cond, "IfElse")
        then = _expect_node(then, "IfElse")
        otherwise = _expect_node(otherwise, "IfElse")
        _require(cond.dtype is BOOL, f"IfElse: condition must be bool, got {cond.dtype.value}")
        _require(
            then.dtype is otherwise.dtype,
            f"IfElse: branch dtypes differ ({then.dtype.value} vs {otherwise.dtype.value})",
        )
        return (cond, then, otherwise), then.dtype


class Sum(Node):
    """Left-to-right sum ``((t0 + t1) + t2) + ...``: the order is the semantics, never reassociate."""

    __slots__ = ("terms",)
    _fields = ("terms",)
    _child_fields = ("terms",)
    terms: tuple[Node, ...]

    @classmethod
    def _validate(cls, terms: Any) -> tuple[tuple[Any, ...], DType]:
        terms = tuple(terms)
        _require(len(terms) >= 2, "Sum: needs at least two terms (use the term itself)")
        for term in terms:
            _expect_node(term, "Sum")
        dtype = terms[0].dtype
        _require(dtype.is_float, f"Sum: terms must be double or float32, got {dtype.value}")
        _require(all(t.dtype is dtype for t in terms), "Sum: all terms must have the same dtype")
        return (terms,), dtype


class ArgMax(Node):
    """Index (int) of the first maximal term, numpy.argmax: the first NaN counts as the maximum."""

    __slots__ = ("terms",)
    _fields = ("terms",)
    _child_fields = ("terms",)
    terms: tuple[Node, ...]

    @classmethod
    def _validate(cls, terms: Any) -> tuple[tuple[Any, ...], DType]:
        terms = tuple(terms)
        _require(len(terms) >= 2, "ArgMax: needs at least two terms")
        for term in terms:
            _expect_node(term, "ArgMax")
        dtype = terms[0].dtype
        _require(dtype.is_float, f"ArgMax: terms must be double or float32, got {dtype.value}")
        _require(all(t.dtype is dtype for t in terms), "ArgMax: all terms must have the same dtype")
        return (terms,), INT


_FLOAT_ONLY = {float}


def _all_floats(values: tuple[Any, ...]) -> bool:
    """Every item is exactly a ``float`` (checked at C speed: leaf tables are long)."""
    return {*map(type, values)} == _FLOAT_ONLY


class Lookup(Node):
    """``values[index]`` for an int index known to be in range (class labels, leaf tables)."""

    __slots__ = ("index", "value_dtype", "values")
    _fields = ("index", "values", "value_dtype")
    _child_fields = ("index",)
    index: Node
    values: tuple[ConstValue, ...]
    value_dtype: DType

    @classmethod
    def _key_part(cls, name: str, value: Any) -> Any:
        if name == "values":
            if _all_floats(value):
                # leaf tables are long: one bytes object of the exact bits keys them
                return struct.pack(f"<{len(value)}d", *value)
            return tuple(value_key(v, DOUBLE) if isinstance(v, float) else v for v in value)
        return value

    @classmethod
    def _validate(cls, index: Any, values: Any, dtype: Any) -> tuple[tuple[Any, ...], DType]:
        index = _expect_node(index, "Lookup")
        if index.dtype is not INT:
            raise IRValidationError(f"Lookup: index must be int, got {index.dtype.value}")
        _require(isinstance(dtype, DType) and dtype is not BOOL, "Lookup: bad value dtype")
        values = tuple(values)
        if not (dtype is DOUBLE and _all_floats(values)):
            values = tuple(check_const(v, dtype, "Lookup") for v in values)
        _require(len(values) >= 1, "Lookup: needs at least one value")
        return (index, values, dtype), dtype


_CASTS: frozenset[tuple[DType, DType]] = frozenset(
    {
        (DOUBLE, FLOAT32),  # round to nearest even
        (FLOAT32, DOUBLE),  # exact
        (INT, DOUBLE),  # exact for |i| <= 2**53
        (BOOL, DOUBLE),  # 1.0 / 0.0
        (BOOL, INT),  # 1 / 0
    }
)


class Cast(Node):
    """Convert between dtypes: double->float32 rounds to nearest-even, NaN stays NaN."""

    __slots__ = ("to", "x")
    _fields = ("x", "to")
    _child_fields = ("x",)
    x: Node
    to: DType

    @classmethod
    def _validate(cls, x: Any, to: Any) -> tuple[tuple[Any, ...], DType]:
        x = _expect_node(x, "Cast")
        _require(isinstance(to, DType), f"Cast: target must be a DType, got {to!r}")
        _require((x.dtype, to) in _CASTS, f"Cast: no cast from {x.dtype.value} to {to.value}")
        return (x, to), to


SPLIT_TESTS: dict[str, str] = {
    "le": "left when x <= operand (a double, +-inf allowed)",
    "lt": "left when x < operand",
    "in": "left when x is one of operand (a tuple of constants of x's dtype)",
    "notin": "left when x is none of operand",
}
"""How a split sends a non-missing value left; a missing value (NaN / None) follows ``missing_left``."""


class Split(NamedTuple):
    """One internal node of a decision tree.

    ``left``/``right`` name the next split by its index (>= 0) or a leaf as ``-1 - leaf``.
    """

    feature: int
    test: str
    operand: float | tuple[ConstValue, ...]
    missing_left: bool
    left: int
    right: int


def leaf_ref(leaf: int) -> int:
    """The child reference of leaf number ``leaf`` (``-1 - leaf``)."""
    return -1 - leaf


def _set_problem(split: Split, dtype: DType) -> str | None:
    if split.test not in ("in", "notin"):
        return f"unknown split test {split.test!r}"
    if not isinstance(split.operand, tuple) or not split.operand:
        return "empty category set"
    for value in split.operand:
        check_const(value, dtype, "TreeLeaf category")
    return None


_THRESHOLD_TESTS = frozenset(("le", "lt"))


def _check_tree(features: tuple[Node, ...], splits: tuple[Split, ...]) -> None:
    """Validate the tree's shape and split operands (it then has ``len(splits) + 1`` leaves).

    Written for speed (a 1,000-tree forest has a million splits): whole columns are checked
    with C-level builtins, one Python loop walks the shape, and error messages are only built
    once something failed.
    """
    if not splits:
        return
    n_splits = len(splits)
    feature, test, operand, missing_left, left, right = zip(*splits)
    if min(feature) < 0 or max(feature) >= len(features):
        bad = min(feature) if min(feature) < 0 else max(feature)
        raise IRValidationError(f"TreeLeaf: split feature {bad} out of range")
    if {*map(type, missing_left)} != {bool}:
        raise IRValidationError("TreeLeaf: missing_left must be a bool")
    tests = {*test}
    if tests <= _THRESHOLD_TESTS:
        # the common case, every split a threshold test: the operands and features as columns
        if {*map(type, operand)} != {float} or any(map(math.isnan, operand)):
            bad = next(t for t in operand if type(t) is not float or t != t)
            raise IRValidationError(f"TreeLeaf: threshold must be a non-NaN float, got {bad!r}")
        float_feature = [f.dtype.is_float for f in features]
        if not all(float_feature[f] for f in {*feature}):
            bad_test = next(s.test for s in splits if not float_feature[s.feature])
            raise IRValidationError(f"TreeLeaf: a {bad_test!r} split needs a double or float32 feature")
    else:
        for split in splits:
            _check_split_operand(split, features)
    _check_shape(n_splits, left, right)


def _check_split_operand(split: Split, features: tuple[Node, ...]) -> None:
    test = split.test
    if test == "le" or test == "lt":
        if not features[split.feature].dtype.is_float:
            raise IRValidationError(f"TreeLeaf: a {test!r} split needs a double or float32 feature")
        operand = split.operand
        if type(operand) is not float or operand != operand:
            raise IRValidationError(f"TreeLeaf: threshold must be a non-NaN float, got {operand!r}")
        return
    problem = _set_problem(split, features[split.feature].dtype)
    if problem is not None:
        raise IRValidationError(f"TreeLeaf: {problem}")


def _check_shape(n_splits: int, left: tuple[int, ...], right: tuple[int, ...]) -> None:
    """Every split but the root is the child of exactly one split, reachable from the root; the
    leaf references name leaves 0..n_splits, each once (a binary tree of n splits has n + 1 leaves)."""
    children = left + right
    if {*map(type, children)} != {int}:
        raise IRValidationError("TreeLeaf: children must be ints")
    kids = np.array(children, dtype=np.int64)
    if int(kids.max()) >= n_splits:
        raise IRValidationError(f"TreeLeaf: child {int(kids.max())} out of range")
    # sorted, the references are exactly the leaves -(n+1)..-1, then the splits 1..n-1
    expected = np.concatenate((np.arange(-1 - n_splits, 0), np.arange(1, n_splits)))
    if not np.array_equal(np.sort(kids), expected):
        _explain_shape(n_splits, children)
    # one parent each still allows a cycle detached from the root. Children numbered after their
    # parent (scikit-learn's node order, and preorder) cannot form one; anything else is walked.
    parent = np.arange(n_splits)
    kid_left, kid_right = kids[:n_splits], kids[n_splits:]
    if bool(np.all((kid_left < 0) | (kid_left > parent)) and np.all((kid_right < 0) | (kid_right > parent))):
        return
    reached = 0
    stack = [0]
    while stack:
        index = stack.pop()
        reached += 1
        if left[index] >= 0:
            stack.append(left[index])
        if right[index] >= 0:
            stack.append(right[index])
    _require(reached == n_splits, "TreeLeaf: some splits are unreachable")


def _explain_shape(n_splits: int, children: tuple[int, ...]) -> None:
    """Raise the error that says how ``children`` fail to be one binary tree's references."""
    split_children = sorted(c for c in children if c >= 0)
    seen: set[int] = set()
    for child in split_children:
        if child == 0 or child in seen:
            raise IRValidationError(f"TreeLeaf: split {child} is reached twice (not a tree)")
        seen.add(child)
    if len(split_children) != n_splits - 1:
        raise IRValidationError("TreeLeaf: some splits are unreachable")
    raise IRValidationError("TreeLeaf: leaves must be numbered 0..n-1, each once")


class TreeLeaf(Node):
    """Index (int) of the leaf one decision tree routes the row to; leaves are numbered 0..n-1.

    Routing starts at ``splits[0]``; each split tests ``features[split.feature]`` (IEEE
    comparisons; a missing value follows ``missing_left``). No splits: the single leaf 0.
    Leaf values are ``Lookup(TreeLeaf(...), values)``, so every output of one tree shares one
    routing.
    """

    __slots__ = ("features", "n_leaves", "splits")
    _fields = ("features", "splits")
    _child_fields = ("features",)
    features: tuple[Node, ...]
    splits: tuple[Split, ...]
    n_leaves: int

    def __new__(cls, features: Any, splits: Any) -> TreeLeaf:  # type: ignore[misc]
        node = super().__new__(cls, features, splits)
        if not hasattr(node, "n_leaves"):
            # validated as a binary tree: one leaf more than splits
            object.__setattr__(node, "n_leaves", len(node.splits) + 1)
        return node  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"TreeLeaf(<{len(self.features)} features>, <{len(self.splits)} splits>, <{self.n_leaves} leaves>): int"

    @classmethod
    def _validate(cls, features: Any, splits: Any) -> tuple[tuple[Any, ...], DType]:
        features = tuple(features)
        for feature in features:
            _expect_node(feature, "TreeLeaf")
            _require(feature.dtype in (DOUBLE, FLOAT32, STRING), f"TreeLeaf: cannot split on {feature.dtype.value}")
        splits = tuple(splits)
        if {*map(type, splits)} != {Split} and splits:
            splits = tuple(s if type(s) is Split else Split(*s) for s in splits)
        _check_tree(features, splits)
        return (features, splits), INT


NODE_TYPES: dict[str, type[Node]] = {
    cls.__name__: cls
    for cls in (
        Input,
        Const,
        Unary,
        Binary,
        Compare,
        And,
        Or,
        Not,
        IsMissing,
        IsIn,
        IfElse,
        Sum,
        ArgMax,
        Lookup,
        Cast,
        TreeLeaf,
    )
}
"""Every node class by name: the closed set an emitter must handle (or reject)."""
