"""Split long sums into a left-nested chain of short ones, keeping the exact order.

``Sum(t0..t59)`` becomes ``Sum(Sum(Sum(t0..t24), t25..t49), t50..t59)`` -- the same
left fold, so the same bits -- and no emitted expression is longer than ``MAX_TERMS``
terms (parsers and planners choke on 1,000-term chains).
"""

from __future__ import annotations

from modelgen.ir import Model, Node, Sum, transform

MAX_TERMS = 25


def _split(node: Node) -> Node:
    if not isinstance(node, Sum) or len(node.terms) <= MAX_TERMS:
        return node
    terms = node.terms
    partial: Node = Sum(terms[:MAX_TERMS])
    position = MAX_TERMS
    while position < len(terms):
        chunk = terms[position : position + MAX_TERMS - 1]
        partial = Sum((partial, *chunk))
        position += len(chunk)
    return partial


def split_long_sums(model: Model) -> Model:
    """``model`` with every sum longer than ``MAX_TERMS`` split, order preserved."""
    return model.with_roots(tuple(transform(model.roots, _split)))
