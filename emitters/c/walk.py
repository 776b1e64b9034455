"""The ``walk`` tree mode: branchless fixed-length walks over node arrays, several rows per tree at once.

It applies when every routed tree is hoisted (its features computed from the inputs alone),
whatever its splits; ``auto`` then picks it. Measured with ``benchmarks/trees.py`` on hgb500
(500 depth-8 trees, 20 features, 5% NaN, 200k rows, one run on a loaded 2-core machine): walk 6.7 us/row,
if/else 16.8, table 36.0, scikit-learn 41.1 (6.1x); unloaded, a prototype of this loop took
2.9 us/row of CPU against scikit-learn's ~21.

Node arrays (structure of arrays, so every load is one scaled index): ``mg_wt`` (double),
``mg_wf`` (feature slot) and ``mg_wc`` (first child). A tree's nodes are laid out breadth
first so the two children of a split are adjacent: a step is

    n = mg_wc[n] + !(x[mg_wf[n]] <= mg_wt[n]);

with no branch. A leaf loops on itself: its feature slot is slot 0 of the row vector, which
always holds NaN, so the comparison is false and ``mg_wc = self - 1`` brings it back. Every
tree then walks exactly its depth in steps with no exit test, and a leaf's ``mg_wt`` is free to
hold a payload: the leaf's value for the first sum that adds the tree.

Missing values need no second test: the row vector holds each feature (``raw``, NaN stays NaN
and compares false, so it goes right) and, for missing-goes-left splits, a copy with NaN
replaced by -inf (``low``: -inf <= t for every non-NaN t, so it goes left; a real -inf goes
left as well, which ``le``/``lt`` with t > -inf want). ``lt t`` becomes ``le nextafter(t, -inf)``
(identical for every non-NaN x, t = +inf included). ``lt -inf`` is never true for a number:
missing-right it reads slot 0 (always right); missing-left it reads a third copy, ``isnan``
(0.0 for NaN, 1.0 otherwise) against 0.5, as -inf and NaN must part there.

Category sets (``in``/``notin``, numbers or strings): see ``CategoryCodes`` in
``emitters/common/walk.py``. Each tested feature's row vector slot holds its *code* (found once
per row by bisection among the values of every set on that feature; missing and any other value
get the two codes after them) and a set split is
the bitset of the codes going left, its offset in the node's ``mg_wt``. Trees with set splits
walk with ``mg_wstep`` (a branch on the slot: code slots come first) and trees without with the
branchless step above, so a model of mostly numeric trees (histogram boosting with categorical
features) walks those at full speed, and every tree, set or not, stays in the one walk, in the
sums' order. Measured (HistGradientBoostingRegressor, 300 depth-8 trees, 292 with set splits, 3
categorical features of 30 codes and 10 numeric, 200k rows, CPU time, load ~2.8 on 2 cores):
walk 5.5 us/row, if/else 10.8, table 19.2, scikit-learn 17.6; all bit-identical to scikit-learn.

Sums: an ordered ``Sum`` (also nested left folds ``Sum(Sum(...), ...)``) whose terms are
double constants and ``Lookup(tree, values)`` (or such a lookup times a double constant,
folded into the values: IEEE multiplication in Python and C give the same double) of walk
trees is computed in the walk itself: a running total per row starts at -0.0
(the identity of IEEE addition: -0.0 + x is x for every x, -0.0 included) and adds each term
in the Sum's order, so the same additions happen in the same order as the left fold (a term
whose tree was walked before the previous term's, e.g. one interned tree used twice, is added
after the latest tree so far, from that earlier tree's leaf number kept in ``leaf[]``). The rest
of the model reads the total where the Sum was (``acc[j]``); trees still read elsewhere get
their leaf number in ``leaf[]`` as in the other modes.
"""

from __future__ import annotations

from collections.abc import Callable

from emitters.c.literals import format_double, string_literal
from emitters.common.walk import CODE, ISNAN, LOW, RAW, CategoryCodes, WalkPlan
from modelgen.ir import STRING, Model, Node, TreeLeaf

INTERLEAVE = 16
"""Rows walked together through one tree: independent load chains the CPU overlaps.

Measured on hgb500 (us/row, block of 64 rows): 4 rows 5.5, 8 rows 3.5, 16 rows 2.9."""

BLOCK_ROWS = 256
"""Rows per block of ``NAME_score_batch`` in walk mode: every tree walks them all before the next
tree, so its nodes are fetched once per block (the row vectors, tens of KB, stay in L2).

Measured (user CPU, best / median of 6 interleaved runs, 20k rows, load ~3 on 2 cores): a
1,000-tree depth-12 forest (~12 MB of node arrays) 64 rows 11.0 / 12.8 us/row, 128 10.3 / 11.6,
256 10.6 / 11.6, 512 11.7 / 12.0, 1,024 10.6 / 12.3; 500 full depth-8 trees (~3 MB) 64 rows
3.62 / 3.64, 256 3.45 / 3.51, 512 3.41 / 3.45, 1,024 3.65 / 3.85."""

