"""The ``python`` target: one standard-library-only module ``NAME.py`` with ``score(row)``.

Shared subexpressions and over-deep expressions become local variables (``schedule``);
every expression is rendered iteratively, so model size is bounded by memory, not by
Python's recursion limit or parser nesting limits.
"""

from __future__ import annotations

import json
import keyword
import re
from pathlib import Path
from typing import ClassVar

import jinja2

from emitters.base import EmitOptions, EmittedProgram
from emitters.common.schedule import Schedule, render, schedule
from emitters.python.helpers import HELPERS, close_over
from emitters.python.literals import docstring_text, input_locals, string_literal
from emitters.python.trees import TreeCode, bind_trees
from emitters.python.visitor import PythonVisitor, strip_parens
from modelgen.errors import TargetCannotExpressError
from modelgen.ir import STRING, Model, Node, TreeLeaf, topological_order
from modelgen.ir.bulk import collector_paused

MAX_DEPTH = 16
"""Deepest inline expression: short enough to read, and far below CPython's limits (200
nested brackets in the tokenizer, the parser's and compiler's C stacks)."""

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=False,  # Python source, not HTML; every model string is escaped by literals.py
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def _check_name(name: str) -> None:
    if not _MODULE_NAME.fullmatch(name) or keyword.iskeyword(name):
        raise TargetCannotExpressError(
            f"target 'python': --name {name!r} must be a Python identifier (it names the module {name}.py)"
        )


def _metadata_lines(model: Model) -> list[str]:
    lines = []
    for key, value in model.metadata.items():
        try:
            text = json.dumps(value, sort_keys=True, ensure_ascii=True)
        except (TypeError, ValueError) as error:
            raise TargetCannotExpressError(f"target 'python': model metadata {key!r} is not JSON: {error}") from error
        lines.append(docstring_text(f"{key}: {text}"))
    return lines


def _check_positions(model: Model, plan: Schedule) -> list[int]:
    """For each check, how many bindings must precede it (checks keep their order)."""
    index = {node: i for i, (_, node) in enumerate(plan.bindings)}
    positions: list[int] = []
    for check in model.checks:
        needed = max((index[n] + 1 for n in topological_order([check.condition]) if n in index), default=0)
        positions.append(max(needed, positions[-1] if positions else 0))
    return positions


def _score_body(model: Model, plan: Schedule, visitor: PythonVisitor, locals_: tuple[str, ...]) -> list[str]:
    """The statements of ``score``: read inputs, bind temporaries, run checks, return outputs."""
    lines: list[str] = []
    for field_, local in zip(model.inputs, locals_):
        reader = "_string" if field_.dtype is STRING else "_number"
        visitor.used.add(reader)
        lines.append(f"{local} = {reader}(row, {string_literal(field_.name)})")
    positions = _check_positions(model, plan)
    next_check = 0

    def emit_checks_up_to(bound: int) -> None:
        nonlocal next_check
        while next_check < len(model.checks) and positions[next_check] <= bound:
            check = model.checks[next_check]
            condition = render(check.condition, plan, visitor.render_node)
            lines.append(f"if not {condition}:")
            lines.append(f"    raise ValueError({string_literal(check.message)})")
            next_check += 1

    emit_checks_up_to(0)
    vectors: dict[tuple[Node, ...], str] = {}
    for count, (name, node) in enumerate(plan.bindings, start=1):
        if isinstance(node, TreeLeaf) and node.splits:
            # the features of a tree as one tuple, built once per row for all trees that share them
            if node.features not in vectors:
                vectors[node.features] = f"fv{len(vectors)}"
                items = [render(feature, plan, visitor.render_node) for feature in node.features]
                lines.append(f"{vectors[node.features]} = ({', '.join(items)},)")
            lines.append(f"{name} = {visitor.trees.call(node, vectors[node.features])}")
        else:
            lines.append(f"{name} = {strip_parens(render(node, plan, visitor.render_node, defining=True), node)}")
        emit_checks_up_to(count)
    emit_checks_up_to(len(plan.bindings))
    lines.append("return {")
    for output in model.outputs:
        value = render(output.expr, plan, visitor.render_node)
        if output.expr not in plan.names:
            value = strip_parens(value, output.expr)
        lines.append(f"    {string_literal(output.name)}: {value},")
    lines.append("}")
    return lines


class PythonEmitter:
    """Writes ``NAME.py``: metadata constants, ``score(row)`` and, with ``--runner``, a CSV main."""

    target: ClassVar[str] = "python"

    def emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        """Generate the module (deterministic: the same model and options give the same bytes).

        >>> from modelgen.ir import Input, InputField, OutputField, Unary, DOUBLE
        >>> m = Model((InputField("x", DOUBLE),), (OutputField("y", "value", Unary("log", Input("x", DOUBLE))),))
        >>> program = PythonEmitter().emit(m, EmitOptions(name="demo"))
        >>> [name for name, _ in program.files], "_log(x_x)" in program.files[0][1]
        (['demo.py'], True)
        """
        _check_name(options.name)
        with collector_paused():  # a forest's tables are millions of objects: see modelgen.ir.bulk
            return self._emit(model, options)

    def _emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        plan = bind_trees(schedule(model, max_depth=MAX_DEPTH))
        locals_ = input_locals(tuple(f.name for f in model.inputs))
        trees = TreeCode([node for _, node in plan.bindings if isinstance(node, TreeLeaf)])
        visitor = PythonVisitor({f.name: local for f, local in zip(model.inputs, locals_)}, trees)
        body = _score_body(model, plan, visitor, locals_)
        helpers = close_over(visitor.used)
        imports = set(visitor.imports) | trees.imports()
        for helper in helpers:
            imports.update(HELPERS[helper].imports)
        if options.runner:
            imports.update(("csv", "re", "sys"))
        text = _TEMPLATES.get_template("module.py.j2").render(
            name=docstring_text(options.name),
            metadata=_metadata_lines(model),
            runner=options.runner,
            imports=sorted(imports),
            inputs=[f"({string_literal(f.name)}, {string_literal(f.dtype.value)})" for f in model.inputs],
            outputs=[
                f"({string_literal(o.name)}, {string_literal(o.kind)}, "
                f"{'None' if o.class_label is None else string_literal(o.class_label)})"
                for o in model.outputs
            ],
            helpers=[HELPERS[h].source for h in helpers],
            trees=trees.sources(),
            body=body,
            keys=[string_literal(k) for k in options.keys],
        )
        filename = f"{options.name}.py"
        manifest: dict[str, object] = {
            "target": self.target,
            "name": options.name,
            "files": [filename],
            "build": [["python3", "-m", "py_compile", filename]],
        }
        if options.runner:
            manifest["run"] = ["python3", filename]
        return EmittedProgram(files=((filename, text),), manifest=manifest)
