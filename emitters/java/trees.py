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

from modelgen.errors import TargetCannotExpressError
from modelgen.ir import STRING, TreeLeaf
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


def _integer_type(low: int, high: int) -> tuple[str, str, int]:
    """The smallest Java integer array holding ``low..high``: element type, struct code, bytes."""
    if -(2**7) <= low and high < 2**7:
        return "byte", "b", 1
    if -(2**15) <= low and high < 2**15:
        return "short", "h", 2
    return "int", "i", 4


_BUFFER_VIEWS = {"byte": "", "short": "asShortBuffer().", "int": "asIntBuffer().", "double": "asDoubleBuffer()."}


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
        self._leaf_bytes: list[bytes] = []
        self.leaf_count = 0
        self._leaf_offsets: dict[bytes, int] = {}
        self.double_sets: list[tuple[float, ...]] = []
        self.string_sets: list[tuple[str, ...]] = []
        self._set_index: dict[tuple[object, ...], int] = {}
        self._roots: dict[TreeLeaf, int] = {}
        self._column_cache: list[tuple[str, str, int]] | None = None

    def __bool__(self) -> bool:
        return bool(self.kind or self.leaf_count)

    def add_tree(self, tree: TreeLeaf) -> int:
        """The table row of ``tree``'s root (the tree is added once, however often it is asked for)."""
        if tree in self._roots:
            return self._roots[tree]
        base = len(self.kind)
        if base + len(tree.splits) > MAX_TABLE_ROWS:
            raise TargetCannotExpressError(f"java: more than {MAX_TABLE_ROWS} tree nodes in one class")
        slots = [self.feature_slots[feature] for feature in tree.features]
        splits = tree.splits
        # column by column with comprehensions: a million-split forest is packed in about a second
        self.feature.extend([slots[s[0]] for s in splits])
        self.left.extend([s[4] for s in splits])
        self.right.extend([s[5] for s in splits])
        kinds = [_THRESHOLD_KINDS.get((s[1], s[3]), -1) for s in splits]
        self.threshold.extend([s[2] if kind >= 0 else 0.0 for s, kind in zip(splits, kinds)])  # type: ignore[misc]
        for index, kind in enumerate(kinds):
            if kind < 0:  # a category split: its kind, and its set's index in the threshold column
                split = splits[index]
                is_string = tree.features[split.feature].dtype is STRING
                kinds[index] = (8 if is_string else 4) + (2 if split.test == "notin" else 0) + int(split.missing_left)
                self.threshold[base + index] = float(self._set(split.operand, is_string))  # type: ignore[arg-type]
        self.kind.extend(kinds)
        self._roots[tree] = base
        return base

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
        packed = struct.pack(f">{len(values)}d", *values)
        if packed not in self._leaf_offsets:
            if self.leaf_count + len(values) > MAX_TABLE_ROWS:
                raise TargetCannotExpressError(f"java: more than {MAX_TABLE_ROWS} leaf values in one class")
            self._leaf_offsets[packed] = self.leaf_count
            self._leaf_bytes.append(packed)
            self.leaf_count += len(values)
        return self._leaf_offsets[packed]

    def _columns(self) -> list[tuple[str, str, int]]:
        """(array name, element type, length) of the packed columns, in payload order."""
        if self._column_cache is not None:  # asked for by declarations, methods and _payload
            return self._column_cache
        feature_type = _integer_type(0, max(self.feature, default=0))[0]
        low = min(min(self.left, default=0), min(self.right, default=0))
        high = max(max(self.left, default=0), max(self.right, default=0))
        child_type = _integer_type(low, high)[0]
        nodes = len(self.kind)
        self._column_cache = [
            ("THRESHOLD", "double", nodes),
            ("LEAF_VALUES", "double", self.leaf_count),
            ("FEATURE", feature_type, nodes),
            ("LEFT", child_type, nodes),
            ("RIGHT", child_type, nodes),
            ("KIND", "byte", nodes),
        ]
        return self._column_cache

    def _payload(self) -> bytes:
        codes = {"byte": "b", "short": "h", "int": "i", "double": "d"}
        columns = self._columns()
        nodes = len(self.kind)
        parts = [
            struct.pack(f">{nodes}d", *self.threshold),
            *self._leaf_bytes,
            struct.pack(f">{nodes}{codes[columns[2][1]]}", *self.feature),
            struct.pack(f">{nodes}{codes[columns[3][1]]}", *self.left),
            struct.pack(f">{nodes}{codes[columns[4][1]]}", *self.right),
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
        sizes = {"byte": 1, "short": 2, "int": 4, "double": 8}
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
        if self.kind:
            sources.append(ROUTE_SOURCE)
        for index, group in enumerate(groups):
            body = ",\n".join(f'            "{chunk}"' for chunk in group)
            sources.append(
                f"    private static String[] treeData{index}() {{\n"
                f"        return new String[] {{\n{body}\n        }};\n    }}"
            )
        return sources