def applies(trees: list[TreeLeaf], n_hoisted: int) -> bool:
    """Can the walk route these trees (every one hoisted: its features computed from the inputs alone)?"""
    return n_hoisted == len(trees)


def _category_names(categories: CategoryCodes) -> dict[Node, str]:
    """The C array of each tested feature's sorted values."""
    return {feature: f"mg_wcat{i}" for i, feature in enumerate(categories.features)}


def _category_definitions(categories: CategoryCodes) -> list[str]:
    """The bitsets, each tested feature's sorted values and the code functions in use."""
    out = [_array("static const unsigned char mg_wbits", [str(w) for w in categories.words])]
    kinds = set()
    names = _category_names(categories)
    for feature, (distinct, _, _) in categories.features.items():
        name = names[feature]
        if feature.dtype is STRING:
            kinds.add("s")
            items = [string_literal(str(v), "category") for v in distinct]
            out.append(_array(f"static const char *const {name}", items or ["NULL"]))
        else:
            kinds.add("d")
            out.append(_array(f"static const double {name}", _doubles(distinct) or ["0.0"]))  # type: ignore[arg-type]
    if "d" in kinds:
        out.append(_CODE_FUNCTIONS["d"])
    if "s" in kinds:
        out.append(_CODE_FUNCTIONS["s"])
    return out


def _category_fill(categories: CategoryCodes, names: dict[Node, str], feature: Node, slot: int) -> str:
    """The statement setting the code slot from ``x`` (the feature's value)."""
    distinct = categories.features[feature][0]
    function = "mg_wcode_s" if feature.dtype is STRING else "mg_wcode_d"
    return f"f[{slot}] = {function}(x, {names[feature]}, {len(distinct)});"


_CODE_FUNCTIONS = {
    "d": """\
/* A number's category code: its index in the sorted values (bisection), n when NaN, n + 1 when none equals it. */
static double mg_wcode_d(double x, const double *values, int n)
{
    int low = 0;
    int high = n;
    if (isnan(x)) {
        return (double)n;
    }
    while (low < high) {
        const int middle = low + (high - low) / 2;
        if (values[middle] < x) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return (double)(low < n && values[low] == x ? low : n + 1);
}""",
    "s": """\
/* A string's category code: its index in the values sorted by strcmp, n when NULL, n + 1 when none equals it. */
static double mg_wcode_s(const char *x, const char *const *values, int n)
{
    int low = 0;
    int high = n;
    if (x == NULL) {
        return (double)n;
    }
    while (low < high) {
        const int middle = low + (high - low) / 2;
        if (strcmp(values[middle], x) < 0) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return (double)(low < n && strcmp(values[low], x) == 0 ? low : n + 1);
}""",
}


