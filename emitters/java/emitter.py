"""The Java target: one class ``NAME`` in ``NAME.java`` (plus ``NAMERunner.java`` with ``--runner``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jinja2

from emitters.base import EmitOptions, EmittedProgram
from emitters.common.schedule import Schedule, render
from emitters.java.layout import Layout, Scratch, layout, split_parts, weight
from emitters.java.literals import comment_text, string_literal
from emitters.java.names import check_class_name, check_package, mangle
from emitters.java.visitor import JAVA_TYPES, JavaExpressions
from emitters.java.walk import BLOCK_ROWS, JavaWalk, walk_trees
from modelgen.ir import DOUBLE, STRING, Model, Node, TreeLeaf
from modelgen.ir.bulk import collector_paused

MAX_CALLS_PER_METHOD = 50
"""Part methods called by one method; more parts are called through a tree of group methods."""

MAX_FIELDS_PER_METHOD = 100
"""Runner fill/write statements per method (a model with thousands of inputs stays JIT-able)."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


@dataclass(frozen=True)
class _Method:
    name: str
    body: tuple[str, ...]


@dataclass(frozen=True)
class _Field:
    name: str
    java_type: str
    comment: str
    kind: str


def _string_array(values: list[str | None]) -> str:
    return ", ".join("null" if v is None else string_literal(v) for v in values)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _call_tree(parts: int) -> tuple[list[str], list[_Method]]:
    """Names the top level calls and the group methods, so no method calls more than the limit."""
    calls = [f"part{i}" for i in range(parts)]
    groups: list[_Method] = []
    level = 0
    while len(calls) > MAX_CALLS_PER_METHOD:
        grouped: list[str] = []
        for index, chunk in enumerate(_chunks(calls, MAX_CALLS_PER_METHOD)):
            name = f"group{level}_{index}"
            groups.append(_Method(name, tuple(chunk)))
            grouped.append(name)
        calls = grouped
        level += 1
    return calls, groups


