"""Decision trees (``TreeLeaf``) in C: one routing function per tree, or node tables and one loop.

Every tree is routed from a *feature vector*: the values of its ``features`` tuple, numeric ones
as ``double`` (float32 widens exactly, so comparing in double is the IR's comparison) and
string ones as ``const char *`` (NULL = missing). Trees whose features are small expressions of
the inputs alone are *hoisted*: the scorer fills their vectors once per row (``mg_features``),
routes every hoisted tree into ``leaf[k]`` and then evaluates the rest of the model, where the
``TreeLeaf`` reads ``leaf[k]``. That split is what lets ``NAME_score_batch`` route tree-major
over a block of rows. A tree whose features depend on other computed values (stacking on
another tree, a big shared subexpression) is routed where it is used, from a compound literal.

Three modes print the routing (``c_tree_mode`` in ``EmitOptions.extra``): ``auto`` picks ``walk``
whenever it applies (every tree hoisted; category sets included), else ``ifelse`` or ``table`` by size.
A model with one unhoisted tree does not walk at all: such a tree reads values computed after
the walk, and a sum mixing it with walked trees would need the walk split around it.

- ``walk``: branchless node-array walks, several rows per tree at once, and ensemble sums
  accumulated in the walk; see ``emitters.c.walk``. The fastest mode by far (hgb500: ~2.5x if/else).

- ``ifelse``: ``static int mg_treeK(const double *f, const char *const *s)`` per tree, a guarded
  ``if (side) { ...; return leaf; }`` per split followed by the other side, so there is no
  ``else`` and no nesting for a path: the smaller subtree is the one nested, which bounds the
  nesting depth by log2(leaves) (a 10,000-deep path tree is 10,000 flat ``if``s, not 10,000
  nested blocks that would overflow gcc's parser).
- ``table``: one ``static const mg_node mg_nodes[]`` array for every tree (threshold, feature
  slot, children, kind) and one loop ``mg_route``. The code is a few lines whatever the model
  size, so gcc spends its time only on the initialisers.

Missing values with a single comparison: for ``le`` going left on NaN is ``!(x > t)`` (true
for NaN and for ``x <= t``), going right on NaN is ``x <= t`` false for NaN; ``lt`` likewise
with ``>=``. gcc keeps these IEEE-exact (no ``-ffinite-math-only``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from emitters.c import walk
from emitters.c.literals import format_double, string_literal
from emitters.common.trees import inline_from_inputs
from modelgen.errors import ModelgenError
from modelgen.ir import STRING, Model, Node, Split, TreeLeaf, topological_order

TREE_MODES: tuple[str, ...] = ("auto", "ifelse", "table", "walk")
"""Values of the ``c_tree_mode`` option."""

IFELSE_MAX_SPLITS = 10_000
"""``auto`` prints if/else code up to this many splits over all trees, node tables above.

