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
O(depth) per tree and row, never every node. Children are numbered within their tree (``-1 -
leaf`` for a leaf, as in the IR), so ``LEFT``/``RIGHT`` are ``short[]`` whenever every tree has
fewer than 32,768 splits and leaves, and ``FEATURE`` is a ``byte[]`` below 128 feature slots:
~14 bytes per split instead of 21.

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
from typing import Any

from emitters.common.tree_tables import NodeTables
from modelgen.ir import STRING, Node, TreeLeaf
from modelgen.ir.nodes import ConstValue, Split

CHUNK_CHARS = 65532
"""Characters per string constant: a multiple of 4 (each chunk decodes alone), under 65,535."""

CHUNKS_PER_METHOD = 256
"""String constants returned by one ``treeDataN()`` method (~8 bytes of bytecode each)."""

MAX_TABLE_ROWS = 2**31 - 1
"""Java arrays are int-indexed."""

ROUTE_SOURCE = """    /**
     * The leaf number one tree sends a row to, walking the node tables from row {@code node}
     * (the tree's root) down: one comparison per level. See the KIND table in the generator.
     */
    private static int route(int root, double[] fx, String[] fs) {
        int node = root;
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
            node = root + child;
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


_BUFFER_VIEWS = {
    "byte": "",
    "short": "asShortBuffer().",
    "int": "asIntBuffer().",
    "long": "asLongBuffer().",
    "double": "asDoubleBuffer().",
}


class TreePool:
    """The packed tables of one generated class: trees, leaf values and category sets.

    Filled in rendering order (deterministic), then printed by ``declarations`` / ``methods``.
    ``feature_slots`` maps each tree feature node to its index in the per-call ``fx`` (numeric)
    or ``fs`` (string) array.
    """

    def __init__(self, feature_slots: dict[object, int]) -> None:
        self.feature_slots = feature_slots
        self.tables = NodeTables(self._category, "java", MAX_TABLE_ROWS)
        self.double_sets: list[tuple[float, ...]] = []
        self.string_sets: list[tuple[str, ...]] = []
        self._set_index: dict[tuple[object, ...], int] = {}
        self._extra: list[tuple[str, str, bytes, int]] = []

    def __bool__(self) -> bool:
        return bool(self.tables.rows or self.tables.leaf_count or self._extra)

    def add_column(self, name: str, java_type: str, values: Any) -> None:
        """One more array ``name`` in the payload: ``values`` a numpy array already in the Java
        type's big-endian layout (the walk's node arrays, see walk.py)."""
        self._extra.append((name, java_type, values.tobytes(), len(values)))

    def add_tree(self, tree: TreeLeaf) -> int:
        """The table row of ``tree``'s root (the tree is added once, however often it is asked for)."""
        return self.tables.add_tree(tree, [self.feature_slots[feature] for feature in tree.features])

    def _category(self, split: Split, feature: Node) -> tuple[int, int]:
        """Kind (4-11, see the module docstring) and set index of a category split."""
        is_string = feature.dtype is STRING
        kind = (8 if is_string else 4) + (2 if split.test == "notin" else 0) + int(split.missing_left)
        return kind, self._set(split.operand, is_string)  # type: ignore[arg-type]

    def _set(self, members: tuple[ConstValue, ...], is_string: bool) -> int:
        key = (is_string, *(struct.pack(">d", m) if isinstance(m, float) else m for m in members))
        if key not in self._set_index:
            if is_string:
                self._set_index[key] = len(self.string_sets)
                self.string_sets.append(tuple(str(m) for m in members))
            else:
                self._set_index[key] = len(self.double_sets)
                # a NaN member never equals anything (and a NaN row is missing first)
                self.double_sets.append(tuple(float(m) for m in members if not math.isnan(float(m))))
        return self._set_index[key]

    def leaf_offset(self, values: tuple[ConstValue, ...]) -> int:
        """Where ``values`` (doubles) start in the shared ``LEAF_VALUES`` table; identical tables are shared."""
        return self.tables.leaf_offset(values)

    def _columns(self) -> list[tuple[str, str, int]]:
        """(array name, element type, length) of the packed columns, in payload order."""
        types = {"b": "byte", "h": "short", "i": "int"}
        feature_type = types[self.tables.feature_code()]
        child_type = types[self.tables.child_code()]
        nodes = self.tables.rows
        return [
            ("THRESHOLD", "double", nodes),
            ("LEAF_VALUES", "double", self.tables.leaf_count),
            ("FEATURE", feature_type, nodes),
            ("LEFT", child_type, nodes),
            ("RIGHT", child_type, nodes),
            ("KIND", "byte", nodes),
            *((name, java_type, length) for name, java_type, _, length in self._extra),
        ]

    def _payload(self) -> bytes:
        parts = [self.tables.payload(">"), *(data for _, _, data, _ in self._extra)]
        for members in self.double_sets:
            parts.append(struct.pack(f">i{len(members)}d", len(members), *members))
        for members in self.string_sets:
            parts.append(struct.pack(">i", len(members)))
            for member in members:
                # UTF-16 code units: any Python str (lone surrogates too) comes back as the same Java String
                units = member.encode("utf-16-be", "surrogatepass")
                parts.append(struct.pack(">i", len(units) // 2) + units)
        return b"".join(parts)

    def declarations(self) -> list[str]:
        """The table fields and the static block that fills them, as class-body text."""
        return [
            "    // decision-tree tables, unpacked from treeDataN() when the class loads (see route)",
            *(
                f"    private static final {java_type}[] {name} = new {java_type}[{length}];"
                for name, java_type, length in self._columns()
            ),
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
        text = base64.b64encode(payload).decode("ascii")
        chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
        groups = [chunks[i : i + CHUNKS_PER_METHOD] for i in range(0, len(chunks), CHUNKS_PER_METHOD)]
        sizes = {"byte": 1, "short": 2, "int": 4, "long": 8, "double": 8}
        columns: list[str] = []
        for name, java_type, _ in self._columns():
            columns.append(f"        data.{_BUFFER_VIEWS[java_type]}get({name});")
            if java_type != "byte":  # a view does not move the buffer's position
                columns.append(f"        data.position(data.position() + {sizes[java_type]} * {name}.length);")
        unpack = [
            "    /** Decodes the tables; doubles are raw IEEE bits, so every value is exact. */",
            "    private static void unpackTrees() {",
            f"        byte[] bytes = new byte[{len(payload)}];",
            "        int at = 0;",
            *(f"        at = decode(treeData{i}(), bytes, at);" for i in range(len(groups))),
            "        java.nio.ByteBuffer data = java.nio.ByteBuffer.wrap(bytes);",
            *columns,
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
        if self.tables.rows:
            sources.append(ROUTE_SOURCE)
        for index, group in enumerate(groups):
            body = ",\n".join(f'            "{chunk}"' for chunk in group)
            sources.append(
                f"    private static String[] treeData{index}() {{\n"
                f"        return new String[] {{\n{body}\n        }};\n    }}"
            )
        return sources
