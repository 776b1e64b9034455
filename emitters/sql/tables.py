"""Table-driven tree routing (DuckDB, Spark): node arrays as constants, every tree walked at once.

A nested CASE costs DuckDB ~100-200 us of planning per split (parse ~0.75 us per byte, then
binding, expression rewriting and common-subexpression elimination over every CASE arm), so
a 1,000-tree forest took minutes to plan. Here the trees of one *forest* (the trees splitting
only with ``le``/``lt``, of one stacking level, whatever features each reads: :func:`plan_forests`)
become node arrays:

* ``thr`` (DOUBLE[]): a split's threshold, a leaf's value for the first double ``Lookup`` of
  its tree (``val1``, ``val2``, ... hold the values of further lookups, e.g. per class),
* ``feat`` (INTEGER[]): the slot of the row's feature list the node reads,
* ``kid`` (INTEGER[]): a split's left child (the right one is next); a leaf's own index.

Each array is ONE string constant cast to a list (``CAST('[...]' AS DOUBLE[])``): the parser
sees a single literal and the cast (DuckDB's string-to-double is correctly rounded, tested on
random bit patterns) runs once while planning. Every array is a column of one layer, carried
to its readers (a constant vector: carrying it costs nothing).

A row's feature list ``x`` has fixed slots 1 (NaN) and 2 (-inf), then the features as read
(``raw``), with NaN replaced by -inf (``low``) and as ``isnan`` (0.0 for NaN, 1.0 otherwise),
only the slots some split reads. One routing step over the list of every tree's current node
(1-based indexes) is

    list_transform(nodes, lambda n: kid[n] + CAST(x[feat[n]] > thr[n] AS INTEGER))

and ``depth`` nested steps from the list of roots reach every tree's leaf (a leaf steps to
itself), so the routing is O(depth) expression nodes whatever the number of trees, and a row
evaluates ``depth`` comparisons per tree. DuckDB orders NaN above every number, so ``x > t``
is exactly ``NOT (x <= t)`` (the C walk's test, ``emitters/c/walk.py``): a missing value in a
``raw`` slot goes right, in a ``low`` slot (-inf) left, as ``missing_left`` says; a leaf reads
slot 2 (-inf), which is never above its payload (-inf > NaN and -inf > -inf are FALSE), so it
stays put. ``lt t`` is ``le nextafter(t, -inf)`` (identical for every non-NaN x); ``lt -inf``
is never TRUE for a number: missing-right reads slot 1 (NaN, always right), missing-left the
``isnan`` slot against 0.5 (NaN and -inf must part there).

A tree's value is ``thr[route[k]]`` (``list_extract``), its leaf number ``leaf[route[k]]``;
the ensemble's ``Sum`` is untouched, so the query builder still adds the terms in the
reference's order (25 a layer, a running total carried).

The SQL spelling is a per-dialect :class:`ArraySyntax` (``SqlDialect.tree_arrays``): DuckDB's
above, Spark's ``from_json('[...]', 'array<double>')`` constants (Jackson reads each number with
``Double.parseDouble``, correctly rounded; parsing and folding 600,000 doubles took ~5 s, an
``array(1.5D, ...)`` of 20,000 took 13.5 s to analyse), ``transform(nodes, n -> ...)`` and
``element_at`` (1-based, as DuckDB lists). Spark orders NaN like DuckDB (above every number).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from emitters.common.walk import LOW, NAN_KIND, RAW, threshold_slot
from emitters.sql import literals
from modelgen.ir import DOUBLE, FLOAT32, Lookup, Node, TreeLeaf

NAN_SLOT, MINUS_INF_SLOT = 1, 2
"""Fixed slots of every feature list (1-based, as DuckDB lists are)."""

STEPS_PER_COLUMN = 64
"""Routing steps nested in one column; a deeper forest continues in the next layer (DuckDB
allows expressions ~1,000 deep)."""


@dataclass(frozen=True)
class ArraySyntax:
    """How one dialect writes the node arrays and the routing (``SqlDialect.tree_arrays``)."""

    sqlglot_name: str
    constant: Callable[[list[float] | list[int], bool], str]
    """An array constant of doubles (True) or integers (False), as text."""
    index: Callable[[str, str], str]
    """``array[i]`` (1-based) as text, inside the routing step."""
    transform: Callable[[str, str], str]
    """Map a list over a lambda of ``n`` (the body's text)."""
    extract: str
    """The 1-based element function a lookup reads a leaf with."""
    make_list: str
    """The function building the row's feature list from its items."""
    integer_type: str
    nan: str
    minus_inf: str
    zero: str
    one: str
    steps_per_column: int = STEPS_PER_COLUMN
    """Routing steps nested in one column; a deeper forest continues in the next layer."""
    walk: Callable[[str, str, int, list[str]], str] | None = None
    """Instead of nested steps: the whole routing as one expression from (roots, step over
    ``n``, depth, leaf arrays), giving per tree the list of the leaf arrays' entries at its
    leaf; lookups then read that list (each array is mentioned once in the query)."""


def _list_cast(items: list[str], sql_type: str) -> exp.Expression:
    # one string literal: DuckDB parses a string constant in ~1 ns a byte, and a list literal of
    # numbers in microseconds per element; the cast runs once, while planning
    return exp.Var(this=f"CAST('[{', '.join(items)}]' AS {sql_type})")


def _duckdb_constant(values: list[float] | list[int], double: bool) -> str:
    return _list_cast(list(map(repr if double else str, values)), "DOUBLE[]" if double else "INTEGER[]").name


DUCKDB_ARRAYS = ArraySyntax(
    sqlglot_name="duckdb",
    constant=_duckdb_constant,
    index=lambda array, i: f"{array}[{i}]",
    transform=lambda items, body: f"LIST_TRANSFORM({items}, LAMBDA n: {body})",
    extract="list_extract",
    make_list="LIST_VALUE",
    integer_type="INTEGER",
    nan="CAST('nan' AS DOUBLE)",
    minus_inf="CAST('-inf' AS DOUBLE)",
    zero="0.0e0",
    one="1.0e0",
)
"""DuckDB (>= 1.3: the ``LAMBDA`` syntax)."""


def _json_number(value: float) -> str:
    # Jackson (allowNonNumericNumbers, Spark's default) reads NaN and +-Infinity as doubles
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _spark_walk(roots: str, step: str, depth: int, arrays: list[str]) -> str:
    # Spark substitutes a constant column into every expression reading it and folds each copy
    # again (100 lookups of a 40,000-double array: 6-7 s of planning, 0.9 s for one): every
    # array is read once here, by one aggregate walking each tree depth steps
    walked = f"transform({roots}, r -> aggregate(sequence(1, {depth}), r, (n, i) -> {step}))"
    entries = ", ".join(f"element_at({array}, n)" for array in arrays)
    return f"transform({walked}, n -> array({entries}))"


def _spark_constant(values: list[float] | list[int], double: bool) -> str:
    # one string literal, read by from_json once while planning (constant folding)
    items = ",".join(map(_json_number, values)) if double else ",".join(map(str, values))
    return f"from_json('[{items}]', '{'array<double>' if double else 'array<int>'}')"


SPARK_ARRAYS = ArraySyntax(
    sqlglot_name="spark",
    constant=_spark_constant,
    index=lambda array, i: f"element_at({array}, {i})",
    transform=lambda items, body: f"transform({items}, n -> {body})",
    extract="element_at",
    make_list="array",
    integer_type="INT",
    nan="CAST('NaN' AS DOUBLE)",
    minus_inf="CAST('-Infinity' AS DOUBLE)",
    zero="0.0D",
    one="1.0D",
    walk=_spark_walk,
)
"""Spark SQL 4 (``element_at`` raises on an index out of range under ANSI: never happens)."""


def eligible(node: TreeLeaf) -> bool:
    """Can the tables route ``node``: a real tree splitting only on thresholds?"""
    return bool(node.splits) and all(split.test == "le" or split.test == "lt" for split in node.splits)


@dataclass
class Forest:
    """The trees routed by one set of node arrays, and the double lookups read from them."""

    number: int
    trees: list[TreeLeaf] = field(default_factory=list)
    lookups: dict[TreeLeaf, list[Lookup]] = field(default_factory=dict)
    """Per tree, its double lookups in query order: the first reads ``thr``, the m-th ``val{m}``."""
    features: dict[Node, None] = field(default_factory=dict)
    """The feature nodes some split reads, in first-use order (a dict as an ordered set)."""

    def name(self, part: str) -> str:
        """This forest's internal column ``part``."""
        return f"__mg_forest{self.number}_{part}"


def plan_forests(order: list[Node]) -> tuple[list[Forest], dict[Node, int]]:
    """Group the table-routable trees of a model (``order``: topological) into forests, and
    give every node its level: how many forests must be routed before it can be computed.

    Trees go together whatever features they read (the feature list holds the union), except
    that a tree reading another routable tree (stacking) must be routed after it: a tree's
    forest is 1 + the deepest forest among the nodes under its features. Building the nodes
    of level 0, then forest 1, then the nodes of level 1, ... respects every dependency."""
    level: dict[Node, int] = {}
    forests: list[Forest] = []
    for node in order:
        below = max((level[child] for child in node.children), default=0)
        if isinstance(node, TreeLeaf) and eligible(node):
            below += 1
            if below > len(forests):
                forests.append(Forest(len(forests)))
            forest = forests[below - 1]
            forest.trees.append(node)
            forest.lookups[node] = []
            used = {split.feature for split in node.splits}
            forest.features.update((node.features[index], None) for index in sorted(used))
        level[node] = below
    home = {tree: forest for forest in forests for tree in forest.trees}
    for node in order:
        if isinstance(node, Lookup) and node.value_dtype in (DOUBLE, FLOAT32):
            forest = home.get(node.index)  # type: ignore[call-overload]
            if forest is not None and len(node.values) >= node.index.n_leaves:  # type: ignore[attr-defined]
                forest.lookups[node.index].append(node)  # type: ignore[index]
    return forests, level


@dataclass
class ForestTables:
    """The arrays, feature list and routing columns of one :class:`Forest`."""

    forest: Forest
    syntax: ArraySyntax = DUCKDB_ARRAYS
    slots: list[tuple[Node, int]] = field(default_factory=list)
    """Feature-list slots from 3 on: (feature node, kind)."""
    arrays: dict[str, exp.Expression] = field(default_factory=dict)
    depth: int = 0
    roots: list[int] = field(default_factory=list)
    leaf_numbers: bool = False
    index: dict[TreeLeaf, int] = field(default_factory=dict)
    entries: list[str] = field(default_factory=list)
    """With ``ArraySyntax.walk``: the arrays whose leaf entries the routing column lists, in order."""

    def build(self, need_leaf_numbers: bool) -> None:
        """Lay out every tree's nodes breadth first (a split's children adjacent) into the arrays."""
        forest = self.forest
        n_values = max((len(v) for v in forest.lookups.values()), default=0)
        thresholds: list[float] = []
        feats: list[int] = []
        kids: list[int] = []
        leaves: list[int] = []
        extra: list[list[float]] = [[] for _ in range(max(0, n_values - 1))]
        slot_of: dict[tuple[Node, int], int] = {}
        slot_cache: dict[tuple[Node, ...], list[list[int]]] = {}  # features tuple -> kind -> index -> slot
        for k, tree in enumerate(forest.trees):
            self.index[tree] = k
            splits = tree.splits
            kinds = slot_cache.get(tree.features)
            if kinds is None:
                kinds = slot_cache[tree.features] = [[0] * len(tree.features) for _ in range(3)]
            base = len(thresholds)
            self.roots.append(base + 1)
            values = [lookup.values for lookup in forest.lookups[tree]]
            payload = values[0] if values else None
            refs = [0]
            level = [0]
            position = 0
            while position < len(refs):
                ref = refs[position]
                if ref >= 0:
                    feature, test, threshold, missing_left, left, right = splits[ref]
                    kind, threshold = threshold_slot(test, threshold, missing_left)  # type: ignore[arg-type]
                    if kind == NAN_KIND:
                        slot = NAN_SLOT
                    else:
                        slot = kinds[kind][feature]
                        if not slot:
                            key = (tree.features[feature], kind)
                            slot = slot_of.get(key, 0)
                            if not slot:
                                self.slots.append(key)
                                slot = slot_of[key] = MINUS_INF_SLOT + len(self.slots)
                            kinds[kind][feature] = slot
                    thresholds.append(threshold)  # type: ignore[arg-type]
                    feats.append(slot)
                    kids.append(base + len(refs) + 1)  # 1-based index of the left child
                    leaves.append(0)
                    for column in extra:
                        column.append(0.0)
                    refs.append(left)
                    refs.append(right)
                    below = level[position] + 1
                    level.append(below)
                    level.append(below)
                else:
                    leaf = -1 - ref
                    thresholds.append(float(payload[leaf]) if payload is not None else 0.0)  # type: ignore[arg-type]
                    feats.append(MINUS_INF_SLOT)
                    kids.append(base + position + 1)  # itself
                    leaves.append(leaf)
                    for m, column in enumerate(extra, start=1):
                        column.append(float(values[m][leaf]) if m < len(values) else 0.0)  # type: ignore[arg-type]
                    if level[position] > self.depth:
                        self.depth = level[position]
                position += 1
        constant = self.syntax.constant
        self.arrays[forest.name("thr")] = exp.Var(this=constant(thresholds, True))
        self.arrays[forest.name("feat")] = exp.Var(this=constant(feats, False))
        self.arrays[forest.name("kid")] = exp.Var(this=constant(kids, False))
        for m, column in enumerate(extra, start=1):
            self.arrays[forest.name(f"val{m}")] = exp.Var(this=constant(column, True))
        if need_leaf_numbers:
            self.leaf_numbers = True
            self.arrays[forest.name("leaf")] = exp.Var(this=constant(leaves, False))

    def feature_list(self, features: dict[Node, str]) -> exp.Expression:
        """The row's feature list over ``features`` (each feature node's SQL text, a column)."""
        syntax = self.syntax
        items = [syntax.nan, syntax.minus_inf]
        for feature, kind in self.slots:
            x = features[feature]
            if kind == RAW:
                items.append(x)
            elif kind == LOW:
                items.append(f"CASE WHEN ISNAN({x}) THEN {syntax.minus_inf} ELSE {x} END")
            else:
                items.append(f"CASE WHEN ISNAN({x}) THEN {syntax.zero} ELSE {syntax.one} END")
        return exp.Var(this=f"{syntax.make_list}({', '.join(items)})")

    def routes(self) -> list[tuple[str, exp.Expression, set[str]]]:
        """The routing columns in order: (name, expression, internal columns read); the last
        holds every tree's leaf node. Steps are nested ``steps_per_column`` a column."""
        forest = self.forest
        syntax = self.syntax
        x, thr, feat, kid = (
            literals.identifier(forest.name(p)).sql(syntax.sqlglot_name) for p in ("x", "thr", "feat", "kid")
        )
        index = syntax.index
        step = f"{index(kid, 'n')} + CAST({index(x, index(feat, 'n'))} > {index(thr, 'n')} AS {syntax.integer_type})"
        reads = {forest.name("x"), forest.name("thr"), forest.name("feat"), forest.name("kid")}
        columns: list[tuple[str, exp.Expression, set[str]]] = []
        current = syntax.constant(self.roots, False)
        if syntax.walk is not None:
            self.entries = [name for name in self.arrays if name not in (forest.name("feat"), forest.name("kid"))]
            arrays = [literals.identifier(name).sql(syntax.sqlglot_name) for name in self.entries]
            text = syntax.walk(current, step, max(self.depth, 1), arrays)
            return [(forest.name("route0"), exp.Var(this=text), reads | set(self.entries))]
        remaining = max(self.depth, 1)
        while remaining:
            steps = min(remaining, syntax.steps_per_column)
            remaining -= steps
            text = current
            for _ in range(steps):
                text = syntax.transform(text, step)
            name = forest.name(f"route{len(columns)}")
            columns.append((name, exp.Var(this=text), set(reads) | ({columns[-1][0]} if columns else set())))
            current = literals.identifier(name).sql(syntax.sqlglot_name)
        return columns

    def lookup_expression(self, tree: TreeLeaf, array: str, route: str) -> exp.Expression:
        """``array[route[k]]``: the entry of ``array`` at tree ``tree``'s leaf node."""
        extract = self.syntax.extract
        node = exp.Anonymous(this=extract, expressions=[literals.column(route), literals.integer(self.index[tree] + 1)])
        if self.entries:
            entry = exp.Anonymous(this=extract, expressions=[node, literals.integer(self.entries.index(array) + 1)])
            # the entries list is doubles: a leaf number comes back to an integer (exact below 2**53)
            return literals.cast(entry, self.syntax.integer_type) if array == self.forest.name("leaf") else entry
        return exp.Anonymous(this=extract, expressions=[literals.column(array), node])