Measured (gcc 12 -O2, user CPU on a shared 2-core machine): if/else compiles ~3k splits/s and
grows to ~1 GB of gcc memory at 255k splits (1,000 depth-8 trees: 104 s; a 476k-split forest:
198 s, 1.8 GB); the table compiles ~50k splits/s (255k: 5.0 s, 253 MB; 476k: 8.2 s, 404 MB).
Scoring 80 depth-8 trees (20k splits), batch: if/else 2.7 us/row, table 3.4 us/row. So up to
10k splits if/else costs at most ~3-4 s of gcc for its ~25% speed; above, the table.
"""

FUNCTION_SPLITS = 1000
"""An if/else tree function holds at most this many splits; a bigger tree continues in further functions."""

SMALL_SET = 8
"""Category sets up to this size are an equality chain; bigger ones a sorted array searched by bisection."""

ROUTE_BLOCK_ROWS = 64
"""Rows per block of ``NAME_score_batch`` in ifelse and table modes (each hoisted tree routes
them all, tree-major; walk mode has its own, ``walk.BLOCK_ROWS``)."""

MAX_FEATURE_NODES = 64
"""A feature expression of at most this many nodes (expanded as a tree) is recomputed inline from
the inputs when filling a feature vector; a bigger one keeps its tree unhoisted."""

KIND_LE, KIND_LT, KIND_IN, KIND_NOTIN, KIND_IN_STRING, KIND_NOTIN_STRING = range(6)
KIND_MISSING_LEFT = 8
KIND_SET_SHIFT = 4
"""``mg_node.kind``: the test in bits 0-2, missing-goes-left in bit 3, the category set index above."""


@dataclass(frozen=True)
class FeatureVector:
    """Where one distinct ``features`` tuple lives in the per-row vectors ``f`` (numbers) and ``s`` (strings)."""

    features: tuple[Node, ...]
    numeric_offset: int
    string_offset: int
    slots: tuple[tuple[bool, int], ...]
    """Per feature: (is a string, slot within its vector relative to the offset)."""

    @property
    def n_numeric(self) -> int:
        """Numeric features in this tuple."""
        return sum(1 for is_string, _ in self.slots if not is_string)

    @property
    def n_string(self) -> int:
        """String features in this tuple."""
        return sum(1 for is_string, _ in self.slots if is_string)


def tree_mode(extra: tuple[tuple[str, object], ...]) -> str:
    """The ``c_tree_mode`` option from ``EmitOptions.extra`` (default ``auto``), validated."""
    mode = "auto"
    for key, value in extra:
        if key == "c_tree_mode":
            mode = value  # type: ignore[assignment]
    if mode not in TREE_MODES:
        raise ModelgenError(f"target 'c': option c_tree_mode must be one of {', '.join(TREE_MODES)}, got {mode!r}")
    return mode


class TreePlan:
    """Every routed tree of a model, numbered (hoisted trees first), their vectors and the mode."""

    def __init__(self, model: Model, mode: str) -> None:
        order = topological_order(model.roots)
        trees = [n for n in order if isinstance(n, TreeLeaf) and n.splits]
        direct = inline_from_inputs(order, MAX_FEATURE_NODES)
        hoisted = [t for t in trees if all(direct[f] for f in t.features)]
        inline = [t for t in trees if not all(direct[f] for f in t.features)]
        self.trees: list[TreeLeaf] = hoisted + inline
        self.n_hoisted = len(hoisted)
        self.index: dict[TreeLeaf, int] = {t: k for k, t in enumerate(self.trees)}
        self.vectors: dict[tuple[Node, ...], FeatureVector] = {}
        self.n_numeric = 0
        self.n_string = 0
        for tree in hoisted:
            if tree.features in self.vectors:
                continue
            slots: list[tuple[bool, int]] = []
            numeric = strings = 0
            for feature in tree.features:
                if feature.dtype is STRING:
                    slots.append((True, strings))
                    strings += 1
                else:
                    slots.append((False, numeric))
                    numeric += 1
            self.vectors[tree.features] = FeatureVector(tree.features, self.n_numeric, self.n_string, tuple(slots))
            self.n_numeric += numeric
            self.n_string += strings
        self.total_splits = sum(len(t.splits) for t in self.trees)
        walkable = bool(self.trees) and walk.applies(self.trees, self.n_hoisted)
        if mode == "walk" and self.trees and not walkable:
            raise ModelgenError(
                "target 'c': c_tree_mode 'walk' needs every tree's features computed from the inputs alone;"
                " this model has trees routed on computed values (another tree's output or a large shared"
                " expression; use auto, ifelse or table)"
            )
        if mode == "auto":
            mode = "walk" if walkable else "ifelse" if self.total_splits <= IFELSE_MAX_SPLITS else "table"
        self.mode = mode
        self.uses_strings = any(f.dtype is STRING for t in self.trees for f in t.features)

    def slots_of(self, tree: TreeLeaf) -> tuple[tuple[bool, int], ...]:
        """Feature -> (is string, slot) as the tree's routing code reads it (vector-relative)."""
        vector = self.vectors.get(tree.features)
        if vector is not None:
            return vector.slots
        slots: list[tuple[bool, int]] = []
        counts = [0, 0]
        for feature in tree.features:
            is_string = feature.dtype is STRING
            slots.append((is_string, counts[is_string]))
            counts[is_string] += 1
        return tuple(slots)


# ---------------------------------------------------------------- split conditions


