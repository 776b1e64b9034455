"""Assemble the scoring query: an input layer, layered CTEs for bound nodes, one final SELECT.

Shape (all names quoted; every internal name starts with ``__mg_``, and no user column is
ever selected with ``*``, so internal names cannot collide with input, key or output names)::

    WITH "__mg_layer0" AS (SELECT <keys AS "__mg_key{i}">, <read inputs AS "__mg_in{i}"> FROM "input"),
         "__mg_layer1" AS (SELECT <live columns>, <bindings AS "__mg_t{i}"> FROM "__mg_layer0"),
         ...
    SELECT <keys AS their names>, <outputs AS their names> FROM "__mg_layerN"

A binding goes in the first layer after every binding it reads, so a layer holds many
independent bindings; each layer projects only the columns still read later (SQLite allows
2,000 result columns). The row checks are one internal column ``__mg_check`` in the last layer,
NULL for a good row, the first failing check's reject otherwise: evaluated once per row, not once
per output. Its conditions are inline (not columns computed for every row), behind a guard
(``emitters/sql/checks.py``): ``Sum(abs(e1), ...) < C`` per group of range checks ``abs(e) < C``,
one sum column per chunk of at most 25 terms::

    CASE WHEN <guard> THEN <CASE over the checks the guard does not cover, or NULL>
         ELSE CASE WHEN NOT c1 THEN reject(m1) WHEN NOT c2 THEN reject(m2) ... END END

Where the guard holds no covered check fails, so both arms name the same first failing check.
Every output reads the column (``CASE WHEN NOT "__mg_check" IS NULL THEN NULL ELSE <output> END``),
so no projection of an output can skip it, and no engine can prune it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from emitters.common.schedule import schedule
from emitters.sql import literals, ops, tables
from emitters.sql.checks import CheckPlan, plan_checks, unguarded
from emitters.sql.dialects import SqlDialect
from emitters.sql.infinities import without_infinite_comparisons
from emitters.sql.names import check_result_columns
from emitters.sql.visitor import build_node, case_when, child_copies
from modelgen.errors import ModelgenError
from modelgen.ir import (
    FLOAT32,
    STRING,
    Binary,
    Const,
    Input,
    Lookup,
    Model,
    Node,
    Sum,
    TreeLeaf,
    topological_order,
    transform,
    use_counts,
)
from modelgen.passes.split_long_sums import split_long_sums

PREFIX = "__mg_"


def _float32_sums_as_chains(node: Node) -> Node:
    # each partial float32 sum is rounded, and the rounding mentions its argument several
    # times: as a chain of binary adds every partial sum becomes a column instead
    if not isinstance(node, Sum) or node.dtype is not FLOAT32:
        return node
    total = node.terms[0]
    for term in node.terms[1:]:
        total = Binary("add", total, term)
    return total


def prepare(model: Model) -> Model:
    """The model in the shape the SQL builder expects (same bits): sums short, float32 sums binary."""
    model = split_long_sums(model)
    return model.with_roots(tuple(transform(model.roots, _float32_sums_as_chains)))


DUPLICATED_SIZE_LIMIT = 8
"""Largest inline child (in IR nodes) a node may mention more than once; larger ones are bound."""


def _bound_nodes(
    model: Model, dialect: SqlDialect, replaced: set[Node], features: set[Node], twice: set[Node]
) -> set[Node]:
    # the shared schedule binds shared and too-deep nodes; on top of it, a child that the
    # node's SQL mentions several times is bound once it is big (small ones are cheaper
    # inline: every binding can add a CTE layer, and DuckDB nests at most ~1,000 of them).
    # Check conditions are not bound (a column is computed for every row; inline in the check
    # CASE a condition runs only when the guard fails), except big ones the CASE prints `twice`
    plan = schedule(model, max_depth=dialect.max_depth)
    counts = use_counts(model.roots)
    order_users = _users(model)
    # a tree's CASE (or its values' CASE) is flat whatever the tree's depth: the schedule binds
    # it for the depth of a Sum it is a term of, but inline in that Sum (25 trees a layer, a
    # running total carried) is what keeps a 1,000-tree ensemble to ~40 layers of one column
    bound = {node for node in plan.names if not (_is_tree(node) and counts[node] == 1)}
    # a tree read only by Lookups (per-class values) is routed again inside each Lookup's CASE
    # (values folded in: O(depth) per row and class) instead of binding its leaf number, which
    # each Lookup would search with `CASE leaf WHEN 0 ...` (O(leaves) per row and class)
    bound -= {node for node in plan.names if isinstance(node, TreeLeaf) and _only_folded(node, counts, order_users)}
    # table-routed trees are a list element each (never bound); their features are list items
    bound -= {node for node in replaced if isinstance(node, TreeLeaf)}
    bound.update(node for node in features if not isinstance(node, (Input, Const)))
    order = topological_order(model.roots)
    size: dict[Node, int] = {}
    for node in order:
        if isinstance(node, (Input, Const)) or node in replaced:
            size[node] = 1
            continue
        copies = child_copies(node, dialect)
        total = 1 + (2 * len(node.splits) if isinstance(node, TreeLeaf) else 0)
        for child in node.children:
            child_size = 1 if child in bound else size[child]
            too_big = copies >= DUPLICATED_SIZE_LIMIT or child_size > DUPLICATED_SIZE_LIMIT
            if copies > 1 and child_size > 1 and too_big:
                bound.add(child)
                child_size = 1
            total += copies * child_size
        size[node] = total
    bound.update(n for n in twice if not isinstance(n, (Input, Const)) and size[n] > DUPLICATED_SIZE_LIMIT)
    return bound


def _users(model: Model) -> dict[Node, list[Node]]:
    users: dict[Node, list[Node]] = {}
    for node in topological_order(model.roots):
        for child in node.children:
            users.setdefault(child, []).append(node)
    return users


def _only_folded(tree: TreeLeaf, counts: dict[Node, int], users: dict[Node, list[Node]]) -> bool:
    # every use of the tree is a Lookup with a value per leaf (no root, no check, no raw leaf)
    found = users.get(tree, [])
    return len(found) == counts[tree] and all(
        isinstance(user, Lookup) and len(user.values) >= tree.n_leaves for user in found
    )


def _alias(expression: exp.Expression, name: str) -> exp.Expression:
    # copy=False: sqlglot would otherwise deep-copy every (possibly huge) expression it aliases
    return exp.alias_(expression, literals.identifier(name), copy=False)


def _is_tree(node: Node) -> bool:
    return isinstance(node, TreeLeaf) or (isinstance(node, Lookup) and isinstance(node.index, TreeLeaf))


class _Builder:
    """Builds node expressions iteratively, referring to bound nodes and inputs by column."""

    def __init__(self, dialect: SqlDialect, columns: dict[Node, str]) -> None:
        self.dialect = dialect
        self.columns = columns
        self.replaced: dict[Node, tuple[exp.Expression, set[str]]] = {}
        """Nodes printed as a fixed expression (table-routed trees and their values)."""

    def build(self, root: Node, *, defining: bool = False) -> tuple[exp.Expression, set[str]]:
        """``root``'s expression and the internal columns it reads."""
        refs: set[str] = set()
        built: dict[int, exp.Expression] = {}
        handed: set[int] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in built:
                continue
            if node in self.columns and not (defining and node is root):
                refs.add(self.columns[node])
                built[id(node)] = literals.column(self.columns[node])
                continue
            if node in self.replaced:
                expression, reads = self.replaced[node]
                refs |= reads
                built[id(node)] = expression.copy()
                continue
            children = node.children
            if not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children) if id(child) not in built)
                continue
            # a sqlglot node has one parent: a child's expression goes as is to its first user and
            # as a copy to any other (copying every time would deep-copy each tree's big CASE)
            args = []
            for child in children:
                args.append(built[id(child)].copy() if id(child) in handed else built[id(child)])
                handed.add(id(child))
            built[id(node)] = build_node(node, args, self.dialect)
        return built[id(root)], refs


