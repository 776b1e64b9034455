"""``TreeLeaf`` as one nested CASE mirroring the tree, or (too deep for the engine) flat leaf paths.

Nested (the default): every split is ``CASE WHEN <goes one way> THEN <that subtree> ELSE
<other subtree> END``, and an ELSE that is itself a split is merged into the same CASE as
more ``WHEN`` arms (``CASE WHEN a THEN .. WHEN b THEN .. ELSE .. END`` evaluates ``b`` only
where ``a`` is not TRUE: the same thing). So only THEN positions nest, and each split puts
the subtree that needs less nesting in its THEN: the nesting is the tree's Strahler-like
number (:func:`nested_plan`), at most its depth, and 1-2 for path-like trees whatever their
depth. The query holds each split once (size O(nodes)) and a row evaluates only the
conditions on its path (O(depth)). Leaf values are slots of a text template, so a tree's
single ``Lookup`` fills in its values (:func:`fold_values`) and no second CASE is needed.

The WHEN condition is TRUE exactly for the rows that go to the THEN side. Missing values:
each dialect says what its comparison gives for its missing value
(:attr:`SqlDialect.MISSING_COMPARES`: DuckDB's NaN sorts above everything, so ``NaN > t``
is TRUE and ``NaN <= t`` FALSE; SQLite's NULL gives NULL, and a NULL WHEN falls to the
ELSE). A condition gets a missing guard (``isnan(x) OR`` / ``NOT isnan(x) AND``) only when
that answer is wrong for the side it picks; between two sides that need the same nesting,
the one needing no guard goes in the THEN (on SQLite that is every split). On DuckDB a guard is
one comparison of the negated feature instead (``-x >= -t`` is ``isnan(x) OR x <= t`` there:
NaN sorts above every number and -NaN is NaN), ``negated_nan_guards``.

Trees print as text through a template (sqlglot builds and prints ~5-10 us per node; a
1,000-tree depth-12 forest has ~1.5 M nodes): the text is what sqlglot would print for the
same expressions (tested), wrapped in one ``exp.Var``.

Flat (fallback, nesting above :attr:`SqlDialect.max_case_nesting`): ``CASE WHEN <path 0>
THEN 0 WHEN <path 1> THEN 1 ... ELSE <last> END`` over ``emitters.common.trees.leaf_paths``
(mutually exclusive paths, no nesting at all, size O(leaves x depth)). A path's steps on one
feature are merged first: threshold tests into one interval (``x > lo AND x <= hi``) --
exact, because for a non-missing value the conjunction of comparisons is the tightest bound
of each side -- and a missing value follows the path only if every step on that feature
sends it the way the path goes. Long conjunctions are grouped in parenthesised chunks of
:data:`CONJUNCTION_WIDTH` terms (SQLite counts every ``AND`` of a left-nested chain against
its 1,000-deep expression limit). Path terms are guarded like nested conditions; NULL
inside a pure conjunction in a ``WHEN`` acts as FALSE, and path conjunctions are never negated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from emitters.common.trees import PathStep, leaf_paths
from emitters.sql import literals, ops
from emitters.sql.dialects import SqlDialect
from modelgen.ir import DOUBLE, FLOAT32, STRING, DType, Split, TreeLeaf
from modelgen.ir.nodes import ConstValue

CONJUNCTION_WIDTH = 16
"""Terms per parenthesised group of a long path conjunction (its expression height ~ width x levels)."""

LEAF_CASE = "modelgen_leaf_case"
"""``meta`` key of a flat tree CASE: the leaf number of each WHEN, then of the ELSE."""

TEMPLATE = "modelgen_tree_template"
"""``meta`` key of a nested tree's ``exp.Var``: a :class:`Template`."""


