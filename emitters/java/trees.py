"""Decision trees in the Java target: every tree is rows of shared node tables, walked by one loop.

Why tables and not nested ``if``/``else``: a 1,000-tree forest has millions of nodes. As code
that is megabytes of bytecode (javac takes minutes, every tree needs its own method under the
8,000-byte JIT limit), and as array initialisers it is worse: a ``static final double[] T = {...}``
compiles to ~8 bytes of ``<clinit>`` bytecode and a constant-pool entry per element, so the class
hits the 64 KB method limit at ~8,000 numbers and the 65,535-entry constant pool soon after.

So the node tables (threshold, feature slot, left, right, kind), the leaf-value tables and the
category sets are packed into one big-endian byte string, base64-encoded into string constants
of at most ``CHUNK_CHARS`` characters (a class-file string constant holds at most 65,535 bytes),
returned ``CHUNKS_PER_METHOD`` at a time by small ``treeDataN()`` methods and decoded once when
the class loads. Doubles travel as their raw IEEE bits, so every threshold and leaf value is
exact, -0.0, the infinities and subnormals included. ``route`` walks one tree from its root row:
O(depth) per tree and row, never every node.

Kinds (``KIND`` table), with ``x`` the split's feature and ``t`` its threshold:

==== ================= ===================================================================
kind split             go left when
==== ================= ===================================================================
0    le, NaN right     ``x <= t`` (false for NaN)
1    le, NaN left      ``!(x > t)`` (exactly "NaN or x <= t")
2    lt, NaN right     ``x < t``
3    lt, NaN left      ``!(x >= t)``
4-7  in/notin doubles  NaN: ``kind & 1``; else member of ``DSETS[(int) t] == (kind < 6)``
8-11 in/notin strings  null: ``kind & 1``; else member of ``SSETS[(int) t] == (kind < 10)``
==== ================= ===================================================================

For a category split the threshold column holds the set's index (an exact small double).
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Sequence

from modelgen.errors import TargetCannotExpressError
from modelgen.ir import STRING, DType, Split, TreeLeaf
from modelgen.ir.nodes import ConstValue

CHUNK_CHARS = 65532
"""Characters per string constant: a multiple of 4 (each chunk decodes alone), under 65,535."""

CHUNKS_PER_METHOD = 256
"""String constants returned by one ``treeDataN()`` method (~8 bytes of bytecode each)."""

MAX_TABLE_ROWS = 2**31 - 1
"""Java arrays are int-indexed."""

_THRESHOLD_KINDS = {("le", False): 0, ("le", True): 1, ("lt", False): 2, ("lt", True): 3}

ROUTE_SOURCE = """    /**
     * The leaf number one tree sends a row to, walking the node tables from row {@code node}
     * (the tree's root) down: one comparison per level. See the KIND table in the generator.
     */
    private static int route(int node, double[] fx, String[] fs) {
        while (true) {
            int kind = KIND[node];
            boolean left;
            if (kind < 4) {
                double x = fx[FEATURE[node]];
                double t = THRESHOLD[node];
                if (kind == 0) {
                    left = x <= t;
                } else if (kind == 1) {
                    left = !(x > t);
                } else if (kind == 2) {
                    left = x < t;
                } else {
                    left = !(x >= t);
                }
            } else if (kind < 8) {
                double x = fx[FEATURE[node]];
                if (Double.isNaN(x)) {
                    left = (kind & 1) != 0;
                } else {
                    left = memberD(x, DSETS[(int) THRESHOLD[node]]) == (kind < 6);
                }
            } else {
                String x = fs[FEATURE[node]];
                if (x == null) {
                    left = (kind & 1) != 0;
                } else {
                    left = memberS(x, SSETS[(int) THRESHOLD[node]]) == (kind < 10);
                }
            }
            int child = left ? LEFT[node] : RIGHT[node];
            if (child < 0) {
                return -1 - child;
            }
            node = child;
        }
    }

    /** True when x (not NaN) equals a member; -0.0 equals 0.0, as the IR's == does. */
    private static boolean memberD(double x, double[] members) {
        for (double m : members) {
            if (x == m) {
                return true;
            }
        }
        return false;
    }

    /** True when x (not null) equals a member. */
    private static boolean memberS(String x, String[] members) {
        for (String m : members) {
            if (m.equals(x)) {
                return true;
            }
        }
        return false;
    }"""


def _bits_key(values: Sequence[ConstValue]) -> tuple[object, ...]:
    return tuple(struct.pack(">d", v) if isinstance(v, float) else v for v in values)


class TreePool:
    """The packed tables of one generated class: trees, leaf values and category sets.

    Filled in rendering order (deterministic), then printed by ``declarations`` / ``methods``.
    ``feature_slots`` maps each tree feature node to its index in the per-call ``fx`` (numeric)
    or ``fs`` (string) array.
    """

    def __init__(self, feature_slots: dict[object, int]) -> None:
        self.feature_slots = feature_slots
        self.threshold: list[float] = []
        self.feature: list[int] = []
        self.left: list[int] = []
        self.right: list[int] = []
        self.kind: list[int] = []
        self.leaf_values: list[float] = []
        self._leaf_offsets: dict[tuple[object, ...], int] = {}
        self.double_sets: list[tuple[float, ...]] = []
        self.string_sets: list[tuple[str, ...]] = []
        self._set_index: dict[tuple[object, ...], int] = {}
        self._roots: dict[TreeLeaf, int] = {}

    def __bool__(self) -> bool:
        return bool(self.kind or self.leaf_values)

    def add_tree(self, tree: TreeLeaf) -> int:
        """The table row of ``tree``'s root (the tree is added once, however often it is asked for)."""
        if tree in self._roots:
            return self._roots[tree]
        base = len(self.kind)
        if base + len(tree.splits) > MAX_TABLE_ROWS:
            raise TargetCannotExpressError(f"java: more than {MAX_TABLE_ROWS} tree nodes in one class")
        for split in tree.splits:
            self._add_split(tree, split, base)
        self._roots[tree] = base
        return base

    def _add_split(self, tree: TreeLeaf, split: Split, base: int) -> None:
        feature = tree.features[split.feature]
        self.feature.append(self.feature_slots[feature])
        self.left.append(split.left if split.left < 0 else base + split.left)
        self.right.append(split.right if split.right < 0 else base + split.right)
        if split.test in ("le", "lt"):
            self.kind.append(_THRESHOLD_KINDS[(split.test, split.missing_left)])
            self.threshold.append(float(split.operand))  # type: ignore[arg-type]
            return
        is_string = feature.dtype is STRING
        offset = 8 if is_string else 4
        self.kind.append(offset + (2 if split.test == "notin" else 0) + (1 if split.missing_left else 0))
        self.threshold.append(float(self._set(split.operand, is_string)))  # type: ignore[arg-type]

    def _set(self, members: tuple[ConstValue, ...], is_string: bool) -> int:
        key = (is_string, _bits_key(members))
        if key not in self._set_index:
            if is_string:
                self._set_index[key] = len(self.string_sets)
                self.string_sets.append(tuple(str(m) for m in members))
            else:
                self._set_index[key] = len(self.double_sets)
                # a NaN member never equals anything (and a NaN row is missing first)
                self.double_sets.append(tuple(float(m) for m in members if not math.isnan(float(m))))
        return self._set_index[key]

    def leaf_offset(self, values: tuple[ConstValue, ...], dtype: DType) -> int:
        """Where ``values`` start in the shared ``LEAF_VALUES`` table (identical tables are shared)."""
        key = _bits_key(values)
        if key not in self._leaf_offsets:
            offset = len(self.leaf_values)
            if offset + len(values) > MAX_TABLE_ROWS:
                raise TargetCannotExpressError(f"java: more than {MAX_TABLE_ROWS} leaf values in one class")
            self._leaf_offsets[key] = offset
            self.leaf_values.extend(float(v) for v in values)  # type: ignore[arg-type]
        return self._leaf_offsets[key]

    def _payload(self) -> bytes:
        parts = [
            struct.pack(f">{len(self.threshold)}d", *self.threshold),
            struct.pack(f">{len(self.leaf_values)}d", *self.leaf_values),
            struct.pack(f">{len(self.feature)}i", *self.feature),
            struct.pack(f">{len(self.left)}i", *self.left),
            struct.pack(f">{len(self.right)}i", *self.right),
            bytes(self.kind),
        ]
        for members in self.double_sets:
            parts.append(struct.pack(f">i{len(members)}d", len(members), *members))
        for members in self.string_sets:
            parts.append(struct.pack(">i", len(members)))
            for member in members:
                # UTF-16 code units: any Python str (lone surrogates too) comes back as the same Java String
                units = member.encode("utf-16-be", "surrogatepass")
                parts.append(struct.pack(">i", len(units) // 2) + units)
        return b"".join(parts)

    @staticmethod
    def _chunks(payload: bytes) -> list[str]:
        text = base64.b64encode(payload).decode("ascii")
        return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]

    def declarations(self) -> list[str]:
        """The table fields and the static block that fills them, as class-body text."""
        nodes, leaves = len(self.kind), len(self.leaf_values)
        return [
            "    // decision-tree tables, unpacked from treeDataN() when the class loads (see route)",
            f"    private static final double[] THRESHOLD = new double[{nodes}];",
            f"    private static final double[] LEAF_VALUES = new double[{leaves}];",
            f"    private static final int[] FEATURE = new int[{nodes}];",
            f"    private static final int[] LEFT = new int[{nodes}];",
            f"    private static final int[] RIGHT = new int[{nodes}];",
            f"    private static final byte[] KIND = new byte[{nodes}];",
            f"    private static final double[][] DSETS = new double[{len(self.double_sets)}][];",
            f"    private static final String[][] SSETS = new String[{len(self.string_sets)}][];",
            "",
            "    static {",
            "        unpackTrees();",
            "    }",
        ]

    def methods(self) -> list[str]:
        """``route``, the unpacking code and the ``treeDataN()`` string-constant methods."""
        payload = self._payload()
        chunks = self._chunks(payload)
        groups = [chunks[i : i + CHUNKS_PER_METHOD] for i in range(0, len(chunks), CHUNKS_PER_METHOD)]
        payload_length = len(payload)
        unpack = [
            "    /** Decodes the tables; doubles are raw IEEE bits, so every value is exact. */",
            "    private static void unpackTrees() {",
            f"        byte[] bytes = new byte[{payload_length}];",
            "        int at = 0;",
            *(f"        at = decode(treeData{i}(), bytes, at);" for i in range(len(groups))),
            "        java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(bytes);",
            "        data.asDoubleBuffer().get(THRESHOLD);",
            "        data.position(data.position() + 8 * THRESHOLD.length);",
            "        data.asDoubleBuffer().get(LEAF_VALUES);",
            "        data.position(data.position() + 8 * LEAF_VALUES.length);",
            "        data.asIntBuffer().get(FEATURE);",
            "        data.position(data.position() + 4 * FEATURE.length);",
            "        data.asIntBuffer().get(LEFT);",
            "        data.position(data.position() + 4 * LEFT.length);",
            "        data.asIntBuffer().get(RIGHT);",
            "        data.position(data.position() + 4 * RIGHT.length);",
            "        data.get(KIND);",
            "        for (int i = 0; i < DSETS.length; i++) {",
            "            DSETS[i] = new double[data.getInt()];",
            "            data.asDoubleBuffer().get(DSETS[i]);",
            "            data.position(data.position() + 8 * DSETS[i].length);",
            "        }",
            "        for (int i = 0; i < SSETS.length; i++) {",
            "            SSETS[i] = new String[data.getInt()];",
            "            for (int j = 0; j < SSETS[i].length; j++) {",
            "                char[] units = new char[data.getInt()];",
            "                data.asCharBuffer().get(units);",
            "                data.position(data.position() + 2 * units.length);",
            "                SSETS[i][j] = new String(units);",
            "            }",
            "        }",
            "    }",
            "",
            "    private static int decode(String[] chunks, byte[] bytes, int at) {",
            "        java.util.Base64.Decoder decoder = java.util.Base64.getDecoder();",
            "        for (String chunk : chunks) {",
            "            byte[] part = decoder.decode(chunk);",
            "            System.arraycopy(part, 0, bytes, at, part.length);",
            "            at += part.length;",
            "        }",
            "        return at;",
            "    }",
        ]
        sources = ["\n".join(unpack)]
        if self.kind:
            sources.append(ROUTE_SOURCE)
        for index, group in enumerate(groups):
            body = ",\n".join(f'            "{chunk}"' for chunk in group)
            sources.append(
                f"    private static String[] treeData{index}() {{\n"
                f"        return new String[] {{\n{body}\n        }};\n    }}"
            )
        return sources