def _sorted_set(values: tuple[object, ...], is_string: bool) -> list[object]:
    if is_string:
        # strcmp compares unsigned bytes: the order of the UTF-8 encodings
        return sorted(values, key=lambda v: str(v).encode("utf-8"))
    # NaN never equals x, so it can never decide membership (and would break the ordering)
    return sorted(float(v) for v in values if v == v)  # type: ignore[arg-type]


class SetTables:
    """Sorted category arrays for big sets, shared when equal; each becomes one static array."""

    def __init__(self) -> None:
        self.definitions: list[str] = []
        self._names: dict[tuple[bool, tuple[object, ...]], str] = {}

    def name(self, values: list[object], is_string: bool) -> str:
        """The static array holding ``values`` (already sorted)."""
        key = (is_string, tuple(repr(v) for v in values))
        found = self._names.get(key)
        if found is None:
            found = f"mg_set{len(self._names)}"
            self._names[key] = found
            if is_string:
                items = ", ".join(string_literal(str(v), "category") for v in values)
                self.definitions.append(f"static const char *const {found}[{len(values)}] = {{{items}}};")
            else:
                items = ", ".join(format_double(float(v)) for v in values)  # type: ignore[arg-type]
                self.definitions.append(f"static const double {found}[{len(values)}] = {{{items}}};")
        return found


def _membership(x: str, split: Split, is_string: bool, sets: SetTables, use: Callable[[str], None]) -> str:
    values = _sorted_set(split.operand, is_string)  # type: ignore[arg-type]
    if not values:
        return "0"
    if len(values) > SMALL_SET:
        helper = "mg_in_strings" if is_string else "mg_in_doubles"
        use(helper)
        return f"{helper}({x}, {sets.name(values, is_string)}, {len(values)})"
    if is_string:
        terms = [f"strcmp({x}, {string_literal(str(v), 'category')}) == 0" for v in values]
    else:
        terms = [f"{x} == {format_double(float(v))}" for v in values]  # type: ignore[arg-type]
    return "(" + " || ".join(terms) + ")"  # parenthesised even for one term: callers negate it with !


def split_conditions(
    split: Split, x: str, is_string: bool, sets: SetTables, use: Callable[[str], None]
) -> tuple[str, str]:
    """C conditions (left, right) for one split on the feature value ``x``, missing values included."""
    if split.test in ("le", "lt"):
        threshold = format_double(split.operand)  # type: ignore[arg-type]
        op, opposite = ("<=", ">") if split.test == "le" else ("<", ">=")
        if split.missing_left:
            return f"!({x} {opposite} {threshold})", f"{x} {opposite} {threshold}"
        return f"{x} {op} {threshold}", f"!({x} {op} {threshold})"
    member = _membership(x, split, is_string, sets, use)
    positive = split.test == "in"
    if is_string:
        test = member if positive else f"!{member}"
        left = f"({x} == NULL || {test})" if split.missing_left else f"({x} != NULL && {test})"
    elif positive:
        left = f"(isnan({x}) || {member})" if split.missing_left else member
    else:
        left = f"!{member}" if split.missing_left else f"!(isnan({x}) || {member})"
    return left, f"!({left})"


# ---------------------------------------------------------------- if/else mode


def _leaf_counts(tree: TreeLeaf) -> list[int]:
    """Leaves under each split, computed bottom-up without recursion."""
    order: list[int] = []
    stack = [0]
    while stack:
        index = stack.pop()
        order.append(index)
        split = tree.splits[index]
        stack.extend(c for c in (split.left, split.right) if c >= 0)
    counts = [0] * len(tree.splits)
    for index in reversed(order):
        split = tree.splits[index]
        counts[index] = sum(1 if c < 0 else counts[c] for c in (split.left, split.right))
    return counts


