"""Helpers for the SQL emitter tests: compile, run through an engine, compare by bits."""

from __future__ import annotations

import math
import random
import struct
import sys
from pathlib import Path
from typing import Any

from emitters.base import EmitOptions
from emitters.sql import SqlEmitter
from modelgen.engines import ROW_KEY, run_query
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    Binary,
    Const,
    Input,
    InputField,
    Lookup,
    Model,
    Node,
    OutputField,
    Split,
    Sum,
    TreeLeaf,
    leaf_ref,
    topological_order,
)
from modelgen.ir.evaluate import evaluate

# the shared samples (tests/ir_samples.py) are imported as a top-level module
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def compile_query(model: Model, dialect: str, keys: tuple[str, ...] = (ROW_KEY,), table: str = "input") -> str:
    """The query text for ``model`` in ``dialect`` (row-order key first)."""
    program = SqlEmitter().emit(model, EmitOptions(dialect=dialect, keys=keys, table=table))
    return program.files[0][1]


def run_model(model: Model, dialect: str, rows: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
    """Compile ``model`` and score ``rows`` with the real engine."""
    query = compile_query(model, dialect)
    inputs = [(f.name, f.dtype) for f in model.inputs]
    return run_query(dialect, query, "input", inputs, rows, **kwargs)


def same_value(expected: Any, got: Any, dialect: str) -> bool:
    """Bit-identical doubles (sign of zero included; NaN-ness only, and on SQLite NULL is NaN);
    equal strings. A missing string is None on both sides."""
    if isinstance(expected, float):
        if math.isnan(expected):
            return (dialect == "sqlite" and got is None) or (isinstance(got, float) and math.isnan(got))
        return isinstance(got, float) and struct.pack("<d", expected) == struct.pack("<d", got)
    return type(expected) is type(got) and expected == got


def mismatches(model: Model, dialect: str, rows: list[dict[str, Any]]) -> list[str]:
    """Every (row, output) where the engine differs from the IR interpreter, described."""
    got_rows = run_model(model, dialect, rows)
    assert len(got_rows) == len(rows)
    problems = []
    for index, (row, got) in enumerate(zip(rows, got_rows)):
        expected = evaluate(model, row)
        assert list(got) == list(expected), f"columns {list(got)} != {list(expected)}"
        for name, value in expected.items():
            if not same_value(value, got[name], dialect):
                problems.append(f"row {index} {row!r}: {name}: expected {value!r}, got {got[name]!r}")
    return problems


def uses(node: Node, predicate: Any) -> bool:
    """True when any node under ``node`` satisfies ``predicate``."""
    return any(predicate(n) for n in topological_order([node]))


def without_outputs(model: Model, drop: Any) -> Model:
    """``model`` minus the outputs whose expression has a node matching ``drop``."""
    kept = tuple(OutputField(o.name, o.kind, o.expr, o.class_label) for o in model.outputs if not uses(o.expr, drop))
    return Model(model.inputs, kept, model.checks, model.metadata)


def is_float32(node: Node) -> bool:
    """A float32 node (SQLite cannot express these)."""
    return node.dtype is FLOAT32


def is_log1p_or_expm1(node: Node) -> bool:
    """A log1p/expm1 node (no SQL engine here has them)."""
    return getattr(node, "op", None) in ("log1p", "expm1")


def sqlite_storable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` as a SQLite REAL column gives them back: -0.0 is stored as the integer 0."""
    return [
        {k: (0.0 if isinstance(v, float) and v == 0 else v) for k, v in row.items()}
        for row in rows
    ]


THRESHOLD_GRID = (*(i / 8 for i in range(-24, 25)), -0.0, math.inf, -math.inf, 0.1, 1e-300)
"""Thresholds of :func:`random_tree`: a grid (rows can sit exactly on them), -0.0, +-inf."""


def random_tree(
    rng: random.Random, features: tuple[Node, ...], depth: int, split_probability: float = 1.0
) -> TreeLeaf:
    """A random tree of at most ``depth`` levels over double ``features``: each node above the
    last level splits with ``split_probability`` (1.0: a full tree of 2**depth leaves), on a
    random feature, ``le`` or ``lt``, at a threshold from a small grid (so rows hit them
    exactly), missing values going either way. Built breadth first, without recursion."""
    splits: list[list[Any]] = []
    leaves = 0
    pending: list[tuple[int, int, int]] = []  # (parent split, 0 left / 1 right, depth of the child)
    frontier = [(-1, 0, 0)]
    while frontier:
        for parent, side, level in frontier:
            if level < depth and (level == 0 or rng.random() < split_probability):
                reference = len(splits)
                threshold = rng.choice(THRESHOLD_GRID)
                test = "le" if rng.random() < 0.8 else "lt"
                splits.append([rng.randrange(len(features)), test, threshold, rng.random() < 0.5, 0, 0])
                pending.append((reference, 0, level + 1))
                pending.append((reference, 1, level + 1))
            else:
                reference = leaf_ref(leaves)
                leaves += 1
            if parent >= 0:
                splits[parent][4 + side] = reference
        frontier, pending = pending, []
    return TreeLeaf(features, tuple(Split(*s) for s in splits))


def ensemble(
    n_trees: int, depth: int, n_features: int, *, seed: int, split_probability: float, boosting: bool
) -> Model:
    """A forest (``Sum`` of leaf values divided by ``n_trees``) or a boosting model (``Sum`` of an
    initial score and the stages), random trees over ``x0..x{n-1}``, the sum in tree order."""
    rng = random.Random(seed)
    inputs = tuple(InputField(f"x{i}", DOUBLE) for i in range(n_features))
    features = tuple(Input(f.name, DOUBLE) for f in inputs)
    terms: list[Node] = [Const(0.125)] if boosting else []
    for _ in range(n_trees):
        tree = random_tree(rng, features, depth, split_probability)
        values = tuple(rng.uniform(-1.0, 1.0) for _ in range(tree.n_leaves))
        terms.append(Lookup(tree, values, DOUBLE))
    total = Sum(tuple(terms)) if len(terms) > 1 else terms[0]
    output = total if boosting else Binary("div", total, Const(float(n_trees)))
    return Model(inputs, (OutputField("prediction", "value", output),))


def random_rows(rng: random.Random, n_features: int, count: int) -> list[dict[str, Any]]:
    """Rows of grid values (exactly on thresholds), their neighbours, NaN/None and +-inf."""
    pool = [None, math.inf, -math.inf, 0.0, -0.0, 0.1, 1e-300]
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {}
        for i in range(n_features):
            choice = rng.random()
            if choice < 0.1:
                value = rng.choice(pool)
            elif choice < 0.6:
                value = rng.choice(THRESHOLD_GRID)
                if choice < 0.4 and value is not None and math.isfinite(value):
                    value = math.nextafter(value, rng.choice((math.inf, -math.inf)))
            else:
                value = rng.uniform(-3.5, 3.5)
            row[f"x{i}"] = value
        rows.append(row)
    return rows


def neighbours(values: list[float]) -> list[float | None]:
    """Missing, +-inf, +-0.0, then each value with its two float64 neighbours."""
    out: list[float | None] = [None, math.inf, -math.inf, 0.0, -0.0]
    for value in values:
        out += [value, math.nextafter(value, math.inf), math.nextafter(value, -math.inf)]
    return out


def threshold_stump(x: Node, y: Node, test: str, threshold: float, missing_left: bool) -> TreeLeaf:
    """A two-level tree over (x, y) whose four leaves all differ: the root tests ``x`` with ``test``
    and ``threshold`` (missing goes ``missing_left``), the children route missing the other way
    and with ``lt``, so every routing difference shows in the leaf number."""
    return TreeLeaf(
        (x, y),
        (
            Split(0, test, threshold, missing_left, 1, 2),
            Split(1, "le", 0.5, not missing_left, leaf_ref(0), leaf_ref(1)),
            Split(0, "lt", threshold, missing_left, leaf_ref(2), leaf_ref(3)),
        ),
    )
