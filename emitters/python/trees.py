"""Decision trees in the Python target: nested ``if`` functions for small models, packed tables
walked by one loop for big ones. Either way a row costs O(depth) per tree, never every node.

Two modes, chosen per model (deterministically, from its size):

- ``if`` mode (at most ``IF_SPLIT_BUDGET`` splits in all trees): each tree is a function
  ``_treeK(f)`` of nested ``if`` statements returning the leaf number, the fastest per row. The
  right child of a split is the fall-through after its ``if`` block (which always returns), so
  only left steps indent; a tree with more than ``MAX_IF_NESTING`` left steps on one path uses
  the table walk instead (CPython refuses 100 indentation levels).
- table mode: CPython compiles an ``if`` tree or a tuple display at ~3-4 MB of source a second
  and a runner (``python3 NAME.py``) recompiles on every start, so a million-split forest
  would take a minute per start. The node tables (threshold, feature, left, right, kind) and
  the leaf values are instead packed into one base64 text (doubles as raw IEEE bits: exact)
  that ``array`` decodes at import in a fraction of a second; ``_route`` walks them.

Kinds (``_KIND``), with ``x`` the split's feature and ``t`` its threshold (for a category split
the threshold is the index of its frozenset in ``_SETS``):
0 ``x <= t`` (NaN right), 1 ``not x > t`` (NaN left), 2 ``x < t``, 3 ``not x >= t``,
4 in / 5 in, missing left / 6 notin / 7 notin, missing left (missing = None or NaN).
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Sequence

from emitters.common.schedule import Schedule
from emitters.common.tree_tables import THRESHOLD_KINDS, NodeTables
from emitters.python.literals import float_literal, tuple_literal
from modelgen.ir import STRING, Node, TreeLeaf, topological_order
from modelgen.ir.nodes import ConstValue, Split

IF_SPLIT_BUDGET = 20_000
"""Most splits (all trees together) printed as ``if`` functions: ~1.5 MB, ~0.5 s to compile."""

MAX_IF_NESTING = 60
"""Most left steps on one path of an ``if``-mode tree (CPython's limit is 100 indentation levels)."""

LINE_CHARS = 4096
"""Characters of base64 per source line of the packed tables."""

POOLED_LOOKUP_SIZE = 64
"""A double ``Lookup`` this long, or indexed by a tree in table mode, reads the packed
``_LEAF_VALUES`` table (a tuple display of a million doubles takes CPython seconds to compile)."""

_THRESHOLD_TESTS = {0: "{x} <= {t}", 1: "not {x} > {t}", 2: "{x} < {t}", 3: "not {x} >= {t}"}

ROUTE_SOURCE = '''def _route(root, f):
    """The leaf number a tree sends feature tuple f to, walking the packed tables from its root row."""
    kinds, features, thresholds, lefts, rights = _KIND, _FEATURE, _THRESHOLD, _LEFT, _RIGHT
    node = root
    while True:
        kind = kinds[node]
        x = f[features[node]]
        if kind == 0:
            left = x <= thresholds[node]
        elif kind == 1:
            left = not x > thresholds[node]
        elif kind == 2:
            left = x < thresholds[node]
        elif kind == 3:
            left = not x >= thresholds[node]
        elif x is None or x != x:
            left = kind & 1 == 1
        else:
            left = (x in _SETS[int(thresholds[node])]) == (kind < 6)
        child = lefts[node] if left else rights[node]
        if child < 0:
            return -1 - child
        node = root + child'''


def bind_trees(plan: Schedule) -> Schedule:
    """``plan`` with every ``TreeLeaf`` that has splits bound too (its routing is one statement)."""
    bound = set(plan.names)
    order = topological_order(plan.model.roots)
    bound.update(node for node in order if isinstance(node, TreeLeaf) and node.splits)
    bindings = tuple((f"t{i}", node) for i, node in enumerate(n for n in order if n in bound))
    return Schedule(bindings=bindings, names={node: name for name, node in bindings}, model=plan.model)


def _left_depth(tree: TreeLeaf) -> int:
    deepest = 0
    stack = [(0, 1)]
    while stack:
        index, depth = stack.pop()
        deepest = max(deepest, depth)
        split = tree.splits[index]
        if split.left >= 0:
            stack.append((split.left, depth + 1))
        if split.right >= 0:
            stack.append((split.right, depth))
    return deepest


def _bits_key(values: Sequence[ConstValue]) -> tuple[object, ...]:
    return tuple(struct.pack("<d", v) if isinstance(v, float) else v for v in values)


class TreeCode:
    """The tree functions, packed tables and category sets of one generated module.

    Filled in ``score``'s statement order (deterministic), printed by ``sources``.
    """

    def __init__(self, model_trees: Sequence[TreeLeaf]) -> None:
        total = sum(len(t.splits) for t in model_trees)
        self.if_mode = total <= IF_SPLIT_BUDGET
        self.functions: list[str] = []
        self._calls: dict[TreeLeaf, str] = {}
        self.sets: list[str] = []
        self._set_index: dict[tuple[object, ...], int] = {}
        self.tables = NodeTables(self._category, "python")

    def call(self, tree: TreeLeaf, vector: str) -> str:
        """The expression routing ``tree`` over the feature tuple named ``vector``."""
        if tree not in self._calls:
            if self.if_mode and _left_depth(tree) <= MAX_IF_NESTING:
                name = f"_tree{len(self.functions)}"
                self.functions.append(self._function(tree, name))
                self._calls[tree] = f"{name}({{vector}})"
            else:
                self._calls[tree] = f"_route({self.tables.add_tree(tree)}, {{vector}})"
        return self._calls[tree].format(vector=vector)

    def leaf_offset(self, values: tuple[ConstValue, ...]) -> int:
        """Where ``values`` (doubles) start in ``_LEAF_VALUES`` (identical tables are stored once)."""
        return self.tables.leaf_offset(values)

    def _set(self, members: tuple[ConstValue, ...], feature: Node) -> int:
        key = (feature.dtype is STRING, _bits_key(members))
        if key not in self._set_index:
            self._set_index[key] = len(self.sets)
            # a NaN member never equals a value (and a NaN row is missing before membership is asked)
            kept = [m for m in members if not (isinstance(m, float) and math.isnan(m))]
            self.sets.append(f"frozenset({tuple_literal(tuple(kept), feature.dtype)})" if kept else "frozenset()")
        return self._set_index[key]

    def _condition(self, tree: TreeLeaf, split: Split) -> str:
        x = f"f[{split.feature}]"
        if split.test in ("le", "lt"):
            kind = THRESHOLD_KINDS[(split.test, split.missing_left)]
            return _THRESHOLD_TESTS[kind].format(x=x, t=float_literal(split.operand))  # type: ignore[arg-type]
        feature = tree.features[split.feature]
        members = f"_SETS[{self._set(split.operand, feature)}]"  # type: ignore[arg-type]
        missing = f"{x} is None" if feature.dtype is STRING else f"{x} != {x}"
        present = f"{x} is not None" if feature.dtype is STRING else f"{x} == {x}"
        test = f"{x} in {members}" if split.test == "in" else f"{x} not in {members}"
        if split.missing_left:
            # "notin" already holds for a missing value (None / NaN is in no set)
            return test if split.test == "notin" else f"{missing} or {test}"
        return f"{present} and {test}" if split.test == "notin" else test

    def _function(self, tree: TreeLeaf, name: str) -> str:
        lines = [
            f"def {name}(f):",
            f'    """Leaf number of one tree ({len(tree.splits)} splits) for feature tuple f."""',
        ]
        stack: list[tuple[int, int]] = [(0, 1)]
        while stack:
            child, indent = stack.pop()
            pad = "    " * indent
            if child < 0:
                lines.append(f"{pad}return {-1 - child}")
                continue
            split = tree.splits[child]
            lines.append(f"{pad}if {self._condition(tree, split)}:")
            # the left block always returns, so the right side is the fall-through at this level
            stack.append((split.right, indent))
            stack.append((split.left, indent + 1))
        return "\n".join(lines)

    def _category(self, split: Split, feature: Node) -> tuple[int, int]:
        """Kind (4-7, see the module docstring) and ``_SETS`` index of a category split."""
        kind = 4 + (2 if split.test == "notin" else 0) + int(split.missing_left)
        return kind, self._set(split.operand, feature)  # type: ignore[arg-type]

    def imports(self) -> set[str]:
        """Modules the tree code imports."""
        return {"array", "base64", "sys"} if self.tables.rows or self.tables.leaf_count else set()

    def sources(self) -> list[str]:
        """Module-level blocks: category sets, packed tables, ``_route`` and the tree functions."""
        blocks: list[str] = []
        if self.sets:
            blocks.append("_SETS = (\n" + "".join(f"    {s},\n" for s in self.sets) + ")")
        if self.tables.rows or self.tables.leaf_count:
            blocks.append(self._tables())
        if self.tables.rows:
            blocks.append(ROUTE_SOURCE)
        blocks.extend(self.functions)
        return blocks

    def _tables(self) -> str:
        nodes = self.tables.rows
        payload = self.tables.payload("<")
        feature_code, child_code = self.tables.feature_code(), self.tables.child_code()
        codes = ("d", "d", feature_code, child_code, child_code, "b")
        counts = (nodes, self.tables.leaf_count, nodes, nodes, nodes, nodes)
        layout = ", ".join(f'("{code}", {count})' for code, count in zip(codes, counts))
        text = base64.b64encode(payload).decode("ascii")
        lines = "".join(f'    "{text[i : i + LINE_CHARS]}"\n' for i in range(0, len(text), LINE_CHARS))
        return f'''def _unpack_tables(text):
    """The packed tree tables (little-endian IEEE doubles and integers) as arrays."""
    data = base64.b64decode(text)
    layout = ({layout})
    tables = []
    at = 0
    for code, count in layout:
        table = array.array(code)
        if table.itemsize != {{"d": 8, "i": 4, "h": 2, "b": 1}}[code]:
            raise ImportError("this Python's array type %r is not %d bytes" % (code, table.itemsize))
        end = at + count * table.itemsize
        table.frombytes(data[at:end])
        if sys.byteorder != "little":
            table.byteswap()
        tables.append(table)
        at = end
    return tables


_THRESHOLD, _LEAF_VALUES, _FEATURE, _LEFT, _RIGHT, _KIND = _unpack_tables(
{lines}    ""
)'''