def ifelse_function(name: str, tree: TreeLeaf, slots: tuple[tuple[bool, int], ...], sets: SetTables,
                    use: Callable[[str], None]) -> str:
    """``static int name(const double *f, const char *const *s)`` returning the tree's leaf.

    A tree of more than ``FUNCTION_SPLITS`` splits continues in further functions ``name_1, ...``
    (declared first, defined after): gcc's optimiser is superlinear in function size.
    """
    counts = _leaf_counts(tree)
    signature = "(const double *f, const char *const *s)"
    functions: list[list[str]] = []
    pending = [(name, 0)]  # functions still to print: (name, the split it starts at)
    while pending:
        function, root = pending.pop(0)
        # a tree (or one part of it) may read only numbers or only strings
        lines = [f"static int {function}{signature}", "{", "    (void)f;", "    (void)s;"]
        printed = 0
        # work items: a child reference to print at an indent, or None = close a block at that indent
        stack: list[tuple[int | None, int]] = [(root, 1)]
        while stack:
            child, depth = stack.pop()
            indent = "    " * depth
            if child is None:
                lines.append(indent + "}")
                continue
            if child < 0:
                lines.append(f"{indent}return {-1 - child};")
                continue
            if printed >= FUNCTION_SPLITS:
                part = f"{name}_{len(functions) + len(pending) + 1}"
                pending.append((part, child))
                lines.append(f"{indent}return {part}(f, s);")
                continue
            printed += 1
            split = tree.splits[child]
            is_string, slot = slots[split.feature]
            x = f"s[{slot}]" if is_string else f"f[{slot}]"
            left, right = split_conditions(split, x, is_string, sets, use)
            size = [1 if c < 0 else counts[c] for c in (split.left, split.right)]
            # nest the smaller side so nesting depth stays O(log leaves); the bigger side follows flat
            if size[0] <= size[1]:
                condition, small, big = left, split.left, split.right
            else:
                condition, small, big = right, split.right, split.left
            if small < 0:
                lines.append(f"{indent}if ({condition}) {{ return {-1 - small}; }}")
                stack.append((big, depth))
                continue
            lines.append(f"{indent}if ({condition}) {{")
            stack += [(big, depth), (None, depth), (small, depth + 1)]
        lines.append("}")
        functions.append(lines)
    declarations = [f"static int {lines[0][len('static int '):].split('(', 1)[0]}{signature};"
                    for lines in functions[1:]]
    return "\n".join([*declarations, *("\n".join(lines) for lines in functions)])


# ---------------------------------------------------------------- table mode


def _set_kind(split: Split, is_string: bool) -> int:
    if is_string:
        return KIND_IN_STRING if split.test == "in" else KIND_NOTIN_STRING
    return KIND_IN if split.test == "in" else KIND_NOTIN