def _bind_forest(
    forest: tables.Forest,
    counts: dict[Node, int],
    builder: _Builder,
    bind: Callable[[str, exp.Expression, set[str]], None],
) -> None:
    """Bind one forest's arrays, feature list and routing columns; its trees and their double
    lookups become ``list_extract`` expressions over them (``emitters/sql/tables.py``)."""
    # the leaf number is needed when a tree is read by more than its double lookups
    leaf_numbers = any(counts[tree] > len(forest.lookups[tree]) for tree in forest.trees)
    layout = tables.ForestTables(forest, builder.dialect.tree_arrays)
    layout.build(leaf_numbers)
    for name, array in layout.arrays.items():
        bind(name, array, set())
    features: dict[Node, str] = {}
    feature_refs: set[str] = set()
    for feature, _ in layout.slots:
        if feature not in features:
            expression, refs = builder.build(feature)
            features[feature] = expression.sql(dialect=builder.dialect.sqlglot_name)
            feature_refs |= refs
    bind(forest.name("x"), layout.feature_list(features), feature_refs)
    route = ""
    for name, expression, refs in layout.routes():
        bind(name, expression, refs)
        route = name
    for tree in forest.trees:
        if leaf_numbers:
            leaf = forest.name("leaf")
            builder.replaced[tree] = (layout.lookup_expression(tree, leaf, route), {leaf, route})
        for m, lookup in enumerate(forest.lookups[tree]):
            array = forest.name("thr" if m == 0 else f"val{m}")
            builder.replaced[lookup] = (layout.lookup_expression(tree, array, route), {array, route})