@dataclass(frozen=True)
class Template:
    """A nested tree CASE as text pieces (ints: leaf slots), and a column of the row for literals
    that must not be constants. Immutable, so copies of the ``exp.Var`` share it (a tree routed
    once per Lookup -- per class -- is copied per Lookup; a deep copy would copy every piece)."""

    pieces: tuple[str | int, ...]
    column: str

    def __deepcopy__(self, memo: dict[int, object]) -> Template:
        return self

_SIDE_TESTS = {"le": ("le", "gt"), "lt": ("lt", "ge"), "in": ("in", "notin"), "notin": ("notin", "in")}
"""A split test -> (the test of its left side, of its right side) for non-missing values."""

_COMPARISONS: dict[str, type[exp.Binary]] = {"le": exp.LTE, "lt": exp.LT, "gt": exp.GT, "ge": exp.GTE}


@dataclass
class _FeatureSteps:
    """The steps of one path on one feature, merged."""

    upper: tuple[float, bool] | None = None  # (threshold, strict): x <= t, or x < t when strict
    lower: tuple[float, bool] | None = None  # (threshold, strict): x >= t, or x > t when strict
    sets: list[tuple[bool, tuple[ConstValue, ...]]] = field(default_factory=list)  # (member?, values)
    missing_follows: bool = True


def _merge(steps: Sequence[PathStep]) -> dict[int, _FeatureSteps]:
    merged: dict[int, _FeatureSteps] = {}
    for step in steps:
        split = step.split
        entry = merged.setdefault(split.feature, _FeatureSteps())
        entry.missing_follows = entry.missing_follows and split.missing_left == step.went_left
        if split.test in ("in", "notin"):
            entry.sets.append(((split.test == "in") == step.went_left, split.operand))  # type: ignore[arg-type]
            continue
        threshold = float(split.operand)  # type: ignore[arg-type]
        # left: x <= t (le) / x < t (lt); right: x > t (le) / x >= t (lt)
        if step.went_left:
            bound = (threshold, split.test == "lt")
            if entry.upper is None or bound[0] < entry.upper[0] or (bound[0] == entry.upper[0] and bound[1]):
                entry.upper = bound
        else:
            bound = (threshold, split.test == "le")
            if entry.lower is None or bound[0] > entry.lower[0] or (bound[0] == entry.lower[0] and bound[1]):
                entry.lower = bound
    return merged


def _value(value: ConstValue, dtype: DType, dialect: SqlDialect) -> exp.Expression:
    return literals.string(value) if dtype is STRING else dialect.double(float(value))  # type: ignore[arg-type]


def _feature_term(
    entry: _FeatureSteps, x: exp.Expression, dtype: DType, dialect: SqlDialect
) -> exp.Expression:
    tests: list[tuple[str, exp.Expression]] = []  # (dialect test name, comparison)
    if entry.lower is not None:
        op = "gt" if entry.lower[1] else "ge"
        tests.append((op, ops.compare(_COMPARISONS[op], x.copy(), dialect.double(entry.lower[0]))))
    if entry.upper is not None:
        op = "lt" if entry.upper[1] else "le"
        tests.append((op, ops.compare(_COMPARISONS[op], x.copy(), dialect.double(entry.upper[0]))))
    for member, values in entry.sets:
        listed = ops.in_(x.copy(), [_value(v, dtype, dialect) for v in values])
        tests.append(("in", listed) if member else ("notin", ops.not_(listed)))
    # what each comparison yields for this engine's missing value: True, False or None (NULL)
    answers = [None if dtype is STRING else dialect.MISSING_COMPARES[name] for name, _ in tests]
    conjunction = ops.and_([test for _, test in tests])
    missing = ops.is_null(x.copy()) if dtype is STRING else dialect.is_nan(x.copy())
    if entry.missing_follows:
        if all(answer is True for answer in answers):
            return conjunction
        return ops.or_([missing, conjunction])
    if any(answer is not True for answer in answers):
        return conjunction  # FALSE or NULL for a missing value: the WHEN is not taken
    return ops.and_([ops.not_(missing), conjunction])


