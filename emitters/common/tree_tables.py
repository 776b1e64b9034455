"""Packed node tables of many decision trees, for targets that route by walking arrays.

Every tree becomes rows of five shared columns -- threshold, feature, left, right, kind --
and double leaf-value tables are pooled in one more column (identical tables stored once).
Children stay numbered within their tree (``-1 - leaf`` for a leaf, as in the IR), so the
walker adds the root's row. The Java and Python targets print these columns as one binary
payload (``payload``: IEEE doubles as raw bits, so every threshold and leaf value is exact).

Kinds 0-3 are the threshold tests (``THRESHOLD_KINDS``); a category split gets its kind and
the index of its set (stored in the threshold column) from the target's ``category`` callback,
because each target numbers and prints its sets its own way.

Built column by column from whole trees: a million-split forest is packed in well under a
second. The order of rows is the order ``add_tree`` is called in (deterministic).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import numpy as np

from modelgen.errors import TargetCannotExpressError
from modelgen.ir import Node, TreeLeaf
from modelgen.ir.nodes import ConstValue, Split

THRESHOLD_KINDS: dict[tuple[str, bool], int] = {("le", False): 0, ("le", True): 1, ("lt", False): 2, ("lt", True): 3}
"""(test, missing_left) -> kind: 0 ``x <= t``, 1 ``!(x > t)``, 2 ``x < t``, 3 ``!(x >= t)`` (NaN fails the
plain comparisons and passes the negated ones, so the missing direction needs no extra test)."""

CategoryKind = Callable[[Split, Node], tuple[int, int]]
"""(split, its feature node) -> (kind, set index) of a category (``in`` / ``notin``) split."""

_THRESHOLD_TESTS = frozenset(("le", "lt"))
_INTEGER_DTYPES = {"b": "i1", "h": "i2", "i": "i4"}


def integer_code(low: int, high: int) -> str:
    """The smallest ``struct`` integer code (``b``, ``h``, ``i``) holding ``low..high``."""
    if -(2**7) <= low and high < 2**7:
        return "b"
    if -(2**15) <= low and high < 2**15:
        return "h"
    return "i"


class NodeTables:
    """The node columns of every tree added, and the pooled double leaf tables.

    ``target`` and ``max_rows`` bound the tables (Java arrays are int-indexed): a model that
    needs more rows is a ``TargetCannotExpressError`` naming the target.

    >>> from modelgen.ir import DOUBLE, Input, leaf_ref
    >>> t = TreeLeaf((Input("x", DOUBLE),), [Split(0, "le", 0.5, True, leaf_ref(0), leaf_ref(1))])
    >>> tables = NodeTables(lambda split, feature: (4, 0), "demo")
    >>> tables.add_tree(t), tables.kind, tables.left, tables.right
    (0, [1], [-1], [-2])
    """

    def __init__(self, category: CategoryKind, target: str, max_rows: int = 2**31 - 1) -> None:
        self._category = category
        self._target = target
        self._max_rows = max_rows
        self.threshold: list[float] = []
        self.feature: list[int] = []
        self.left: list[int] = []
        self.right: list[int] = []
        self.kind: list[int] = []
        self.leaf_count = 0
        self._leaf_bytes: list[bytes] = []
        self._leaf_offsets: dict[bytes, int] = {}
        self._roots: dict[TreeLeaf, int] = {}
        self._codes_cache: tuple[int, str, str] | None = None

    @property
    def rows(self) -> int:
        """Node rows so far (all trees)."""
        return len(self.kind)

    def add_tree(self, tree: TreeLeaf, slots: Sequence[int] | None = None) -> int:
        """The row of ``tree``'s root, adding its splits once however often it is asked for.

        ``slots[i]`` is what the feature column holds for the tree's feature ``i`` (default: ``i``).
        """
        if tree in self._roots:
            return self._roots[tree]
        splits = tree.splits
        base = len(self.kind)
        if base + len(splits) > self._max_rows:
            raise TargetCannotExpressError(f"{self._target}: more than {self._max_rows} tree nodes in one program")
        feature, test, operand, missing_left, left, right = tuple(zip(*splits)) or ((),) * 6
        self.feature.extend(feature if slots is None else map(slots.__getitem__, feature))
        self.left.extend(left)
        self.right.extend(right)
        tests = {*test}
        if tests <= _THRESHOLD_TESTS:
            self.threshold.extend(operand)  # type: ignore[arg-type]
            if tests == {"le"}:
                self.kind.extend(map(int, missing_left))  # kinds 0 / 1
            else:
                self.kind.extend(map(THRESHOLD_KINDS.__getitem__, zip(test, missing_left)))
        else:
            for split in splits:
                kind = THRESHOLD_KINDS.get((split.test, split.missing_left), -1)
                if kind >= 0:
                    self.threshold.append(split.operand)  # type: ignore[arg-type]
                else:
                    kind, index = self._category(split, tree.features[split.feature])
                    self.threshold.append(float(index))
                self.kind.append(kind)
        self._roots[tree] = base
        return base

    def leaf_offset(self, values: tuple[ConstValue, ...]) -> int:
        """Where ``values`` (doubles) start in the pooled leaf column; identical tables are stored once."""
        packed = struct.pack(f"<{len(values)}d", *values)
        offset = self._leaf_offsets.get(packed)
        if offset is None:
            if self.leaf_count + len(values) > self._max_rows:
                raise TargetCannotExpressError(f"{self._target}: more than {self._max_rows} leaf values in one program")
            offset = self._leaf_offsets[packed] = self.leaf_count
            self._leaf_bytes.append(packed)
            self.leaf_count += len(values)
        return offset

    def feature_code(self) -> str:
        """``struct`` code of the feature column."""
        return self._codes()[0]

    def child_code(self) -> str:
        """``struct`` code of the left and right columns."""
        return self._codes()[1]

    def _codes(self) -> tuple[str, str]:
        # asked for several times while printing; the columns only grow, so rows key the cache
        if self._codes_cache is None or self._codes_cache[0] != len(self.kind):
            low = min(min(self.left, default=0), min(self.right, default=0))
            high = max(max(self.left, default=0), max(self.right, default=0))
            feature = integer_code(0, max(self.feature, default=0))
            self._codes_cache = (len(self.kind), feature, integer_code(low, high))
        return self._codes_cache[1], self._codes_cache[2]

    def payload(self, byteorder: str) -> bytes:
        """threshold (d), leaf values (d), feature, left, right (``*_code``), kind (b), in ``byteorder`` (< or >)."""
        if byteorder not in ("<", ">"):
            raise ValueError(f"byteorder must be '<' or '>', got {byteorder!r}")
        leaves = b"".join(self._leaf_bytes)
        if byteorder == ">":
            leaves = np.frombuffer(leaves, dtype="<f8").astype(">f8").tobytes()
        feature = f"{byteorder}{_INTEGER_DTYPES[self.feature_code()]}"
        child = f"{byteorder}{_INTEGER_DTYPES[self.child_code()]}"
        return b"".join(
            (
                np.array(self.threshold, dtype=f"{byteorder}f8").tobytes(),
                leaves,
                np.array(self.feature, dtype=feature).tobytes(),
                np.array(self.left, dtype=child).tobytes(),
                np.array(self.right, dtype=child).tobytes(),
                np.array(self.kind, dtype="i1").tobytes(),
            )
        )
