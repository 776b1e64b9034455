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
    append = order.append
    mark = done.add
    for root in roots:
        if id(root) in done:
            continue
        # the path from the root and, per node on it, an iterator over its remaining children
        path: list[Node] = [root]
        pending = [iter(root.children)]
        while pending:
            for child in pending[-1]:
                if id(child) not in done:
                    path.append(child)
                    pending.append(iter(child.children))
                    break
            else:
                pending.pop()
                # children are pushed only when not done, and an acyclic graph never repeats
                # a node on one path: this node is finished for the first time
                node = path.pop()
                mark(id(node))
                append(node)
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
    # keyed by the nodes themselves (identity hash): the dict also keeps every result alive
    replaced: dict[Node, Node] = {}
    lookup = replaced.__getitem__
    for node in topological_order(roots):
        rebuilt = node
        children = node.children
        if children:
            new_children = tuple(map(lookup, children))
            if new_children != children:  # element-wise identity, as nodes compare
                rebuilt = node.with_children(new_children)
        replaced[node] = rewrite(rebuilt)
    return [replaced[r] for r in roots]


def depth(roots: Iterable[Node]) -> int:
    """Length of the longest root-to-leaf path (a lone leaf has depth 1)."""
    depths: dict[int, int] = {}
    best = 0
    for node in topological_order(roots):
        d = 1 + max((depths[id(c)] for c in node.children), default=0)
        depths[id(node)] = d
        best = max(best, d)
    return best