def conjunction(terms: list[exp.Expression]) -> exp.Expression:
    """``t0 AND t1 AND ...`` grouped in parenthesised chunks of ``CONJUNCTION_WIDTH``, iteratively.

    >>> conjunction([exp.column(f"c{i}") for i in range(3)]).sql()
    'c0 AND c1 AND c2'
    """
    while len(terms) > CONJUNCTION_WIDTH:
        terms = [
            exp.Paren(this=ops.and_(terms[i : i + CONJUNCTION_WIDTH])) for i in range(0, len(terms), CONJUNCTION_WIDTH)
        ]
    return ops.and_(terms)


def path_condition(
    steps: Sequence[PathStep], features: list[exp.Expression], dtypes: list[DType], dialect: SqlDialect
) -> exp.Expression:
    """TRUE exactly for the rows whose routing takes ``steps`` (NULL/FALSE otherwise)."""
    terms = []
    for feature, entry in _merge(steps).items():
        x, dtype = features[feature], dtypes[feature]
        terms.append(_feature_term(entry, x, dtype, dialect))
    return conjunction(terms)


@dataclass(frozen=True)
class NestedPlan:
    """How a tree prints nested: per split, whether its left side goes in the THEN and whether
    that condition needs a missing guard; ``nesting`` is the deepest CASE-in-THEN chain."""

    then_left: list[bool]
    guarded: list[bool]
    nesting: int


def _needs_guard(split: Split, left: bool, dtype: DType, dialect: SqlDialect) -> bool:
    test = _SIDE_TESTS[split.test][0 if left else 1]
    answer = None if dtype is STRING else dialect.MISSING_COMPARES[test]
    if split.missing_left == left:
        return answer is not True  # missing must make the condition TRUE
    return answer is True  # missing must not make it TRUE (FALSE or NULL both fall through)


def nested_plan(node: TreeLeaf, dialect: SqlDialect) -> NestedPlan:
    """Choose each split's THEN side (least nesting first, then no guard), bottom up, iteratively.

    ``nest(leaf) = 0``; ``nest(split) = max(1 + nest(then), nest(else), 1)`` because an ELSE
    split is merged into its parent's CASE.
    """
    splits = node.splits
    preorder: list[int] = []
    stack = [0]
    while stack:
        index = stack.pop()
        preorder.append(index)
        split = splits[index]
        stack.extend(child for child in (split.right, split.left) if child >= 0)
    nest = [0] * len(splits)
    then_left = [True] * len(splits)
    guarded = [False] * len(splits)
    for index in reversed(preorder):  # children before parents
        split = splits[index]
        dtype = node.features[split.feature].dtype
        left = nest[split.left] if split.left >= 0 else 0
        right = nest[split.right] if split.right >= 0 else 0
        guard_left = _needs_guard(split, True, dtype, dialect)
        guard_right = _needs_guard(split, False, dtype, dialect)
        choose_left = left < right or (left == right and (guard_right or not guard_left))
        then_left[index] = choose_left
        guarded[index] = guard_left if choose_left else guard_right
        nest[index] = max(1 + left, right, 1) if choose_left else max(1 + right, left, 1)
    return NestedPlan(then_left, guarded, nest[0])


