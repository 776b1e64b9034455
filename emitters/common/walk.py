"""The target-independent plan of the ``walk`` tree mode: which sums are walked, and the node layout.

The C and Java targets (``emitters/c/walk.py``, ``emitters/java/walk.py``: the proofs and the
measurements are there) walk trees the same way and print this plan, each in its own text:

- trees in walk order, their nodes breadth first (a split's two children adjacent, the left
  first) in structure-of-arrays columns: ``thresholds`` (a leaf's holds its value for the first
  sum adding the tree), ``feature_slots`` (0 at a leaf: the row-vector slot that always holds
  NaN), ``children`` (a split's left child; a leaf's own index - 1, so it loops on itself),
  ``leaves`` (a leaf's number), and per tree ``roots`` and ``depths``;
- the row-vector slot table ``slots``: (feature, kind) -> slot, slot 0 the NaN, the category
  codes first (``CategoryCodes``), then per feature in first-use order its value (``RAW``), NaN
  as -inf (``LOW``) and 0.0 / 1.0 for NaN / number (``ISNAN``); ``lt t`` is laid out as
  ``le nextafter(t, -inf)``, ``lt -inf`` as slot 0 (missing right) or ``ISNAN`` against 0.5;
- the walked sums: per tree its ops (``Op``) in the left fold's order, the initial totals
  ``inits``, and ``body_model``, the model with each walked sum replaced by a placeholder input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from modelgen.ir import DOUBLE, STRING, Binary, Const, Input, InputField, Lookup, Model, Node, Sum, TreeLeaf
from modelgen.ir.traversal import topological_order

RAW, LOW, ISNAN, CODE = range(4)
NAN_KIND = -1
"""Slot kind of a ``lt -inf`` split whose missing values go right: the slot always holding NaN."""


def threshold_slot(test: str, threshold: float, missing_left: bool) -> tuple[int, float]:
    """A ``le``/``lt`` split as (slot kind, threshold) of the walk's test ``x[slot] > threshold``
    (right when TRUE): ``lt t`` is ``le nextafter(t, -inf)``; ``lt -inf`` is never TRUE for a
    number, so missing-right reads the NaN slot and missing-left the ``ISNAN`` slot against 0.5."""
    if test == "lt":
        if threshold == -math.inf:
            return (ISNAN, 0.5) if missing_left else (NAN_KIND, 0.0)
        threshold = math.nextafter(threshold, -math.inf)
    return (LOW if missing_left else RAW), threshold
"""Kinds of row-vector slot per feature: the value, NaN as -inf, 0.0 / 1.0 for NaN / number, and
the category code (index among the feature's set values, then missing, then any other value)."""

PLACEHOLDER_PREFIX = "\x01modelgen walk sum "
"""Names of the stand-in inputs that replace walked sums in the model the scorer body prints."""


@dataclass
class Op:
    """Add one term to running total ``acc`` after its tree is walked: a leaf value or a constant."""

    acc: int
    values: tuple[float, ...] | None
    """Per leaf of the tree; None for a constant."""
    constant: float = 0.0
    source: int = -1
    """-1: the tree just walked; else an earlier tree (index) whose leaf number was kept."""


@dataclass
class WalkTree:
    """One walked tree: its ops in order, and its slot among the kept leaf numbers (-1: none)."""

    node: TreeLeaf
    ops: list[Op] = field(default_factory=list)
    leaf_slot: int = -1


def lookup_values(node: Node, walk_index: dict[TreeLeaf, int]) -> tuple[int, tuple[float, ...]] | float | None:
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


def flatten(node: Sum) -> tuple[list[Node], list[Sum]]:
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


class CategoryCodes:
    """Category codes of the features that ``in``/``notin`` splits test, and each such split as a bitset.

    A tested feature gets a code slot in the row vector (assigned before any other slot): the
    index of the row's value among the sorted distinct values of every set on that feature, ``K``
    (their number) when missing, ``K + 1`` for any other value. A split is then the bitset of the
    codes that go left (one byte per 8 codes, shared when equal), so walking it is one bit test:
    membership is exact equality (numbers compare as doubles, -0.0 == 0.0; strings by their UTF-8
    bytes, strcmp's order), found once per row and feature by bisection, not once per split."""

    def __init__(self, trees: list[WalkTree], plan: WalkPlan) -> None:
        unions: dict[Node, list[object]] = {}
        self._with_sets: dict[TreeLeaf, bool] = {}
        for tree in trees:
            features = tree.node.features
            for split in tree.node.splits:
                test = split[1]
                if test == "in" or test == "notin":
                    unions.setdefault(features[split[0]], []).extend(split[2])  # type: ignore[arg-type]
                    self._with_sets[tree.node] = True
        self.features: dict[Node, tuple[list[object], dict[object, int], int]] = {}
        """Per tested feature (first-use order): its sorted distinct values, value -> code, code slot."""
        for feature, values in unions.items():
            if feature.dtype is STRING:
                distinct: list[object] = sorted(set(map(str, values)), key=lambda v: v.encode("utf-8"))
            else:
                # NaN equals nothing (never a member); -0.0 and 0.0 are one value (equal doubles)
                distinct = sorted({float(v) for v in values if v == v})  # type: ignore[arg-type]
            codes = {v: i for i, v in enumerate(distinct)}
            self.features[feature] = (distinct, codes, plan.slot(feature, CODE))
        self.words: list[int] = []
        """Every distinct bitset, concatenated (bytes)."""
        self._offsets: dict[bytes, int] = {}

    def has_sets(self, tree: TreeLeaf) -> bool:
        """Does this tree have a category-set split (and so need the general step)?"""
        return tree in self._with_sets

    def split(self, feature: Node, test: str, operand: tuple[object, ...], missing_left: bool) -> tuple[int, float]:
        """(code slot, bitset offset) of one set split."""
        distinct, codes, slot = self.features[feature]
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


class WalkPlan:
    """The walk of ``trees`` (walk order) in ``model``: walked sums, kept leaves, slots and node columns.

    ``kept_leaves``: may a sum add a tree walked before the latest one (``Op.source``, from that
    tree's kept leaf number)? Without it such a sum is not walked.

    ``value_tables`` has one entry per op, tree by tree: (tree, acc, table, offset, kept leaf slot);
    table 0 is ``thresholds`` (the first lookup op of a tree, at its own nodes: offset 0), table 1
    is ``extra_values`` (indexed by node - offset, or by kept leaf number when the slot is >= 0).
    """

    def __init__(self, model: Model, trees: list[TreeLeaf], *, kept_leaves: bool) -> None:
        self.trees = [WalkTree(t) for t in trees]
        index = {t: k for k, t in enumerate(trees)}
        self._kept_leaves_allowed = kept_leaves
        self.inits: list[float] = []
        self.sum_inputs: dict[Input, int] = {}
        """Placeholder input -> index of the running total it stands for."""
        self.body_model = self._take_sums(model, index)
        self.n_acc = len(self.inits)
        remaining = {n for n in topological_order(self.body_model.roots) if isinstance(n, TreeLeaf) and n.splits}
        # trees whose lookups a sum adds after walking a later tree keep their leaf numbers too
        remaining.update(trees[op.source] for tree in self.trees for op in tree.ops if op.source >= 0)
        self.leaf_slots: dict[TreeLeaf, int] = {}
        for node in sorted(remaining, key=lambda t: index[t]):
            self.trees[index[node]].leaf_slot = self.leaf_slots[node] = len(self.leaf_slots)
        self.n_leaf = len(self.leaf_slots)
        self.slots: dict[tuple[Node, int], int] = {}
        self.categories = CategoryCodes(self.trees, self)
        self._layout()

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
            terms, chain = flatten(node)
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
            name = f"{PLACEHOLDER_PREFIX}{j}"
            while name in names:
                name += "_"
            placeholder = Input(name, DOUBLE)
            extra.append(InputField(name, DOUBLE))
            taken[node] = placeholder
            self.sum_inputs[placeholder] = j
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

    def _sum_ops(self, terms: list[Node], index: dict[TreeLeaf, int]) -> tuple[float, list[tuple[int, Op]]] | None:
        """(initial total, ops in order) for a walkable sum; None if some term is not walkable."""
        init = -0.0
        ops: list[tuple[int, Op]] = []
        last = -1
        for term in terms:
            found = lookup_values(term, index)
            if found is None:
                return None
            if isinstance(found, float):
                if last < 0:
                    init = init + found  # the same IEEE addition the fold starts with
                else:
                    ops.append((last, Op(0, None, found)))
                continue
            k, values = found
            if not self._kept_leaves_allowed:
                if k <= last:
                    return None  # trees out of walk order (or one tree twice): the fold's order could not be kept
                last = k
                ops.append((k, Op(0, values)))
            elif k >= last:
                last = k
                ops.append((k, Op(0, values)))
            else:
                # a tree walked before (interned: histogram boosting's classes repeat identical trees):
                # added after the latest tree so far, from its kept leaf, so the fold's order holds
                ops.append((last, Op(0, values, source=k)))
        return (init, ops) if last >= 0 else None

    # ------------------------------------------------------------ layout

    def slot(self, feature: Node, kind: int) -> int:
        """The row-vector slot of ``feature`` as ``kind``, assigned on first use."""
        key = (feature, kind)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = len(self.slots) + 1  # slot 0 is the NaN every leaf reads
        return slot

    def _layout(self) -> None:
        # this loop runs once per node (a 1,000-tree forest has ~1M): plain lists
        thresholds: list[float] = []
        slots: list[int] = []
        children: list[int] = []
        leaves: list[int] = []
        roots: list[int] = []
        depths: list[int] = []
        value_tables: list[tuple[int, int, int, int, int]] = []
        extra_values: list[float] = []
        slot_cache: dict[tuple[Node, ...], list[list[int]]] = {}
        categories = self.categories
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
                    if test == "in" or test == "notin":
                        slot, offset = categories.split(features[feature], test, threshold, missing_left)  # type: ignore[arg-type]
                        thresholds.append(offset)
                    else:
                        kind, threshold = threshold_slot(test, threshold, missing_left)  # type: ignore[arg-type]
                        if kind == NAN_KIND:
                            slot = 0
                        else:
                            slot = kinds[kind][feature]
                            if slot < 0:
                                slot = kinds[kind][feature] = self.slot(features[feature], kind)
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
        self.thresholds = thresholds
        self.feature_slots = slots
        self.children = children
        self.leaves = leaves
        self.roots = roots
        self.depths = depths
        self.value_tables = value_tables
        self.extra_values = extra_values
        self.n_nodes = len(thresholds)
        self.width = len(self.slots) + 1
        """Row-vector length: slot 0 and every assigned slot."""
        self.fused = all(len(t.ops) == 1 and t.ops[0].values is not None and t.ops[0].source < 0
                         and t.leaf_slot < 0 for t in self.trees)
        """Every tree adds its leaf value (its ``thresholds`` at the leaf) to one total and nothing else."""
        self.kept_leaves = any(slot >= 0 for *_, slot in value_tables)
        """Does some op read an earlier tree's kept leaf number?"""

    def op_starts(self) -> list[int]:
        """Per tree, the index of its first entry in ``value_tables``, and the total at the end."""
        starts = [0]
        for tree in self.trees:
            starts.append(starts[-1] + len(tree.ops))
        return starts
