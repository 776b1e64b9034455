"""Turn the expression DAG into straight-line code: which nodes get a local variable.

A node is bound to a variable when it is used more than once (so it is computed once),
or when inlining it would make an expression nest deeper than ``max_depth`` (compilers and
parsers -- CPython, javac, SQLite -- have nesting limits). Everything else is inlined.
Expressions are pure and total, so evaluating a bound node eagerly is always safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from modelgen.ir import And, Const, Input, Model, Node, Or, Sum, topological_order, use_counts

DEFAULT_MAX_DEPTH = 32


@dataclass(frozen=True)
class Schedule:
    """Bindings in evaluation order (children first) and the variable name of each bound node."""

    bindings: tuple[tuple[str, Node], ...]
    names: dict[Node, str]
    model: Model


def _inline_weight(node: Node) -> int:
    # n-ary nodes print as a left-nested chain of binary operators
    if isinstance(node, (Sum, And, Or)):
        return len(node.terms)
    return 1


def schedule(model: Model, *, max_depth: int = DEFAULT_MAX_DEPTH, prefix: str = "t") -> Schedule:
    """Choose the bound nodes of ``model`` and name them ``{prefix}0, {prefix}1, ...`` in order.

    >>> from modelgen.ir import Input, Binary, OutputField, InputField, DOUBLE
    >>> x = Input("x", DOUBLE); y = Binary("mul", x, x); z = Binary("add", y, y)
    >>> m = Model((InputField("x", DOUBLE),), (OutputField("prediction", "value", z),))
    >>> [(name, node.op) for name, node in schedule(m).bindings]
    [('t0', 'mul')]
    """
    roots = model.roots
    counts = use_counts(roots)
    order = topological_order(roots)
    bound: set[Node] = set()
    inline_depth: dict[Node, int] = {}
    for node in order:
        if isinstance(node, (Input, Const)):
            inline_depth[node] = 1
            continue
        if counts[node] > 1:
            bound.add(node)
        children = node.children
        d = _inline_weight(node) + max((1 if c in bound else inline_depth[c] for c in children), default=0)
        if d > max_depth:
            for child in children:
                if not isinstance(child, (Input, Const)):
                    bound.add(child)
            d = _inline_weight(node) + 1
        inline_depth[node] = d
    bindings = tuple((f"{prefix}{i}", node) for i, node in enumerate(n for n in order if n in bound))
    return Schedule(bindings=bindings, names={node: name for name, node in bindings}, model=model)


def render(
    node: Node,
    plan: Schedule,
    render_node: Callable[[Node, list[str]], str],
    reference: Callable[[str], str] = lambda name: name,
    *,
    defining: bool = False,
) -> str:
    """Render ``node`` as one expression, iteratively, referring to bound nodes by name.

    ``render_node(node, rendered_children)`` builds the text of one node from the texts of
    its children. With ``defining=True`` the node itself is rendered even though it is bound
    (that is its defining assignment).
    """
    if not defining and node in plan.names:
        return reference(plan.names[node])
    texts: dict[int, str] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if id(current) in texts:
            continue
        is_reference = current in plan.names and not (defining and current is node)
        if is_reference:
            texts[id(current)] = reference(plan.names[current])
            continue
        children = current.children
        if not expanded:
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(children) if id(child) not in texts)
            continue
        texts[id(current)] = render_node(current, [texts[id(c)] for c in children])
    return texts[id(node)]
