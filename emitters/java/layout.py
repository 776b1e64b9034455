"""Where each value lives and which method computes it: keeps every generated method small.

The JVM caps a method at 64 KB of bytecode and HotSpot never JIT-compiles a method over
8,000 bytes, so a straight-line scorer cannot be one method. On top of the shared schedule
(shared nodes and deep nests become variables), this module

1. binds more nodes so that no single statement inlines more than ``MAX_INLINE_NODES`` nodes
   (a wide, shallow tree is one huge statement otherwise);
2. stores every bound value in a per-call scratch array, one per Java type (``d[3]``, ``s[0]``),
   so statements can live in different methods;
3. cuts the statement list into parts of at most ``MAX_PART_STATEMENTS`` statements and
   ``MAX_PART_WEIGHT`` inlined nodes, each a private static method.

Every ``TreeLeaf`` with splits is bound (its routing is one ``route(...)`` call into the packed
tables, see ``trees.py``), and every feature a tree reads gets a slot in one per-call array,
``fx`` (double and float32 features, widened exactly) or ``fs`` (strings), shared by all trees:
a forest over 20 inputs fills 20 slots per row, not 20 per tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from emitters.common.schedule import Schedule, schedule
from modelgen.ir import (
    BOOL,
    DOUBLE,
    FLOAT32,
    INT,
    STRING,
    Const,
    DType,
    Input,
    Model,
    Node,
    TreeLeaf,
    topological_order,
)

MAX_INLINE_NODES = 64
MAX_PART_STATEMENTS = 100
MAX_PART_WEIGHT = 400

SCRATCH: tuple[tuple[DType, str, str], ...] = (
    (DOUBLE, "d", "double"),
    (FLOAT32, "f", "float"),
    (INT, "l", "long"),
    (BOOL, "b", "boolean"),
    (STRING, "s", "String"),
)
"""Scratch arrays: IR dtype, array variable name, Java element type (in parameter order)."""


@dataclass(frozen=True)
class Scratch:
    """One scratch array a scorer call allocates: its variable, element type and length."""

    var: str
    java_type: str
    size: int


@dataclass(frozen=True)
class Layout:
    """The schedule whose names are scratch-array slots, plus the arrays to allocate."""

    plan: Schedule
    scratch: tuple[Scratch, ...]
    weights: dict[Node, int]
    feature_slots: dict[Node, int]
    """Index of each tree feature node in ``fx`` (numeric) or ``fs`` (string)."""


def _is_leaf(node: Node) -> bool:
    return isinstance(node, (Input, Const))


def layout(model: Model, *, walked: bool = False) -> Layout:
    """Bind, place and weigh the nodes of ``model`` (see the module docstring).

    ``walked``: the trees are routed by the walk (walk.py) before this code runs, so they read
    no ``fx`` / ``fs`` slots.
    """
    base = schedule(model)
    bound: set[Node] = set(base.names)
    order = topological_order(model.roots)
    trees = [node for node in order if isinstance(node, TreeLeaf) and node.splits]
    bound.update(trees)
    size: dict[Node, int] = {}
    for node in order:
        if _is_leaf(node):
            size[node] = 1
            continue
        children = node.children
        total = 1 + sum(1 if c in bound else size[c] for c in children)
        if total > MAX_INLINE_NODES:
            bound.update(c for c in children if not _is_leaf(c))
            total = 1 + len(children)
        size[node] = total
    counters = {dtype: 0 for dtype, _, _ in SCRATCH}
    var_of = {dtype: var for dtype, var, _ in SCRATCH}
    bindings: list[tuple[str, Node]] = []
    for node in order:
        if node in bound:
            slot = f"{var_of[node.dtype]}[{counters[node.dtype]}]"
            counters[node.dtype] += 1
            bindings.append((slot, node))
    plan = Schedule(bindings=tuple(bindings), names={node: name for name, node in bindings}, model=model)
    scratch = tuple(Scratch(var, java_type, counters[dtype]) for dtype, var, java_type in SCRATCH if counters[dtype])
    feature_slots: dict[Node, int] = {}
    counts = {"fx": 0, "fs": 0}
    if walked:
        trees = []
    for tree in trees:
        for feature in tree.features:
            if feature not in feature_slots:
                array = "fs" if feature.dtype is STRING else "fx"
                feature_slots[feature] = counts[array]
                counts[array] += 1
    scratch += tuple(
        Scratch(var, java_type, counts[var]) for var, java_type in (("fx", "double"), ("fs", "String")) if trees
    )
    return Layout(plan=plan, scratch=scratch, weights=size, feature_slots=feature_slots)


def weight(node: Node, plan: Layout, *, defining: bool) -> int:
    """How many nodes a statement computing ``node`` inlines (1 for a plain slot read)."""
    if not defining and node in plan.plan.names:
        return 1
    return plan.weights[node]


def split_parts(weighted: list[tuple[str, int]]) -> list[list[str]]:
    """Cut ``(statement, weight)`` pairs, in order, into method bodies within the limits."""
    parts: list[list[str]] = []
    current: list[str] = []
    current_weight = 0
    for statement, cost in weighted:
        if current and (len(current) >= MAX_PART_STATEMENTS or current_weight + cost > MAX_PART_WEIGHT):
            parts.append(current)
            current, current_weight = [], 0
        current.append(statement)
        current_weight += cost
    if current:
        parts.append(current)
    return parts
