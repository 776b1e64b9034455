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

Category sets (``in``/``notin``, numbers or strings): see ``_Bitsets``. Each tested feature's
row vector slot holds its *code* (found once per row by bisection among the values of every set
on that feature; missing and any other value get the two codes after them) and a set split is
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

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from emitters.c.literals import format_double, string_literal
from modelgen.ir import (
    DOUBLE,
    STRING,
    Binary,
    Const,
    Input,
    InputField,
    Lookup,
    Model,
    Node,
    Sum,
    TreeLeaf,
    topological_order,
)

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

RAW, LOW, ISNAN, CODE = range(4)
"""Kinds of row-vector slot per feature: the value, NaN as -inf, 0.0 / 1.0 for NaN / number, and
the category code (index among the feature's set values, then missing, then any other value)."""

ACC_PREFIX = "\x01modelgen walk sum "
"""Names of the stand-in inputs that replace walked sums in the model the scorer body prints."""


def applies(trees: list[TreeLeaf], n_hoisted: int) -> bool:
    """Can the walk route these trees (every one hoisted: its features computed from the inputs alone)?"""
    return n_hoisted == len(trees)


@dataclass
class _Op:
    """Add one term to running total ``acc`` after its tree is walked: a leaf value or a constant."""

    acc: int
    values: tuple[float, ...] | None
    """Per leaf of the tree; None for a constant."""
    constant: float = 0.0
    source: int = -1
    """-1: the tree just walked; else an earlier tree (index) whose leaf number was kept in ``leaf``."""


@dataclass
class _Tree:
    node: TreeLeaf
    ops: list[_Op] = field(default_factory=list)
    leaf_slot: int = -1


def _lookup_values(node: Node, walk_index: dict[TreeLeaf, int]) -> tuple[int, tuple[float, ...]] | float | None:
    """A Sum term: (tree index, per-leaf values) for a walkable lookup, a float for a constant, else None."""
    scale = None
    if isinstance(node, Binary) and node.op == "mul" and node.dtype is DOUBLE:
        a, b = node.a, node.b
        if isinstance(a, Const) and a.dtype is DOUBLE:
            scale, node = a.value, b
        elif isinstance(b, Const) and b.dtype is DOUBLE:
            scale, node = b.value, a
        else:
            return None
    if isinstance(node, Const) and node.dtype is DOUBLE:
        return float(node.value) * scale if scale is not None else float(node.value)  # type: ignore[arg-type]
    if not (isinstance(node, Lookup) and node.value_dtype is DOUBLE and isinstance(node.index, TreeLeaf)):
        return None
    tree = node.index
    values = node.values
    if len(values) < tree.n_leaves:
        return None
    if scale is not None:
        # the product the scorer would compute, once per leaf here (one IEEE rounding either way)
        values = tuple(float(v) * scale for v in values)  # type: ignore[arg-type]
    if not tree.splits:
        return float(values[0])  # type: ignore[arg-type]
    k = walk_index.get(tree)
    return None if k is None else (k, values)  # type: ignore[return-value]


def _flatten(node: Sum) -> tuple[list[Node], list[Sum]]:
    """The terms of a left fold ``Sum(Sum(a, b), c)`` as ``[a, b, c]``, and the nested sums."""
    chain: list[Sum] = []
    current: Node = node
    while isinstance(current, Sum) and current.dtype is DOUBLE:
        chain.append(current)
        current = current.terms[0]
    terms = [current]
    for inner in reversed(chain):
        terms.extend(inner.terms[1:])
    return terms, chain