def table_definitions(plan: TreePlan, use: Callable[[str], None]) -> tuple[list[str], list[int]]:
    """The node array, category set arrays and ``mg_route``; returns them and each tree's root index."""
    rows: list[str] = []
    roots: list[int] = []
    set_index: dict[tuple[bool, tuple[str, ...]], int] = {}
    set_bounds: list[tuple[int, int]] = []
    double_values: list[str] = []
    string_values: list[str] = []
    kinds_seen: set[int] = set()
    # thresholds repeat across trees; keyed by (value, sign) so 0.0 and -0.0 stay apart
    thresholds: dict[tuple[float, float], str] = {}
    offset = 0
    for tree in plan.trees:
        roots.append(offset)
        slots = plan.slots_of(tree)
        for split in tree.splits:
            feature, test, operand, missing_left, left, right = split  # unpacked once: this loop is the hot one
            is_string, slot = slots[feature]
            if left >= 0:
                left += offset
            if right >= 0:
                right += offset
            if test == "le" or test == "lt":
                kind = KIND_LE if test == "le" else KIND_LT
                key = (operand, math.copysign(1.0, operand))  # type: ignore[arg-type]
                threshold = thresholds.get(key)
                if threshold is None:
                    threshold = thresholds[key] = format_double(operand)  # type: ignore[arg-type]
            else:
                kind = _set_kind(split, is_string)
                threshold = "0.0"
                values = _sorted_set(operand, is_string)  # type: ignore[arg-type]
                texts = tuple(string_literal(str(v), "category") if is_string else format_double(float(v))  # type: ignore[arg-type]
                              for v in values)
                set_key = (is_string, texts)
                if set_key not in set_index:
                    target = string_values if is_string else double_values
                    set_index[set_key] = len(set_bounds)
                    set_bounds.append((len(target), len(texts)))
                    target.extend(texts)
                kind |= set_index[set_key] << KIND_SET_SHIFT
            kinds_seen.add(kind & 7)
            if missing_left:
                kind |= KIND_MISSING_LEFT
            rows.append(f"{{{threshold},{slot},{left},{right},{kind}}},")
        offset += len(tree.splits)
    definitions = [
        "/* One decision-tree split: go to left or right (a node index, or -1 - leaf). kind: test in bits 0-2\n"
        " * (0 le, 1 lt, 2 in, 3 notin, 4 string in, 5 string notin), bit 3 missing goes left, category set above. */\n"
        "typedef struct {\n    double threshold;\n    int feature;\n    int left;\n    int right;\n"
        "    int kind;\n} mg_node;",
        # compact (eight nodes a line, no spaces): gcc's time on a big table is mostly lexing it
        f"static const mg_node mg_nodes[{offset}] = {{\n"
        + "\n".join("".join(rows[i : i + 8]) for i in range(0, len(rows), 8))
        + "\n};",
    ]
    has_sets = bool(set_bounds)
    if has_sets:
        bounds = ", ".join(f"{{{start}, {size}}}" for start, size in set_bounds)
        definitions.append(f"static const int mg_set_bounds[{len(set_bounds)}][2] = {{{bounds}}};")
    if double_values:
        items = ", ".join(double_values)
        definitions.append(f"static const double mg_set_doubles[{len(double_values)}] = {{{items}}};")
    if string_values:
        definitions.append(
            f"static const char *const mg_set_strings[{len(string_values)}] = {{{', '.join(string_values)}}};"
        )
    has_thresholds = bool(kinds_seen & {KIND_LE, KIND_LT})
    body = [] if has_sets else ["    (void)s;"]
    body += ["    do {", "        const mg_node *n = &mg_nodes[node];", "        const int kind = n->kind;",
             "        int left;"]
    threshold_test = [
        # not a switch: an indirect jump per node costs ~3x (measured); these branches are predictable
        "            const double x = f[n->feature];",
        "            left = (kind & 1) ? x < n->threshold : x <= n->threshold;",
        "            if (isnan(x)) { /* NaN compares false: it goes where bit 3 says */",
        "                left = (kind >> 3) & 1;",
        "            }",
    ]
    if has_thresholds and has_sets:
        body += ["        if ((kind & 6) == 0) { /* le or lt */", *threshold_test, "        } else {",
                 "            left = mg_set_left(n, f, s);", "        }"]
    elif has_thresholds:
        body += ["        {", *threshold_test, "        }"]
    else:
        body += ["        left = mg_set_left(n, f, s);"]
    if has_sets:
        definitions.append(_set_left_function(bool(double_values), bool(string_values), use))
    body += ["        node = left ? n->left : n->right;", "    } while (node >= 0);", "    return -1 - node;", "}"]
    definitions.append(
        "/* Route one tree from its root node to a leaf number (trees in the table have at least one split). */\n"
        "static int mg_route(int node, const double *f, const char *const *s)\n{\n" + "\n".join(body)
    )
    return definitions, roots


def _set_left_function(has_doubles: bool, has_strings: bool, use: Callable[[str], None]) -> str:
    lines = [
        "/* A category-set split: missing follows bit 3; otherwise membership (in) or its negation (notin). */",
        "static int mg_set_left(const mg_node *n, const double *f, const char *const *s)",
        "{",
        "    const int test = n->kind & 7;",
        "    const int *bounds = mg_set_bounds[n->kind >> 4];",
        "    int member = 0;",
    ]
    if has_doubles:
        use("mg_in_doubles")
        lines += [
            "    if (test == 2 || test == 3) {",
            "        const double x = f[n->feature];",
            "        if (isnan(x)) {",
            "            return (n->kind & 8) != 0;",
            "        }",
            "        member = mg_in_doubles(x, mg_set_doubles + bounds[0], bounds[1]);",
            "    }",
        ]
    else:
        lines.append("    (void)f;")
    if has_strings:
        use("mg_in_strings")
        lines += [
            "    if (test == 4 || test == 5) {",
            "        const char *x = s[n->feature];",
            "        if (x == NULL) {",
            "            return (n->kind & 8) != 0;",
            "        }",
            "        member = mg_in_strings(x, mg_set_strings + bounds[0], bounds[1]);",
            "    }",
        ]
    else:
        lines.append("    (void)s;")
    lines += ["    return (test == 2 || test == 4) ? member : !member;", "}"]
    return "\n".join(lines)