def _check_arms(model: Model, positions: tuple[int, ...], builder: _Builder) -> tuple[exp.Case, set[str]]:
    """``CASE WHEN NOT c THEN reject(m) ... END`` over the checks at ``positions``, in order."""
    arms: list[exp.If] = []
    refs: set[str] = set()
    for position in positions:
        check = model.checks[position]
        condition, reads = builder.build(check.condition)
        arms.append(exp.If(this=ops.not_(condition), true=builder.dialect.reject(check.message)))
        refs |= reads
    return exp.Case(ifs=arms), refs


def _check_expression(model: Model, plan: CheckPlan, builder: _Builder) -> tuple[exp.Expression, set[str]]:
    """The check column: NULL for a good row, else the first failing check's reject.

    One column for all checks (one evaluation per row, not one per output); its arms are all the
    dialect's plain reject, so they share one type whatever the outputs' types. With a guard,
    ``CASE WHEN guard THEN <the uncovered checks> ELSE <every check> END``: where the guard holds
    no covered check fails, so the first failing check is the first failing uncovered one."""
    every, refs = _check_arms(model, tuple(range(len(model.checks))), builder)
    if plan.guard is None:
        return every, refs
    guard, guard_refs = builder.build(plan.guard)
    fast: exp.Expression = exp.null()
    if plan.others:
        fast, other_refs = _check_arms(model, plan.others, builder)
        refs |= other_refs
    return exp.Case(ifs=[exp.If(this=guard, true=fast)], default=every), refs | guard_refs