def _condition_text(
    split: Split, left: bool, guarded: bool, x: str, missing: tuple[str, str], dtype: DType, dialect: SqlDialect
) -> str:
    test = _SIDE_TESTS[split.test][0 if left else 1]
    if test in ("in", "notin"):
        values = ", ".join(_value_text(v, dtype, x, dialect) for v in split.operand)  # type: ignore[union-attr]
        compared = f"{x} IN ({values})" if test == "in" else f"NOT {x} IN ({values})"
    else:
        threshold = dialect.tree_double_text(float(split.operand), x)  # type: ignore[arg-type]
        compared = f"{x} {_OPERATORS[test]} {threshold}"
    if not guarded:
        return compared
    if test in _NEGATED and getattr(dialect, "negated_nan_guards", False):
        operator, nan_answer = _NEGATED[test]
        if nan_answer == (split.missing_left == left):
            # NaN sorts above every number and -NaN is NaN, so -x >= -t is exactly
            # isnan(x) OR x <= t (and -x < -t is NOT isnan(x) AND x > t) in one comparison:
            # measured on DuckDB 2.0 depth-8 CASE trees, ~30 % less execution, ~2x less planning
            negated = dialect.tree_double_text(-float(split.operand), x)  # type: ignore[arg-type]
            operand = f"-{x}" if _IDENTIFIER.fullmatch(x) else f"-({x})"
            return f"{operand} {operator} {negated}"
    is_missing, not_missing = missing
    if split.missing_left == left:
        return f"{is_missing} OR {compared}"
    return f"{not_missing} AND {compared}"


_OPERATORS = {"le": "<=", "lt": "<", "gt": ">", "ge": ">="}

_IDENTIFIER = re.compile(r'"(?:[^"]|"")*"')
"""One double-quoted identifier: negated without parentheses."""

_NEGATED = {"le": (">=", True), "lt": (">", True), "gt": ("<", False), "ge": ("<=", False)}
"""A test -> (the operator comparing -x with -t, that comparison's answer when x is NaN) on a
dialect whose NaN sorts above every number (``negated_nan_guards``)."""


def _value_text(value: ConstValue, dtype: DType, column: str, dialect: SqlDialect) -> str:
    if dtype is STRING:
        return literals.string(value).sql(dialect=dialect.sqlglot_name)  # type: ignore[arg-type]
    return dialect.tree_double_text(float(value), column)  # type: ignore[arg-type]


_FEATURE_TEXTS: dict[tuple[type[SqlDialect], str, bool], tuple[str, tuple[str, str]]] = {}
"""(dialect, column, string?) -> what :func:`_feature_text` gives: the same for every tree."""


def _feature_text(x: exp.Expression, dtype: DType, dialect: SqlDialect) -> tuple[str, tuple[str, str]]:
    # (x, (x is missing, x is not missing)) as text, through sqlglot once per column
    key = (type(dialect), x.name, dtype is STRING) if isinstance(x, exp.Column) else None
    if key is not None and key in _FEATURE_TEXTS:
        return _FEATURE_TEXTS[key]
    missing = ops.is_null(x.copy()) if dtype is STRING else dialect.is_nan(x.copy())
    present = ops.is_not_null(x.copy()) if dtype is STRING else dialect.not_nan(x.copy())
    name = dialect.sqlglot_name
    text = (x.sql(dialect=name), (missing.sql(dialect=name), present.sql(dialect=name)))
    if key is not None:
        _FEATURE_TEXTS[key] = text
    return text


def nested_template(
    node: TreeLeaf, plan: NestedPlan, features: list[exp.Expression], dialect: SqlDialect
) -> list[str | int]:
    """The nested CASE of ``node`` as text pieces; an int piece is the slot of that leaf's value."""
    dtypes = [f.dtype for f in node.features]
    texts: dict[int, tuple[str, tuple[str, str]]] = {}
    splits, then_left, guarded = node.splits, plan.then_left, plan.guarded
    pieces: list[str | int] = []
    # work items: text, a split index (>= 0: that split's WHEN arms), a leaf reference (< 0)
    stack: list[str | int] = [" END", 0, "CASE "]
    while stack:
        item = stack.pop()
        if item.__class__ is str:
            if pieces and pieces[-1].__class__ is str:
                pieces[-1] += item  # type: ignore[operator]
            else:
                pieces.append(item)
            continue
        if item < 0:  # type: ignore[operator]
            pieces.append(-1 - item)  # type: ignore[operator]
            continue
        split = splits[item]  # type: ignore[index]
        left = then_left[item]  # type: ignore[index]
        then, other = (split.left, split.right) if left else (split.right, split.left)
        feature = split.feature
        if feature not in texts:
            texts[feature] = _feature_text(features[feature], dtypes[feature], dialect)
        x, missing = texts[feature]
        condition = _condition_text(split, left, guarded[item], x, missing, dtypes[feature], dialect)  # type: ignore[index]
        # an ELSE split is merged into this CASE (more WHEN arms); a THEN split nests
        if other >= 0:
            stack.extend((other, " "))
        else:
            stack.extend((other, " ELSE "))
        if then >= 0:
            stack.extend((" END", then, f"WHEN {condition} THEN CASE "))
        else:
            stack.extend((then, f"WHEN {condition} THEN "))
    return pieces