# ---------------------------------------------------------------- putting it together


class TreeCode:
    """The C text of every tree of a plan: definitions, the row/block routers and each TreeLeaf's value.

    ``render_feature(node)`` prints a row-direct feature from ``in`` alone (no bound names);
    ``use(helper)`` records a support function the code calls.
    """

    def __init__(self, model: Model, plan: TreePlan, input_type: str, render_feature: Callable[[Node], str],
                 use: Callable[[str], None]) -> None:
        self.plan = plan
        self.definitions: list[str] = []
        self.body_model = model
        self.placeholders: dict[Node, str] = {}
        self.walk: walk.WalkCode | None = None
        sets = SetTables()
        if plan.mode == "walk" and plan.trees:
            self.walk = walk.WalkCode(model, plan.trees, render_feature, input_type)
            self.definitions += self.walk.definitions
            self.body_model = self.walk.body_model
            self.placeholders = self.walk.placeholders
            return
        if plan.mode == "table" and plan.trees:
            tables, self._roots = table_definitions(plan, use)
            self.definitions += tables
        else:
            self._roots = []
            functions = [
                ifelse_function(f"mg_tree{k}", tree, plan.slots_of(tree), sets, use)
                for k, tree in enumerate(plan.trees)
            ]
            self.definitions += sets.definitions + functions
        if plan.n_hoisted:
            self.definitions += [self._hoisted_tables(), self._features(input_type, render_feature),
                                 self._route_row(), self._route_block()]

    def _call(self, k: int, f: str, s: str) -> str:
        if self.plan.mode == "table":
            return f"mg_route({self._roots[k]}, {f}, {s})"
        return f"mg_tree{k}({f}, {s})"

    def _vector_args(self, row: str) -> tuple[str, str]:
        """The f and s arguments of hoisted tree ``k`` (C variable k); ``row`` is the row index text or ''."""
        args = []
        for total, base, offsets in ((self.plan.n_numeric, "f", "mg_numeric_offsets"),
                                     (self.plan.n_string, "s", "mg_string_offsets")):
            if total == 0:
                args.append("NULL")
                continue
            text = base + (f" + {row} * {total}" if row else "")
            if offsets in self._offset_tables:
                text += f" + {offsets}[k]"
            args.append(text)
        return args[0], args[1]

    def _hoisted_tables(self) -> str:
        """Per hoisted tree: its routing (function or root node) and, with several vectors, their offsets."""
        plan = self.plan
        n = plan.n_hoisted
        if plan.mode == "table":
            items = ", ".join(str(self._roots[k]) for k in range(n))
            lines = [f"static const int mg_roots[{n}] = {{{items}}};"]
        else:
            items = ", ".join(f"mg_tree{k}" for k in range(n))
            lines = [f"static int (*const mg_trees[{n}])(const double *, const char *const *) = {{{items}}};"]
        vectors = [plan.vectors[plan.trees[k].features] for k in range(n)]
        self._offset_tables: set[str] = set()
        if len(plan.vectors) > 1:
            for total, table, attribute in ((plan.n_numeric, "mg_numeric_offsets", "numeric_offset"),
                                            (plan.n_string, "mg_string_offsets", "string_offset")):
                if total:
                    self._offset_tables.add(table)
                    items = ", ".join(str(getattr(v, attribute)) for v in vectors)
                    lines.append(f"static const int {table}[{n}] = {{{items}}};")
        return "\n".join(lines)

    def _hoisted_call(self, row: str) -> str:
        f, s = self._vector_args(row)
        if self.plan.mode == "table":
            return f"mg_route(mg_roots[k], {f}, {s})"
        return f"mg_trees[k]({f}, {s})"

    def _features(self, input_type: str, render_feature: Callable[[Node], str]) -> str:
        lines = [
            "/* The feature vectors of the hoisted trees: numbers in f (float32 widened exactly), strings in s. */",
            f"static void mg_features(const {input_type} *in, double *f, const char **s)",
            "{",
        ]
        if not self.plan.n_numeric:
            lines.append("    (void)f;")
        if not self.plan.n_string:
            lines.append("    (void)s;")
        for vector in self.plan.vectors.values():
            for feature, (is_string, slot) in zip(vector.features, vector.slots):
                text = render_feature(feature)
                if is_string:
                    lines.append(f"    s[{vector.string_offset + slot}] = {text};")
                else:
                    lines.append(f"    f[{vector.numeric_offset + slot}] = (double){text};")
        lines.append("}")
        return "\n".join(lines)

    def _route_row(self) -> str:
        lines = ["/* Route every hoisted tree for one row. */",
                 "static void mg_route_row(const double *f, const char *const *s, int *leaf)", "{", "    int k;"]
        if not self.plan.n_numeric:
            lines.append("    (void)f;")
        if not self.plan.n_string:
            lines.append("    (void)s;")
        lines += [f"    for (k = 0; k < {self.plan.n_hoisted}; k++) {{", f"        leaf[k] = {self._hoisted_call('')};",
                  "    }", "}"]
        return "\n".join(lines)

    def _route_block(self) -> str:
        n = self.plan.n_hoisted
        lines = [
            "/* Route every hoisted tree for the rows of a block, tree-major (a tree's code and nodes stay in cache);",
            " * row r's vectors start at f + r * (numbers per row) and s + r * (strings per row), its leaves at",
            f" * leaf + r * {n}. */",
            "static void mg_route_block(size_t rows, const double *f, const char *const *s, int *leaf)",
            "{",
            "    int k;",
            "    size_t r;",
        ]
        if not self.plan.n_numeric:
            lines.append("    (void)f;")
        if not self.plan.n_string:
            lines.append("    (void)s;")
        lines += [f"    for (k = 0; k < {n}; k++) {{", "        for (r = 0; r < rows; r++) {",
                  f"            leaf[r * {n} + k] = {self._hoisted_call('r')};", "        }", "    }", "}"]
        return "\n".join(lines)

    def buffers(self) -> list[tuple[str, str, int]]:
        """The per-row work arrays of the routed trees: (name, C element type, length), in parameter order.

        ``f`` feature numbers, ``s`` feature strings, ``leaf`` leaf numbers, ``acc`` walked sums;
        the ones of length 0 are absent (their parameters get NULL).
        """
        if self.walk is not None:
            widths = [self.walk.width, 0, self.walk.n_leaf, self.walk.n_acc]
        else:
            widths = [self.plan.n_numeric, self.plan.n_string, self.plan.n_hoisted, 0]
        names = [("f", "double"), ("s", "const char *"), ("leaf", "int"), ("acc", "double")]
        return [(name, ctype, width) for (name, ctype), width in zip(names, widths) if width]

    def routing_calls(self) -> tuple[str, str]:
        """C calls routing one row and a block of ``rows`` rows from the buffers (named as in ``buffers``)."""
        present = {name for name, _, _ in self.buffers()}

        def arg(name: str) -> str:
            return name if name in present else "NULL"

        if self.walk is not None:
            args = f"{arg('f')}, {arg('leaf')}, {arg('acc')}"
            return f"mg_walk(1, {args})", f"mg_walk(rows, {args})"
        args = f"{arg('f')}, {arg('s')}, {arg('leaf')}"
        return f"mg_route_row({args})", f"mg_route_block(rows, {args})"

    def leaf_text(self, node: TreeLeaf, args: list[str]) -> str:
        """C text of a ``TreeLeaf`` inside the scorer body (``args``: its features, rendered)."""
        if not node.splits:
            return "0"
        k = self.plan.index[node]
        if self.walk is not None:
            return f"leaf[{self.walk.trees[k].leaf_slot}]"
        if k < self.plan.n_hoisted:
            return f"leaf[{k}]"
        numeric = [f"(double){a}" for a, f in zip(args, node.features) if f.dtype is not STRING]
        strings = [a for a, f in zip(args, node.features) if f.dtype is STRING]
        f = f"(const double[]){{{', '.join(numeric)}}}" if numeric else "NULL"
        s = f"(const char *const[]){{{', '.join(strings)}}}" if strings else "NULL"
        return f"((long long){self._call(k, f, s)})"
