"""Iterative walks over the expression DAG: no recursion, each shared node visited once."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from modelgen.ir.nodes import Node


def topological_order(roots: Iterable[Node]) -> list[Node]:
    """Every node reachable from ``roots``, children before parents, each once.

    The order is deterministic: a post-order walk of the roots in the order given,
    children left to right.

    >>> from modelgen.ir import Input, Const, Binary, DOUBLE
    >>> x = Input("x", DOUBLE)
    >>> [type(n).__name__ for n in topological_order([Binary("add", x, x)])]
    ['Input', 'Binary']
    """
    order: list[Node] = []
    done: set[int] = set()
    for root in roots:
        if id(root) in done:
            continue
        stack: list[tuple[Node, int]] = [(root, 0)]
        while stack:
            node, next_child = stack[-1]
            children = node.children
            if next_child < len(children):
                stack[-1] = (node, next_child + 1)
                child = children[next_child]
                if id(child) not in done:
                    stack.append((child, 0))
                continue
            stack.pop()
            if id(node) not in done:
                done.add(id(node))
                order.append(node)
    return order


def use_counts(roots: Iterable[Node]) -> dict[Node, int]:
    """How many parent edges (plus root references) point at each node."""
    roots = list(roots)
    counts: dict[Node, int] = {}
    for node in topological_order(roots):
        counts.setdefault(node, 0)
        for child in node.children:
            counts[child] = counts.get(child, 0) + 1
    for root in roots:
        counts[root] = counts.get(root, 0) + 1
    return counts


def transform(roots: Iterable[Node], rewrite: Callable[[Node], Node]) -> list[Node]:
    """Rebuild the DAG bottom-up, applying ``rewrite`` to each node once its children are rebuilt.

    ``rewrite`` gets the node over already-rewritten children and returns its replacement
    (or the node itself). Shared nodes are rewritten once. Returns the new roots.
    """
    roots = list(roots)
    replaced: dict[int, Node] = {}
    keep_alive: list[Node] = []
    for node in topological_order(roots):
        children = node.children
        new_children = tuple(replaced[id(c)] for c in children)
        rebuilt = node if all(a is b for a, b in zip(children, new_children)) else node.with_children(new_children)
        result = rewrite(rebuilt)
        replaced[id(node)] = result
        keep_alive.append(result)
    return [replaced[id(r)] for r in roots]


def depth(roots: Iterable[Node]) -> int:
    """Length of the longest root-to-leaf path (a lone leaf has depth 1)."""
    depths: dict[int, int] = {}
    best = 0
    for node in topological_order(roots):
        d = 1 + max((depths[id(c)] for c in node.children), default=0)
        depths[id(node)] = d
        best = max(best, d)
    return best