def render(template: Sequence[str | int], slots: list[str]) -> str:
    """``template`` with each leaf slot replaced by ``slots[leaf]``."""
    return "".join(piece if isinstance(piece, str) else slots[piece] for piece in template)


def tree_case(node: TreeLeaf, features: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    """The leaf number ``node`` routes the row to: a nested CASE (an ``exp.Var`` whose ``meta``
    holds the template), or one flat CASE when the tree nests too deep for ``dialect``."""
    if not node.splits:
        return literals.integer(0)
    plan = nested_plan(node, dialect)
    if plan.nesting <= dialect.max_case_nesting:
        template = nested_template(node, plan, features, dialect)
        case = exp.Var(this=render(template, [str(leaf) for leaf in range(node.n_leaves)]))
        # any column of the row, for dialects whose tree literals must not be constants
        column = _feature_text(features[0], node.features[0].dtype, dialect)[0]
        case.meta[TEMPLATE] = Template(tuple(template), column)
        return case
    return flat_tree_case(node, features, dialect)


def flat_tree_case(node: TreeLeaf, features: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
    """The leaf number ``node`` routes the row to, as one flat CASE (``meta`` names the leaves)."""
    if not node.splits:
        return literals.integer(0)
    dtypes = [f.dtype for f in node.features]
    paths = leaf_paths(node)
    ifs = [
        exp.If(this=path_condition(steps, features, dtypes, dialect), true=literals.integer(leaf))
        for leaf, steps in paths[:-1]
    ]
    case = exp.Case(ifs=ifs, default=literals.integer(paths[-1][0]))
    case.meta[LEAF_CASE] = [leaf for leaf, _ in paths]
    return case


def fold_values(
    case: exp.Expression,
    values: Sequence[ConstValue],
    dtype: DType,
    dialect: SqlDialect,
    literal: Callable[[ConstValue], exp.Expression],
) -> exp.Expression | None:
    """``case`` (from :func:`tree_case`) with each leaf number replaced by ``literal(values[leaf])``
    (doubles: :meth:`SqlDialect.tree_double_text`), or None when ``case`` is not a
    tree's CASE. Saves a second ``CASE leaf WHEN 0 ...`` pass (O(leaves) per row), so the
    query builder routes a tree once per Lookup (per class) rather than binding its leaf.
    A nested CASE gives a new expression (``case`` stays a template for further Lookups);
    a flat one is rewritten in place (every arm: a copy of it can be folded again)."""
    stored = case.meta.get(TEMPLATE) if case.meta else None
    if stored is not None:
        name = dialect.sqlglot_name
        if dtype in (DOUBLE, FLOAT32):
            texts = [dialect.tree_double_text(float(v), stored.column) for v in values]  # type: ignore[arg-type]
        else:
            texts = [literal(v).sql(dialect=name) for v in values]
        return exp.Var(this=render(stored.pieces, texts))  # type: ignore[arg-type]
    leaves = case.meta.get(LEAF_CASE) if case.meta else None
    if leaves is None:
        return None
    built = [literal(v) for v in values]
    for arm, leaf in zip(case.args["ifs"], leaves):
        arm.set("true", built[leaf])
    case.set("default", built[leaves[-1]])
    return case