class JavaEmitter:
    """Emits a Java 11 scorer class and, with ``runner``, its CSV runner.

    >>> from modelgen.ir import Input, InputField, OutputField, Binary, Const, DOUBLE
    >>> x = Input("x", DOUBLE)
    >>> m = Model((InputField("x", DOUBLE),), (OutputField("y", "value", Binary("mul", x, Const(2.0))),))
    >>> program = JavaEmitter().emit(m, EmitOptions(name="Scorer"))
    >>> [name for name, _ in program.files], program.manifest["build"]
    (['Scorer.java'], [['javac', '--release', '11', '-d', 'classes', 'Scorer.java']])
    """

    target: ClassVar[str] = "java"

    def emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        """Generate ``NAME.java`` (and ``NAMERunner.java`` when ``options.runner``) and the manifest."""
        with collector_paused():  # a forest's tables are millions of objects: see modelgen.ir.bulk
            return self._emit(model, options)

    def _emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        name = check_class_name(options.name)
        package = check_package(options.package)
        input_fields = mangle([f.name for f in model.inputs])
        output_fields = mangle([o.name for o in model.outputs])
        files = [(f"{name}.java", self._scorer(model, name, package, input_fields, output_fields))]
        if options.runner:
            check_class_name(f"{name}Runner")
            files.append((f"{name}Runner.java", self._runner(model, name, package, options.keys, output_fields)))
        sources = [file_name for file_name, _ in files]
        manifest: dict[str, Any] = {
            "target": self.target,
            "name": name,
            "files": sources,
            "build": [["javac", "--release", "11", "-d", "classes", *sources]],
        }
        if options.runner:
            qualified = f"{package}.{name}Runner" if package else f"{name}Runner"
            manifest["run"] = ["java", "-cp", "classes", qualified]
        return EmittedProgram(files=tuple(files), manifest=manifest)

    def _scorer(
        self, model: Model, name: str, package: str | None, input_fields: list[str], output_fields: list[str]
    ) -> str:
        trees = walk_trees(model)
        walk = JavaWalk(model, trees) if trees is not None else None
        body = walk.body_model if walk is not None else model
        plan = layout(body, walked=walk is not None)
        expressions = JavaExpressions(
            {f.name: field for f, field in zip(model.inputs, input_fields)}, plan.feature_slots
        )
        scratch = plan.scratch
        helpers: list[str] = []
        if walk is not None:
            expressions.placeholders = walk.placeholders
            expressions.walked_leaves = walk.leaf_slots
            for column in walk.columns:
                expressions.pool.add_column(*column)
            inline = Schedule(bindings=(), names={}, model=model)
            helpers = walk.feature_methods(lambda node: render(node, inline, expressions.render_node))
            helpers.append(walk.walk_method())
            scratch += tuple(
                Scratch(var, java_type, size)
                for var, java_type, size in (("wa", "double", walk.n_acc), ("wl", "int", walk.n_leaf))
                if size
            )
        statements = self._statements(body, plan, expressions, output_fields, walked=walk is not None)
        parts = split_parts(statements)
        top_calls, groups = _call_tree(len(parts))
        args = "".join(f", {array.var}" for array in scratch)
        params = "".join(f", {array.java_type}[] {array.var}" for array in scratch)
        methods = [_Method(f"part{i}", tuple(body)) for i, body in enumerate(parts)]
        methods += [_Method(g.name, tuple(f"{call}(in, out{args});" for call in g.body)) for g in groups]
        source = model.metadata.get("source")
        return _ENVIRONMENT.get_template("scorer.java.j2").render(
            name=name,
            package=package,
            source=comment_text(str(source)) if source is not None else "",
            input_names=_string_array([f.name for f in model.inputs]),
            input_types=_string_array([f.dtype.value for f in model.inputs]),
            output_names=_string_array([o.name for o in model.outputs]),
            output_kinds=_string_array([o.kind for o in model.outputs]),
            output_classes=_string_array([o.class_label for o in model.outputs]),
            tables=expressions.table_declarations() + (expressions.pool.declarations() if expressions.pool else []),
            inputs=[
                _Field(field, JAVA_TYPES[f.dtype], comment_text(f.name), f.dtype.value)
                for f, field in zip(model.inputs, input_fields)
            ],
            outputs=[
                _Field(field, JAVA_TYPES[o.expr.dtype], comment_text(o.name), o.kind)
                for o, field in zip(model.outputs, output_fields)
            ],
            scratch=scratch,
            walk=None if walk is None else {
                "block": BLOCK_ROWS, "width": walk.width, "n_acc": walk.n_acc, "n_leaf": walk.n_leaf
            },
            top_calls=top_calls,
            args=args,
            params=params,
            methods=methods,
            helpers=helpers + expressions.helper_sources() + (expressions.pool.methods() if expressions.pool else []),
        )

    @staticmethod
    def _statements(
        model: Model, plan: Layout, expressions: JavaExpressions, output_fields: list[str], *, walked: bool
    ) -> list[tuple[str, int]]:
        """Every statement of the scorer with its weight: bindings, then checks, then outputs
        (``walked``: the walk routed the trees already, they read no fx / fs)."""

        def expression(node: Node, *, defining: bool = False) -> str:
            return render(node, plan.plan, expressions.render_node, defining=defining)

        statements: list[tuple[str, int]] = []
        filled: set[Node] = set()
        for slot, node in plan.plan.bindings:
            if isinstance(node, TreeLeaf) and not walked:
                # a tree reads its features from fx / fs: store those no earlier tree stored
                for feature in node.features:
                    if feature not in filled:
                        filled.add(feature)
                        array = "fs" if feature.dtype is STRING else "fx"
                        target = f"{array}[{plan.feature_slots[feature]}]"
                        statements.append((f"{target} = {expression(feature)};", weight(feature, plan, defining=False)))
            statements.append((f"{slot} = {expression(node, defining=True)};", weight(node, plan, defining=True)))
        for check in model.checks:
            condition = expression(check.condition)
            message = string_literal(check.message)
            statements.append(
                (
                    f"if (!{condition}) {{ throw new IllegalArgumentException({message}); }}",
                    weight(check.condition, plan, defining=False) + 3,
                )
            )
        for output, field in zip(model.outputs, output_fields):
            statements.append((f"out.{field} = {expression(output.expr)};", weight(output.expr, plan, defining=False)))
        return statements

    def _runner(
        self, model: Model, name: str, package: str | None, keys: tuple[str, ...], output_fields: list[str]
    ) -> str:
        input_fields = mangle([f.name for f in model.inputs])
        fills: list[str] = []
        for index, (f, field) in enumerate(zip(model.inputs, input_fields)):
            if f.dtype is DOUBLE:
                fills.append(f"in.{field} = parseNumber(f.get(col[{index}]), where, {index});")
            else:
                fills.append(f"in.{field} = f.get(col[{index}]);")
        writes = [
            f"writeNumber(line, o.{field});" if o.expr.dtype is DOUBLE else f"writeText(line, o.{field});"
            for o, field in zip(model.outputs, output_fields)
        ]
        fill_methods = [_Method(f"fill{i}", tuple(c)) for i, c in enumerate(_chunks(fills, MAX_FIELDS_PER_METHOD))]
        write_methods = [_Method(f"write{i}", tuple(c)) for i, c in enumerate(_chunks(writes, MAX_FIELDS_PER_METHOD))]
        return _ENVIRONMENT.get_template("runner.java.j2").render(
            name=name,
            package=package,
            key_names=_string_array(list(keys)),
            fills=[m.name for m in fill_methods],
            writes=[m.name for m in write_methods],
            fill_methods=fill_methods,
            write_methods=write_methods,
        )
