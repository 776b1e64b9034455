"""``TreeLeaf`` as one flat ``CASE WHEN <path> THEN <leaf> ... ELSE <last leaf> END``.

No CASE nests inside another (SQLite's parser overflows at ~20 nested levels): every leaf's
root-to-leaf path (``emitters.common.trees.leaf_paths``) is one conjunction, the paths are
mutually exclusive, and the last leaf is the ``ELSE``. A path's steps on one feature are
merged first: threshold tests into one interval (``x > lo AND x <= hi``) -- exact, because
for a non-missing value the conjunction of comparisons is the tightest bound of each side --
and a missing value follows the path only if every step on that feature sends it the way
the path goes. Long conjunctions are grouped in parenthesised chunks of
:data:`CONJUNCTION_WIDTH` terms so the expression stays shallow (SQLite counts every
``AND`` of a left-nested chain against its 1,000-deep expression limit).

Missing values: each dialect says what its comparison gives for its missing value
(:attr:`SqlDialect.MISSING_COMPARES`: DuckDB's NaN sorts above everything, so ``NaN > t``
is TRUE and ``NaN <= t`` FALSE; SQLite's NULL gives NULL). A path term is guarded with the
missing test only where that answer is not already the one the path needs. NULL inside a
pure conjunction in a ``WHEN`` acts as FALSE, and path conjunctions are never negated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from emitters.common.trees import PathStep, leaf_paths
from emitters.sql import literals, ops
from emitters.sql.dialects import SqlDialect
from modelgen.ir import STRING, DType, TreeLeaf
from modelgen.ir.nodes import ConstValue

CONJUNCTION_WIDTH = 16
"""Terms per parenthesised group of a long path conjunction (its expression height ~ width x levels)."""

LEAF_CASE = "modelgen_leaf_case"
"""``meta`` key of a tree's CASE: the leaf number of each WHEN, then of the ELSE."""

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


def tree_case(node: TreeLeaf, features: list[exp.Expression], dialect: SqlDialect) -> exp.Expression:
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


def fold_values(case: exp.Expression, values: list[exp.Expression]) -> exp.Expression | None:
    """``case`` (from :func:`tree_case`) with each leaf number replaced by ``values[leaf]``, or
    None when ``case`` is not a tree's CASE. Saves the second ``CASE leaf WHEN 0 ...`` pass."""
    leaves = case.meta.get(LEAF_CASE) if case.meta else None
    if leaves is None:
        return None
    for arm, leaf in zip(case.args["ifs"], leaves):
        arm.set("true", values[leaf])
    case.set("default", values[leaves[-1]])
    return case