class WalkCode(WalkPlan):
    """Walk-mode C for every tree of a plan (the layout: ``WalkPlan``), and the model the scorer body
    prints (``body_model``: sums replaced by inputs that ``placeholders`` renders as ``acc[j]``)."""

    def __init__(self, model: Model, trees: list[TreeLeaf], render_feature: Callable[[Node], str],
                 input_type: str) -> None:
        super().__init__(model, trees, kept_leaves=True)
        self.placeholders: dict[Node, str] = {node: f"acc[{j}]" for node, j in self.sum_inputs.items()}
        self.definitions = self._arrays()
        self.definitions += [self._features(input_type, render_feature), self._walk()]

    # ------------------------------------------------------------ arrays

    def _arrays(self) -> list[str]:
        bitsets = self.categories
        value_tables = self.value_tables
        extra_values = self.extra_values
        width = self.width
        slot_type = "unsigned char" if width <= 256 else "unsigned short" if width <= 65536 else "int"
        n = self.n_nodes
        definitions = [
            f"/* Walk node arrays ({len(self.trees)} trees, {n} nodes): threshold (a leaf's value at a leaf),\n"
            " * row-vector slot (0 = always NaN at a leaf), first child (the right one is next;\n"
            " * a leaf: itself - 1). */",
            _array("static const double mg_wt", _doubles(self.thresholds)),
            _array(f"static const {slot_type} mg_wf", [str(s) for s in self.feature_slots]),
            _array("static const int mg_wc", [str(c) for c in self.children]),
            _array("static const int mg_wroot", [str(r) for r in self.roots]),
            _array("static const int mg_wdepth", [str(d) for d in self.depths]),
        ]
        if bitsets.words:
            definitions += _category_definitions(bitsets)
            definitions.append(_array("static const unsigned char mg_wsets",
                                      ["1" if bitsets.has_sets(t.node) else "0" for t in self.trees]))
        if self.n_leaf:
            definitions.append(_array("static const int mg_wleaf", [str(v) for v in self.leaves]))
            definitions.append(_array("static const int mg_wleafslot", [str(t.leaf_slot) for t in self.trees]))
        if extra_values:
            definitions.append(_array("static const double mg_wvalues", _doubles(extra_values)))
        if self.fused:
            if self.n_acc > 1:
                definitions.append(_array("static const int mg_wacc", [str(t.ops[0].acc) for t in self.trees]))
        else:
            starts = self.op_starts()
            if value_tables:
                definitions += [
                    _array("static const int mg_wop_start", [str(s) for s in starts]),
                    _array("static const int mg_wop_acc", [str(acc) for _, acc, _, _, _ in value_tables]),
                    _array("static const long mg_wop_offset", [str(offset) for _, _, _, offset, _ in value_tables]),
                ]
                if extra_values:
                    definitions.append(_array("static const int mg_wop_table",
                                              [str(table) for _, _, table, _, _ in value_tables]))
                if self.kept_leaves:
                    definitions.append(_array("static const int mg_wop_leaf",
                                              [str(slot) for *_, slot in value_tables]))
        return definitions

    # ------------------------------------------------------------ functions

    def _features(self, input_type: str, render_feature: Callable[[Node], str]) -> str:
        lines = [
            "/* One row's walk vector: slot 0 NaN, category codes, then per feature its value, NaN as -inf,",
            " * 0.0/1.0 for NaN/number. */",
            f"static void mg_features(const {input_type} *in, double *f, const char **s)",
            "{",
            "    (void)s;",
            "    f[0] = NAN;",
        ]
        by_feature: dict[Node, list[tuple[int, int]]] = {}
        for (feature, kind), slot in self.slots.items():
            by_feature.setdefault(feature, []).append((kind, slot))
        names = _category_names(self.categories)
        spelled = {RAW: "x", LOW: "isnan(x) ? (-INFINITY) : x", ISNAN: "isnan(x) ? 0.0 : 1.0"}
        for feature, kinds in by_feature.items():
            if feature.dtype is STRING:
                lines += ["    {", f"        const char *const x = {render_feature(feature)};"]
            else:
                lines += ["    {", f"        const double x = (double){render_feature(feature)};"]
            codes = self.categories
            lines += ["        " + (_category_fill(codes, names, feature, slot) if kind == CODE
                                    else f"f[{slot}] = {spelled[kind]};") for kind, slot in kinds]
            lines.append("    }")
        lines.append("}")
        return "\n".join(lines)

    def _walk(self) -> str:
        w = self.width
        n_acc = self.n_acc
        lines = [
            f"/* Walk every tree for rows[0..rows) (rows <= {BLOCK_ROWS}), tree-major, {INTERLEAVE} rows at a time:",
            f" * row r's walk vector is f + r * {w}; its running totals acc + r * {n_acc}"
            + (f", its leaves leaf + r * {self.n_leaf}" if self.n_leaf else "") + ". */",
            "static void mg_walk(size_t rows, const double *f, int *leaf, double *acc)",
            "{",
            "    size_t r;",
            "    int k;",
        ]
        if self.categories.words:
            lines = [
                "/* One step in a tree with category-set splits: a code slot"
                f" (1..{self.categories.n_code_slots}) tests the node's bitset\n * (at mg_wbits + its threshold),"
                " any other slot compares as in the other trees. */",
                "static size_t mg_wstep(size_t n, const double *x)",
                "{",
                "    const unsigned slot = mg_wf[n];",
                f"    if (slot - 1u < {self.categories.n_code_slots}u) {{",
                "        const unsigned code = (unsigned)x[slot];",
                "        return (size_t)mg_wc[n] + !((mg_wbits[(size_t)mg_wt[n] + (code >> 3)] >> (code & 7)) & 1);",
                "    }",
                "    return (size_t)mg_wc[n] + !(x[slot] <= mg_wt[n]);",
                "}",
                "",
                *lines,
            ]
        if not self.fused:
            lines.append(f"    int node[{BLOCK_ROWS}];")
            if self.value_tables:
                lines.append("    int o;")
        if not self.n_leaf:
            lines.append("    (void)leaf;")
        if not n_acc:
            lines.append("    (void)acc;")
        else:
            lines.append("    for (r = 0; r < rows; r++) {")
            lines += [f"        acc[r * {n_acc} + {j}] = {format_double(init)};" for j, init in enumerate(self.inits)]
            lines.append("    }")
        lines += [
            f"    for (k = 0; k < {len(self.trees)}; k++) {{",
            "        const size_t root = (size_t)mg_wroot[k];",
            "        const int depth = mg_wdepth[k];",
            "        int d;",
        ]
        if self.fused:
            where = "mg_wacc[k]" if n_acc > 1 else "0"
            lines.append(f"        double *const a = acc + {where};")
        fast = "(size_t)mg_wc[{n}] + !(x[{offset}mg_wf[{n}]] <= mg_wt[{n}])"
        if self.categories.words:
            general = "mg_wstep({n}, x{plus})"
            lines.append("        if (mg_wsets[k]) {")
            lines += ["    " + line for line in self._row_loops(general)]
            lines.append("        } else {")
            lines += ["    " + line for line in self._row_loops(fast)]
            lines.append("        }")
        else:
            lines += self._row_loops(fast)
        if not self.fused:
            if self.value_tables:
                lines += [
                    "        for (o = mg_wop_start[k]; o < mg_wop_start[k + 1]; o++) {",
                    "            const int j = mg_wop_acc[o];",
                    "            const long offset = mg_wop_offset[o];",
                    "            const double *values = mg_wop_table[o] ? mg_wvalues : mg_wt;"
                    if self.extra_values else "            const double *values = mg_wt;",
                ]
                if self.kept_leaves:
                    lines += [
                        "            if (mg_wop_leaf[o] >= 0) { /* an earlier tree's kept leaf number */",
                        "                const int *kept = leaf + mg_wop_leaf[o];",
                        "                for (r = 0; r < rows; r++) {",
                        f"                    acc[r * {n_acc} + j] += values[offset + kept[r * {self.n_leaf}]];",
                        "                }",
                        "                continue;",
                        "            }",
                    ]
                lines += [
                    "            for (r = 0; r < rows; r++) {",
                    f"                acc[r * {n_acc} + j] += values[offset + node[r]];",
                    "            }",
                    "        }",
                ]
            if self.n_leaf:
                lines += [
                    "        if (mg_wleafslot[k] >= 0) {",
                    "            for (r = 0; r < rows; r++) {",
                    f"                leaf[r * {self.n_leaf} + mg_wleafslot[k]] = mg_wleaf[node[r]];",
                    "            }",
                    "        }",
                ]
        lines += ["    }", "}"]
        return "\n".join(lines)


    def _row_loops(self, step: str) -> list[str]:
        """The block's rows through tree k: INTERLEAVE at a time, then one by one; ``step`` is the next
        node of ``{n}`` for the row at ``x`` (``{offset}``/``{plus}``: that row's offset from x)."""
        w = self.width
        n_acc = self.n_acc
        names = [f"n{i}" for i in range(INTERLEAVE)]
        lines = [
            f"        for (r = 0; r + {INTERLEAVE} <= rows; r += {INTERLEAVE}) {{",
            f"            const double *x = f + r * {w};",
            "            size_t " + ", ".join(f"{name} = root" for name in names) + ";",
            "            for (d = 0; d < depth; d++) {",
        ]
        lines += [f"                {name} = "
                  + step.format(n=name, offset=f"{i * w} + " if i else "", plus=f" + {i * w}" if i else "") + ";"
                  for i, name in enumerate(names)]
        lines.append("            }")
        if self.fused:
            lines += [f"            a[(r + {i}) * {n_acc}] += mg_wt[{name}];" for i, name in enumerate(names)]
        else:
            lines += [f"            node[r + {i}] = (int){name};" for i, name in enumerate(names)]
        return [
            *lines,
            "        }",
            "        for (; r < rows; r++) {",
            f"            const double *x = f + r * {w};",
            "            size_t n0 = root;",
            "            for (d = 0; d < depth; d++) {",
            "                n0 = " + step.format(n="n0", offset="", plus="") + ";",
            "            }",
            f"            a[r * {n_acc}] += mg_wt[n0];" if self.fused else "            node[r] = (int)n0;",
            "        }",
        ]


_SPECIAL = {"nan": "NAN", "inf": "INFINITY", "-inf": "-INFINITY"}


def _doubles(values: list[float]) -> list[str]:
    """Initialiser texts with exactly these bits: repr is the shortest round trip (a C literal
    parses to the same double), except for NaN and the infinities. A bare minus is fine here
    (not inside an expression, unlike ``format_double``'s texts)."""
    special = _SPECIAL
    return [special.get(t, t) for t in map(repr, map(float, values))]


def _array(declaration: str, items: list[str]) -> str:
    # compact (no spaces, 32 a line): gcc's time on a big table is mostly lexing it
    body = ",\n".join(",".join(items[i : i + 32]) for i in range(0, len(items), 32))
    return f"{declaration}[{len(items)}] = {{\n{body}\n}};"
