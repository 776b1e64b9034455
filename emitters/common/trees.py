"""Views of a ``TreeLeaf`` that emitters print: root-to-leaf paths and flat node tables.

Iterative, like every walk over the IR: a depth-20 tree (or a 10,000-deep path) is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgen.ir import Node, Split, TreeLeaf


def inline_from_inputs(order: list[Node], max_nodes: int) -> dict[Node, bool]:
    """Per node (``order``: children first): can it be recomputed inline from the inputs alone --
    no ``TreeLeaf`` below it and at most ``max_nodes`` nodes when expanded as a tree?"""
    size: dict[Node, int] = {}
    direct: dict[Node, bool] = {}
    for node in order:
        children = node.children
        size[node] = min(max_nodes + 1, 1 + sum(size[c] for c in children))
        direct[node] = not isinstance(node, TreeLeaf) and size[node] <= max_nodes and all(direct[c] for c in children)
    return direct


@dataclass(frozen=True)
class PathStep:
    """One decision on the way to a leaf: ``split`` was taken to its left side or not."""

    split: Split
    went_left: bool


def leaf_paths(tree: TreeLeaf) -> list[tuple[int, tuple[PathStep, ...]]]:
    """Every leaf with the decisions leading to it, leaves in depth-first (left first) order.

    A row reaches exactly one leaf, so the paths are mutually exclusive conditions: SQL can
    print them as one flat ``CASE WHEN <path> THEN leaf ...`` without nesting.

    >>> from modelgen.ir import DOUBLE, Input, leaf_ref
    >>> t = TreeLeaf((Input("x", DOUBLE),), [Split(0, "le", 0.5, True, leaf_ref(0), leaf_ref(1))])
    >>> [(leaf, [s.went_left for s in steps]) for leaf, steps in leaf_paths(t)]
    [(0, [True]), (1, [False])]
    """
    if not tree.splits:
        return [(0, ())]
    out: list[tuple[int, tuple[PathStep, ...]]] = []
    stack: list[tuple[int, tuple[PathStep, ...]]] = [(0, ())]
    while stack:
        index, path = stack.pop()
        split = tree.splits[index]
        for child, went_left in ((split.right, False), (split.left, True)):
            steps = (*path, PathStep(split, went_left))
            if child < 0:
                out.append((-1 - child, steps))
            else:
                stack.append((child, steps))
    # the stack pops left subtrees first, but leaves collected at one split come right-first
    order = {leaf: position for position, leaf in enumerate(_leaves_in_order(tree))}
    return sorted(out, key=lambda item: order[item[0]])


def _leaves_in_order(tree: TreeLeaf) -> list[int]:
    leaves: list[int] = []
    stack = [0]
    while stack:
        child = stack.pop()
        if child < 0:
            leaves.append(-1 - child)
            continue
        split = tree.splits[child]
        stack.extend((split.right, split.left))
    return leaves