class _Bitsets:
    """Category codes of the features that ``in``/``notin`` splits test, and each such split as a bitset.

    A tested feature gets a code slot in the row vector (assigned before any other slot): the
    index of the row's value among the sorted distinct values of every set on that feature, ``K``
    (their number) when missing, ``K + 1`` for any other value. A split is then the bitset of the
    codes that go left (one byte per 8 codes, shared when equal), so walking it is one bit test:
    membership is exact equality (numbers compare as doubles, -0.0 == 0.0; strings as strcmp),
    found once per row and feature by bisection, not once per split."""

    def __init__(self, trees: list[_Tree], slot: Callable[[Node, int], int]) -> None:
        unions: dict[Node, list[object]] = {}
        self._with_sets: dict[TreeLeaf, bool] = {}
        for tree in trees:
            features = tree.node.features
            for split in tree.node.splits:
                test = split[1]
                if test == "in" or test == "notin":
                    unions.setdefault(features[split[0]], []).extend(split[2])  # type: ignore[arg-type]
                    self._with_sets[tree.node] = True
        # per tested feature: its sorted distinct values, value -> code, slot, array name
        self.features: dict[Node, tuple[list[object], dict[object, int], int, str]] = {}
        for feature, values in unions.items():
            if feature.dtype is STRING:
                distinct: list[object] = sorted(set(map(str, values)), key=lambda v: v.encode("utf-8"))
            else:
                # NaN equals nothing (never a member); -0.0 and 0.0 are one value (equal doubles)
                distinct = sorted({float(v) for v in values if v == v})  # type: ignore[arg-type]
            codes = {v: i for i, v in enumerate(distinct)}
            self.features[feature] = (distinct, codes, slot(feature, CODE), f"mg_wcat{len(self.features)}")
        self.words: list[int] = []
        self._offsets: dict[bytes, int] = {}

    def has_sets(self, tree: TreeLeaf) -> bool:
        """Does this tree have a category-set split (and so need the general step)?"""
        return tree in self._with_sets

    def split(self, feature: Node, test: str, operand: tuple[object, ...], missing_left: bool) -> tuple[int, float]:
        """(code slot, bitset offset) of one set split."""
        distinct, codes, slot, _ = self.features[feature]
        n = len(distinct)
        is_string = feature.dtype is STRING
        members = {codes[str(v) if is_string else float(v)] for v in operand if v == v}  # type: ignore[arg-type]
        left = members if test == "in" else {*range(n), n + 1} - members
        if missing_left:
            left = left | {n}
        bits = bytearray((n + 2 + 7) // 8)
        for code in left:
            bits[code >> 3] |= 1 << (code & 7)
        key = bytes(bits)
        offset = self._offsets.get(key)
        if offset is None:
            offset = self._offsets[key] = len(self.words)
            self.words.extend(bits)
        return slot, float(offset)

    @property
    def n_code_slots(self) -> int:
        """Code slots are 1..n_code_slots of the row vector."""
        return len(self.features)

    def definitions(self) -> list[str]:
        """The bitsets, each tested feature's sorted values and the code functions in use."""
        out = [_array("static const unsigned char mg_wbits", [str(w) for w in self.words])]
        kinds = set()
        for feature, (distinct, _, _, name) in self.features.items():
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

    def fill(self, feature: Node, slot: int) -> str:
        """The statement setting the code slot from ``x`` (the feature's value)."""
        distinct, _, _, name = self.features[feature]
        function = "mg_wcode_s" if feature.dtype is STRING else "mg_wcode_d"
        return f"f[{slot}] = {function}(x, {name}, {len(distinct)});"


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


class WalkCode:
    """Walk-mode C for every tree of a plan, and the model the scorer body prints (sums replaced)."""

    def __init__(self, model: Model, trees: list[TreeLeaf], render_feature: Callable[[Node], str],
                 input_type: str) -> None:
        self.trees = [_Tree(t) for t in trees]
        index = {t: k for k, t in enumerate(trees)}
        self.inits: list[float] = []
        self.placeholders: dict[Node, str] = {}
        self.body_model = self._take_sums(model, index)
        self.n_acc = len(self.inits)
        remaining = {n for n in topological_order(self.body_model.roots) if isinstance(n, TreeLeaf) and n.splits}
        # trees whose lookups a sum adds after walking a later tree keep their leaf numbers too
        remaining.update(trees[op.source] for tree in self.trees for op in tree.ops if op.source >= 0)
        self.n_leaf = 0
        for node in sorted(remaining, key=lambda t: index[t]):
            self.trees[index[node]].leaf_slot = self.n_leaf
            self.n_leaf += 1
        self.slots: dict[tuple[Node, int], int] = {}
        self.definitions = self._arrays()
        self.definitions += [self._features(input_type, render_feature), self._walk()]

    # ------------------------------------------------------------ sums

    def _take_sums(self, model: Model, index: dict[TreeLeaf, int]) -> Model:
        """Recognise the walkable sums (outermost first) and return ``model`` with them replaced."""
        order = topological_order(model.roots)
        absorbed: set[Node] = set()
        uses: dict[Node, int] = {}
        for node in order:
            for child in node.children:
                uses[child] = uses.get(child, 0) + 1
        taken: dict[Node, Node] = {}
        names = {f.name for f in model.inputs}
        extra: list[InputField] = []
        for node in reversed(order):
            if not isinstance(node, Sum) or node.dtype is not DOUBLE or node in absorbed:
                continue
            terms, chain = _flatten(node)
            ops = self._sum_ops(terms, index)
            if ops is None:
                continue
            j = len(self.inits)
            init, per_tree = ops
            self.inits.append(init)
            for k, op in per_tree:
                op.acc = j
                self.trees[k].ops.append(op)
            # an inner sum read only by this chain is computed here; one read elsewhere too stays
            absorbed.update(inner for inner in chain[1:] if uses.get(inner, 0) == 1)
            name = f"{ACC_PREFIX}{j}"
            while name in names:
                name += "_"
            placeholder = Input(name, DOUBLE)
            extra.append(InputField(name, DOUBLE))
            taken[node] = placeholder
            self.placeholders[placeholder] = f"acc[{j}]"
        if not taken:
            return model
        replaced: dict[Node, Node] = {}
        for node in order:
            if node in taken:
                replaced[node] = taken[node]
                continue
            children = node.children
            rebuilt = tuple(replaced[c] for c in children)
            same = all(a is b for a, b in zip(children, rebuilt))
            replaced[node] = node if same else node.with_children(rebuilt)
        widened = Model(model.inputs + tuple(extra), model.outputs, model.checks, model.metadata)
        return widened.with_roots(tuple(replaced[r] for r in model.roots))

    def _sum_ops(self, terms: list[Node], index: dict[TreeLeaf, int]) -> tuple[float, list[tuple[int, _Op]]] | None:
        """(initial total, ops in order) for a walkable sum; None if some term is not walkable."""
        init = -0.0
        ops: list[tuple[int, _Op]] = []
        last = -1
        for term in terms:
            found = _lookup_values(term, index)
            if found is None:
                return None
            if isinstance(found, float):
                if last < 0:
                    init = init + found  # the same IEEE addition the fold starts with
                else:
                    ops.append((last, _Op(0, None, found)))
                continue
            k, values = found
            if k >= last:
                last = k
                ops.append((k, _Op(0, values)))
            else:
                # a tree walked before (interned: histogram boosting's classes repeat identical trees):
                # added after the latest tree so far, from its kept leaf, so the fold's order holds
                ops.append((last, _Op(0, values, source=k)))
        return (init, ops) if last >= 0 else None

    # ------------------------------------------------------------ arrays

    def _slot(self, feature: Node, kind: int) -> int:
        key = (feature, kind)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = len(self.slots) + 1  # slot 0 is the NaN every leaf reads
        return slot

    def _arrays(self) -> list[str]:
        # this loop runs once per node (a 1,000-tree forest has ~1M): plain lists, numbers formatted in bulk
        thresholds: list[float] = []
        slots: list[int] = []
        children: list[int] = []
        leaves: list[int] = []
        roots: list[int] = []
        depths: list[int] = []
        minus_inf = -math.inf
        nextafter = math.nextafter
        value_tables: list[tuple[int, int, int, int, int]] = []  # per op: (tree, acc, table, offset, leaf slot)
        extra_values: list[float] = []
        slot_cache: dict[tuple[Node, ...], list[list[int]]] = {}
        bitsets = _Bitsets(self.trees, self._slot)
        for k, tree in enumerate(self.trees):
            node = tree.node
            splits = node.splits
            base = len(thresholds)
            roots.append(base)
            features = node.features
            kinds = slot_cache.get(features)
            if kinds is None:
                kinds = slot_cache[features] = [[-1] * len(features) for _ in range(3)]
            lookups = [op for op in tree.ops if op.values is not None and op.source < 0]
            first = lookups[0] if lookups else None
            payload = first.values if first is not None else None
            refs = [0]
            level = [0]
            depth = 0
            position = 0
            while position < len(refs):
                ref = refs[position]
                if ref >= 0:
                    feature, test, threshold, missing_left, left, right = splits[ref]
                    kind = LOW if missing_left else RAW
                    if test == "in" or test == "notin":
                        slot, offset = bitsets.split(features[feature], test, threshold, missing_left)  # type: ignore[arg-type]
                        thresholds.append(offset)
                        slots.append(slot)
                        children.append(base + len(refs))
                        leaves.append(0)
                        refs.append(left)
                        refs.append(right)
                        below = level[position] + 1
                        level.append(below)
                        level.append(below)
                        position += 1
                        continue
                    if test == "lt":
                        if threshold == minus_inf:
                            kind = ISNAN if missing_left else -1  # -1: slot 0, always NaN, always right
                            threshold = 0.5 if missing_left else 0.0
                        else:
                            threshold = nextafter(threshold, minus_inf)  # type: ignore[arg-type]
                    if kind < 0:
                        slot = 0
                    else:
                        slot = kinds[kind][feature]
                        if slot < 0:
                            slot = kinds[kind][feature] = self._slot(features[feature], kind)
                    thresholds.append(threshold)  # type: ignore[arg-type]
                    slots.append(slot)
                    children.append(base + len(refs))
                    leaves.append(0)
                    refs.append(left)
                    refs.append(right)
                    below = level[position] + 1
                    level.append(below)
                    level.append(below)
                else:
                    leaf = -1 - ref
                    thresholds.append(payload[leaf] if payload is not None else 0.0)  # type: ignore[arg-type]
                    slots.append(0)
                    children.append(base + position - 1)
                    leaves.append(leaf)
                    if level[position] > depth:
                        depth = level[position]
                position += 1
            depths.append(depth)
            for op in tree.ops:
                if op is first:
                    value_tables.append((k, op.acc, 0, 0, -1))
                    continue
                start = len(extra_values)
                if op.source >= 0:
                    extra_values += op.values  # type: ignore[arg-type]  # by leaf number
                    value_tables.append((k, op.acc, 1, start, self.trees[op.source].leaf_slot))
                    continue
                if op.values is None:
                    extra_values += [op.constant] * len(refs)
                else:
                    values = op.values
                    extra_values += [values[-1 - ref] if ref < 0 else 0.0 for ref in refs]  # type: ignore[misc]
                value_tables.append((k, op.acc, 1, start - base, -1))
        self.n_nodes = len(thresholds)
        self.bitsets = bitsets
        width = len(self.slots) + 1
        slot_type = "unsigned char" if width <= 256 else "unsigned short" if width <= 65536 else "int"
        self.width = width
        self.fused = all(len(t.ops) == 1 and t.ops[0].values is not None and t.ops[0].source < 0
                         and t.leaf_slot < 0 for t in self.trees)
        self._kept_leaves = any(slot >= 0 for *_, slot in value_tables)
        self._value_tables = value_tables
        self._has_extra_values = bool(extra_values)
        n = self.n_nodes
        definitions = [
            f"/* Walk node arrays ({len(self.trees)} trees, {n} nodes): threshold (a leaf's value at a leaf),\n"
            " * row-vector slot (0 = always NaN at a leaf), first child (the right one is next;\n"
            " * a leaf: itself - 1). */",
            _array("static const double mg_wt", _doubles(thresholds)),
            _array(f"static const {slot_type} mg_wf", [str(s) for s in slots]),
            _array("static const int mg_wc", [str(c) for c in children]),
            _array("static const int mg_wroot", [str(r) for r in roots]),
            _array("static const int mg_wdepth", [str(d) for d in depths]),
        ]
        if bitsets.words:
            definitions += bitsets.definitions()
            definitions.append(_array("static const unsigned char mg_wsets",
                                      ["1" if bitsets.has_sets(t.node) else "0" for t in self.trees]))
        if self.n_leaf:
            definitions.append(_array("static const int mg_wleaf", [str(v) for v in leaves]))
            definitions.append(_array("static const int mg_wleafslot", [str(t.leaf_slot) for t in self.trees]))
        if extra_values:
            definitions.append(_array("static const double mg_wvalues", _doubles(extra_values)))
        if self.fused:
            if self.n_acc > 1:
                definitions.append(_array("static const int mg_wacc", [str(t.ops[0].acc) for t in self.trees]))
        else:
            starts = [0]
            for tree in self.trees:
                starts.append(starts[-1] + len(tree.ops))
            if value_tables:
                definitions += [
                    _array("static const int mg_wop_start", [str(s) for s in starts]),
                    _array("static const int mg_wop_acc", [str(acc) for _, acc, _, _, _ in value_tables]),
                    _array("static const long mg_wop_offset", [str(offset) for _, _, _, offset, _ in value_tables]),
                ]
                if extra_values:
                    definitions.append(_array("static const int mg_wop_table",
                                              [str(table) for _, _, table, _, _ in value_tables]))
                if self._kept_leaves:
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
        spelled = {RAW: "x", LOW: "isnan(x) ? (-INFINITY) : x", ISNAN: "isnan(x) ? 0.0 : 1.0"}
        for feature, kinds in by_feature.items():
            if feature.dtype is STRING:
                lines += ["    {", f"        const char *const x = {render_feature(feature)};"]
            else:
                lines += ["    {", f"        const double x = (double){render_feature(feature)};"]
            fill = self.bitsets.fill
            lines += ["        " + (fill(feature, slot) if kind == CODE else f"f[{slot}] = {spelled[kind]};")
                      for kind, slot in kinds]
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
        if self.bitsets.words:
            lines = [
                "/* One step in a tree with category-set splits: a code slot"
                f" (1..{self.bitsets.n_code_slots}) tests the node's bitset\n * (at mg_wbits + its threshold),"
                " any other slot compares as in the other trees. */",
                "static size_t mg_wstep(size_t n, const double *x)",
                "{",
                "    const unsigned slot = mg_wf[n];",
                f"    if (slot - 1u < {self.bitsets.n_code_slots}u) {{",
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
            if self._value_tables:
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
        if self.bitsets.words:
            general = "mg_wstep({n}, x{plus})"
            lines.append("        if (mg_wsets[k]) {")
            lines += ["    " + line for line in self._row_loops(general)]
            lines.append("        } else {")
            lines += ["    " + line for line in self._row_loops(fast)]
            lines.append("        }")
        else:
            lines += self._row_loops(fast)
        if not self.fused:
            if self._value_tables:
                lines += [
                    "        for (o = mg_wop_start[k]; o < mg_wop_start[k + 1]; o++) {",
                    "            const int j = mg_wop_acc[o];",
                    "            const long offset = mg_wop_offset[o];",
                    "            const double *values = mg_wop_table[o] ? mg_wvalues : mg_wt;"
                    if self._has_extra_values else "            const double *values = mg_wt;",
                ]
                if self._kept_leaves:
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
