"""The Java walk: branchless fixed-length walks over flat node arrays, tree-major over blocks of rows.

Why (rf1000: 1,000 depth-12 trees, 200k rows, loaded 2-core machine): the row-by-row ``route``
loop took ~370 us/row against scikit-learn's ~75. Not the decode (once, at class load) and not the
JIT: ``-XX:+PrintCompilation`` shows ``route`` (307 bytes) compiled by C2 and every ``partN``
compiled, none near the 8,000-byte limit. Per row each of the 1,000 trees is walked over ~10 MB of
node tables (a cache miss at most levels) with a data-dependent ``left ? LEFT : RIGHT`` branch
per level, and every call allocated ~16 KB of scratch (one slot per tree and per lookup).
scikit-learn goes tree by tree over all rows, so each tree stays in cache. Measured on hgb500:
the branchless walk below, one row at a time, 16.5 us/row (route: 21.7); tree-major over 64-row
blocks, 7.1 us/row.

So, as the C target's walk mode (``emitters/c/walk.py``, the same layout and proofs; the plan, shared,
is ``WalkPlan`` in ``emitters/common/walk.py``; this module prints it):

- rows are scored in blocks of ``BLOCK_ROWS``; per row a *row vector* ``f`` holds slot 0 = NaN,
  then per feature the value (``raw``), NaN replaced by -inf (``low``, for missing-goes-left
  splits) and, where a tree has ``lt -inf`` with missing-left, 0.0 / 1.0 for NaN / number;
- every tree is walked for all rows of the block before the next tree (its ~20 KB of nodes
  stay in L1/L2), ``INTERLEAVE`` rows at a time (independent load chains the CPU overlaps);
- nodes are laid out breadth first, the children of a split adjacent, so a step is
  ``n = WC[n] + (x[WF[n]] <= WT[n] ? 0 : 1)`` -- HotSpot compiles the unpredictable ternary to a
  conditional move, no branch. A leaf reads slot 0 (NaN: the test is false) and its ``WC`` is
  itself - 1, so it loops on itself and every tree walks exactly its depth with no exit test;
- ``lt t`` is ``le nextafter(t, -inf)`` (the same for every non-NaN x, t = +inf included);
  ``lt -inf`` is never true for a number: missing-right reads slot 0 (always right),
  missing-left reads the 0.0 / 1.0 slot against 0.5;
- an ordered ``Sum`` of tree lookups (``Lookup(tree, values)``, optionally times a double
  constant, folded into the values: one IEEE rounding either way) and double constants is added
  up while walking: a running total per row starts at -0.0 (the identity of IEEE addition) and
  adds each term in the Sum's order, so the additions are the left fold's, in its order.

The rest of the model reads the totals where the sums were (placeholder inputs rendered as
``wa[j]``) and the leaf numbers of trees still read elsewhere (``wl[k]``). The arrays travel in
the class's packed payload (``trees.TreePool.add_column``): raw IEEE bits, decoded once.

The walk applies when every routed tree splits on numbers only and reads features computable
from the inputs alone (small expressions, no other tree's output); otherwise the scorer keeps
the row-by-row ``route`` (category sets, stacked trees).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emitters.common.tree_tables import integer_code
from emitters.common.trees import inline_from_inputs
from emitters.common.walk import ISNAN, LOW, RAW, WalkPlan
from modelgen.ir import DOUBLE, STRING, Model, Node, TreeLeaf, topological_order

INTERLEAVE = 16
"""Rows walked together through one tree: independent load chains (16 measured best in C; not re-tuned)."""

BLOCK_ROWS = 64
"""Rows per block: their row vectors (a few KB) stay in L1 while every tree walks them."""

MAX_FEATURE_NODES = 64
"""A tree feature of at most this many nodes (expanded) is recomputed from the inputs into the row vector."""

FEATURES_PER_METHOD = 60
"""Row-vector fills per ``featuresN`` method (each ~40 bytes of bytecode; under the JIT limit)."""

_TYPES = {"b": "byte", "h": "short", "i": "int"}
_NUMPY_TYPES = {"b": "i1", "h": ">i2", "i": ">i4"}


def walk_trees(model: Model) -> list[TreeLeaf] | None:
    """The routed trees of ``model`` in walk order if the walk applies to all of them, else None."""
    order = topological_order(model.roots)
    trees = [n for n in order if isinstance(n, TreeLeaf) and n.splits]
    if not trees:
        return None
    direct = inline_from_inputs(order, MAX_FEATURE_NODES)
    for tree in trees:
        if any(feature.dtype is STRING or not direct[feature] for feature in tree.features):
            return None
        if any(split.test not in ("le", "lt") for split in tree.splits):
            return None
    return trees


class JavaWalk(WalkPlan):
    """The walk of one model: its arrays (as payload columns), the Java methods, and the rest model.

    ``body_model`` is ``model`` with every walked sum replaced by a placeholder input;
    ``placeholders`` maps those inputs' names to ``wa[j]``; ``leaf_slots`` maps each tree the
    body still reads to its index in ``wl``.
    """

    def __init__(self, model: Model, trees: list[TreeLeaf]) -> None:
        super().__init__(model, trees, kept_leaves=False)
        self.placeholders: dict[str, str] = {node.name: f"wa[{j}]" for node, j in self.sum_inputs.items()}
        self.has_extra_values = bool(self.extra_values)
        self.has_ops = bool(self.value_tables)
        self.columns: list[tuple[str, str, np.ndarray]] = []
        self._arrays()

    # ------------------------------------------------------------ arrays

    def _arrays(self) -> None:
        value_tables = self.value_tables
        extra_values = self.extra_values
        slot_code = integer_code(0, self.width - 1)
        self.slot_type = _TYPES[slot_code]
        add = self.columns.append
        add(("WT", "double", np.array(self.thresholds, dtype=">f8")))
        add(("WF", self.slot_type, np.array(self.feature_slots, dtype=_NUMPY_TYPES[slot_code])))
        add(("WC", "int", np.array(self.children, dtype=">i4")))
        add(("WROOT", "int", np.array(self.roots, dtype=">i4")))
        add(("WDEPTH", "int", np.array(self.depths, dtype=">i4")))
        add(("WINIT", "double", np.array(self.inits, dtype=">f8")))
        if self.n_leaf:
            add(("WLEAF", "int", np.array(self.leaves, dtype=">i4")))
            add(("WLEAFSLOT", "int", np.array([t.leaf_slot for t in self.trees], dtype=">i4")))
        if self.fused:
            if self.n_acc > 1:
                add(("WACC", "int", np.array([t.ops[0].acc for t in self.trees], dtype=">i4")))
        elif value_tables:
            add(("WOPSTART", "int", np.array(self.op_starts(), dtype=">i4")))
            add(("WOPACC", "int", np.array([acc for _, acc, _, _, _ in value_tables], dtype=">i4")))
            add(("WOPOFFSET", "int", np.array([offset for _, _, _, offset, _ in value_tables], dtype=">i4")))
            if extra_values:
                add(("WOPTABLE", "byte", np.array([table for _, _, table, _, _ in value_tables], dtype="i1")))
                add(("WV", "double", np.array(extra_values, dtype=">f8")))

    # ------------------------------------------------------------ Java

    def feature_methods(self, render_feature: Callable[[Node], str]) -> list[str]:
        """``features(in, f, o)`` filling one row's vector at ``f[o..o+width)``, split in small methods."""
        by_feature: dict[Node, list[tuple[int, int]]] = {}
        for (feature, kind), slot in self.slots.items():
            by_feature.setdefault(feature, []).append((kind, slot))
        spelled = {
            RAW: "x",
            LOW: "Double.isNaN(x) ? Double.NEGATIVE_INFINITY : x",
            ISNAN: "Double.isNaN(x) ? 0.0 : 1.0",
        }
        items = list(by_feature.items())
        groups = [items[i : i + FEATURES_PER_METHOD] for i in range(0, len(items), FEATURES_PER_METHOD)]
        methods = [
            "    /** One row's walk vector at f[o..]: slot 0 NaN, then per feature its value, NaN as -inf, ... */\n"
            "    private static void features(Input in, double[] f, int o) {\n"
            "        f[o] = Double.NaN;\n"
            + "".join(f"        features{i}(in, f, o);\n" for i in range(len(groups)))
            + "    }"
        ]
        for i, group in enumerate(groups):
            lines = [f"    private static void features{i}(Input in, double[] f, int o) {{", "        double x;"]
            for feature, kinds in group:
                text = render_feature(feature)
                # a float32 feature widens exactly (javac flags a cast of a double as redundant)
                lines.append(f"        x = {text};" if feature.dtype is DOUBLE else f"        x = (double) {text};")
                lines += [f"        f[o + {slot}] = {spelled[kind]};" for kind, slot in kinds]
            lines.append("    }")
            methods.append("\n".join(lines))
        return methods

    def walk_method(self) -> str:
        """``walk(rows, f, acc, leaf)``: every tree over the rows of a block, ``INTERLEAVE`` rows at a time."""
        w = self.width
        n_acc = self.n_acc
        lines = [
            f"    /** Walks every tree for rows 0..rows (<= {BLOCK_ROWS}), tree-major: row r's vector is f[r * {w}..],",
            f"     * its running totals acc[r * {n_acc}..], its leaves leaf[r * {self.n_leaf}..]. */",
            "    private static void walk(int rows, double[] f, double[] acc, int[] leaf, int[] node) {",
        ]
        lines.append("        for (int r = 0; r < rows; r++) {")
        if n_acc:
            lines.append(f"            System.arraycopy(WINIT, 0, acc, r * {n_acc}, {n_acc});")
        lines.append("        }")
        lines += [
            "        for (int k = 0; k < WROOT.length; k++) {",
            "            final int root = WROOT[k];",
            "            final int depth = WDEPTH[k];",
        ]
        if self.fused:
            lines.append("            final int a = WACC[k];" if n_acc > 1 else "            final int a = 0;")
        names = [f"n{i}" for i in range(INTERLEAVE)]
        lines += [
            "            int r = 0;",
            f"            for (; r + {INTERLEAVE} <= rows; r += {INTERLEAVE}) {{",
            f"                final int x = r * {w};",
            "                int " + ", ".join(f"{name} = root" for name in names) + ";",
            "                for (int d = 0; d < depth; d++) {",
        ]
        for i, name in enumerate(names):
            at = f"x + {i * w} + " if i else "x + "
            lines.append(f"                    {name} = WC[{name}] + (f[{at}WF[{name}]] <= WT[{name}] ? 0 : 1);")
        lines.append("                }")
        if self.fused:
            rows = ["r"] + [f"(r + {i})" for i in range(1, INTERLEAVE)]
            lines += [f"                acc[{row} * {n_acc} + a] += WT[{name}];" for row, name in zip(rows, names)]
        else:
            lines += [f"                node[r + {i}] = {name};" for i, name in enumerate(names)]
        lines += [
            "            }",
            "            for (; r < rows; r++) {",
            f"                final int x = r * {w};",
            "                int n0 = root;",
            "                for (int d = 0; d < depth; d++) {",
            "                    n0 = WC[n0] + (f[x + WF[n0]] <= WT[n0] ? 0 : 1);",
            "                }",
            f"                acc[r * {n_acc} + a] += WT[n0];" if self.fused else "                node[r] = n0;",
            "            }",
        ]
        if not self.fused:
            if self.has_ops:
                table = "WOPTABLE[o] != 0 ? WV : WT" if self.has_extra_values else "WT"
                lines += [
                    "            for (int o = WOPSTART[k]; o < WOPSTART[k + 1]; o++) {",
                    "                final int j = WOPACC[o];",
                    "                final int offset = WOPOFFSET[o];",
                    f"                final double[] values = {table};",
                    "                for (r = 0; r < rows; r++) {",
                    f"                    acc[r * {n_acc} + j] += values[offset + node[r]];",
                    "                }",
                    "            }",
                ]
            if self.n_leaf:
                lines += [
                    "            final int s = WLEAFSLOT[k];",
                    "            if (s >= 0) {",
                    "                for (r = 0; r < rows; r++) {",
                    f"                    leaf[r * {self.n_leaf} + s] = WLEAF[node[r]];",
                    "                }",
                    "            }",
                ]
        lines += ["        }", "    }"]
        return "\n".join(lines)