def build_query(model: Model, dialect: SqlDialect, table: str, keys: tuple[str, ...]) -> exp.Select:
    """The scoring SELECT for ``model`` (already :func:`prepare`-d) in ``dialect``."""
    if dialect.rewrite_infinities:
        model = without_infinite_comparisons(model)
    output_names = [o.name for o in model.outputs]
    for key in keys:
        if key in output_names:
            raise ModelgenError(f"key column {key!r} has the same name as an output of the model")
    if len(set(keys)) != len(keys):
        raise ModelgenError(f"key columns must be distinct, got {list(keys)}")
    check_result_columns(keys, output_names, dialect.name, dialect.identifier_rules)

    columns: dict[Node, str] = {}
    layer0: list[exp.Expression] = []
    key_columns = [f"{PREFIX}key{i}" for i in range(len(keys))]
    for key, internal in zip(keys, key_columns):
        layer0.append(_alias(literals.column(key), internal))
    for i, field_ in enumerate(model.inputs):
        internal = f"{PREFIX}in{i}"
        source = literals.column(field_.name)
        read = source if field_.dtype is STRING else dialect.read_double(source, field_.name)
        layer0.append(_alias(read, internal))
        columns[Input(field_.name, field_.dtype)] = internal
    column_layer: dict[str, int] = {name: 0 for name in [*key_columns, *columns.values()]}

    builder = _Builder(dialect, columns)
    bindings: list[tuple[str, exp.Expression, set[str]]] = []
    order = topological_order(model.roots)
    forests, levels = tables.plan_forests(order) if dialect.table_trees else ([], {})
    replaced = {tree for forest in forests for tree in forest.trees}
    replaced.update(lookup for forest in forests for found in forest.lookups.values() for lookup in found)
    forest_features = {feature for forest in forests for feature in forest.features}
    plan = plan_checks(model.checks) if dialect.sums_overflow_to_infinity else unguarded(model.checks)
    # with a guard, the checks it does not cover are printed in both arms of the check column
    twice = {model.checks[i].condition for i in plan.others} if plan.guard is not None else set()
    bound = _bound_nodes(model, dialect, replaced, forest_features, twice)
    counts = use_counts(model.roots) if forests else {}

    def bind(name: str, expression: exp.Expression, refs: set[str]) -> None:
        # as soon as possible: the first layer after everything it reads
        column_layer[name] = 1 + max((column_layer[r] for r in refs), default=0)
        bindings.append((name, expression, refs))

    def bind_node(node: Node) -> None:
        # a node's own column: later expressions read it by name
        name = f"{PREFIX}t{len(bindings)}"
        expression, refs = builder.build(node, defining=True)
        bind(name, expression, refs)
        columns[node] = name

    routed = 0
    # level by level (stable: topological within a level), each forest before the nodes reading it
    for node in sorted(order, key=levels.__getitem__) if forests else order:
        while forests and routed < levels[node]:
            _bind_forest(forests[routed], counts, builder, bind)
            routed += 1
        if node in bound:
            bind_node(node)
    check_column = f"{PREFIX}check" if model.checks else None
    if check_column is not None:
        # a guard sum is read twice by its comparison on NaN-aware engines: a column of its own
        for total in plan.sums:
            if total not in columns:
                bind_node(total)
        expression, check_refs = _check_expression(model, plan, builder)
        bind(check_column, expression, check_refs)
    final = 1 + max(column_layer.values(), default=0)
    dialect.check_layers(final)

    final_refs: set[str] = set()
    projections: list[exp.Expression] = []
    for key, internal in zip(keys, key_columns):
        projections.append(_alias(literals.column(internal), key))
        final_refs.add(internal)
    for output in model.outputs:
        expression, refs = builder.build(output.expr)
        if check_column is not None:
            # reading the check column keeps it (and its raise) in every plan; the NULL arm is
            # untyped, so the output keeps its own type, and an output CASE stays flat
            refs.add(check_column)
            failed = ops.is_not_null(literals.column(check_column))
            expression = case_when(failed, exp.null(), expression)
        final_refs |= refs
        projections.append(_alias(expression, output.name))

    # then as late as possible: the layer before its first reader, so a binding read late
    # (a tree routing shared by several outputs of one late ensemble chunk) is not carried
    # through every layer (SQLite allows 2,000 result columns); the layer count is unchanged
    first_use: dict[str, int] = {name: final for name in final_refs}
    for name, _, refs in reversed(bindings):
        column_layer[name] = max(column_layer[name], first_use.get(name, final) - 1)
        for ref in refs:
            first_use[ref] = min(first_use.get(ref, final), column_layer[name])
    layers: list[list[exp.Expression]] = [layer0] + [[] for _ in range(1, final)]
    last_use: dict[str, int] = {name: final for name in final_refs}
    for name, expression, refs in bindings:
        layers[column_layer[name]].append(_alias(expression, name))
        for ref in refs:
            last_use[ref] = max(last_use.get(ref, 0), column_layer[name])

    carried: list[list[str]] = [[] for _ in layers]
    for name, made in column_layer.items():
        for number in range(made + 1, min(last_use.get(name, 0), final)):
            carried[number].append(name)
    ctes: list[exp.CTE] = []
    for number, new_columns in enumerate(layers):
        select = exp.Select(expressions=[literals.column(name) for name in carried[number]] + new_columns)
        source = literals.identifier(table) if number == 0 else literals.identifier(f"{PREFIX}layer{number - 1}")
        select = select.from_(exp.Table(this=source), copy=False)
        alias = exp.TableAlias(this=literals.identifier(f"{PREFIX}layer{number}"))
        ctes.append(exp.CTE(this=select, alias=alias, materialized=dialect.materialize_layers or None))
    query = exp.Select(expressions=projections).from_(
        exp.Table(this=literals.identifier(f"{PREFIX}layer{final - 1}")), copy=False
    )
    query.set("with_", exp.With(expressions=ctes))
    return query
