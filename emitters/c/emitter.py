"""The ``c`` target: a C99 scorer (``NAME.h`` + ``NAME.c``) and, with ``--runner``, ``NAME_main.c``.

Manifest: with ``--runner`` ``build`` links the runner and ``run`` is ``["./NAME"]``; without
it ``build`` only compiles ``NAME.c`` to an object (so a build system can check the scorer)
and the manifest has **no** ``run`` entry, as there is no program to run.

Build flags: ``-ffp-contract=off`` (no FMA contraction) and ``-fno-builtin``: gcc folds libm
calls on constants with MPFR (correctly rounded) while the reference calls the run-time libm,
and the two differ in the last bit for ~5% of ``expm1``/``log1p`` arguments (measured);
``-fno-tree-vectorize``: gcc 12.2's -O2 SLP vectorizer miscompiles ``(double)(float)x`` into
``x`` when two float32 casts of adjacent inputs are packed (measured: float32 sqrt/floor of
an input came out unrounded; ``tests/emitters/test_c_emitter.py`` float32 sample).
``-ffast-math`` is never used.

API (``NAME.h``): ``NAME_score(in, out)`` scores one row (NULL, or the failed check's message);
``NAME_score_batch(n, in, out, errors)`` scores ``n`` rows, ``errors[i]`` being what ``NAME_score``
returns for row i, with bit-identical outputs: it runs the same code, only routing the trees of
a block of rows tree-major (each tree's code/nodes stay in cache across the block: 64 rows, 256
in walk mode). Each row's sums keep the IR's left-fold order (the leaves are looked up per row,
in order, after routing; in walk mode a sum of tree lookups is added up tree by tree in that
same order).
It allocates its block memory with ``malloc`` and scores row by row if that fails. The runner
reads rows in blocks of 256 and scores them with ``NAME_score_batch``.

Trees (``TreeLeaf``): see ``emitters.c.trees``. Option ``EmitOptions.extra`` ``("c_tree_mode",
"auto" | "walk" | "ifelse" | "table")``: ``walk`` routes every tree by branchless node-array
walks, 16 rows per tree at once, and adds ensemble sums while walking (``emitters.c.walk``; it
needs every tree's features computed from the inputs, else it is refused);
``ifelse`` prints one routing function per tree, ``table`` one node array and a loop (compact
code for huge ensembles; gcc's time goes into parsing the initialisers); ``auto`` (the default)
picks ``walk`` whenever it applies, else ``ifelse`` up to ``trees.IFELSE_MAX_SPLITS`` splits over
the whole model and ``table`` above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import jinja2

from emitters.base import EmitOptions, EmittedProgram
from emitters.c.literals import check_name, comment_text, mangle_identifiers, string_literal
from emitters.c.support import SUPPORT_FUNCTIONS
from emitters.c.trees import ROUTE_BLOCK_ROWS, TreeCode, TreePlan, tree_mode
from emitters.c.visitor import C_TYPES, ExpressionPrinter
from emitters.c.walk import BLOCK_ROWS
from emitters.common.schedule import Schedule, render, schedule
from modelgen.ir import STRING, Model, Node, topological_order

CFLAGS: tuple[str, ...] = ("-O2", "-std=c99", "-ffp-contract=off", "-fno-builtin", "-fno-tree-vectorize")
"""Compiler flags every build of the scorer uses (see the module docstring for why)."""

PART_NODES = 2000
"""Above this many IR nodes, shared subexpressions go into part functions of about this many
nodes each: gcc's optimiser is superlinear in function size."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("emitters.c", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


_MISSING_NOTE = {False: "double, NaN = missing", True: "string, NULL = missing"}


def _declaration(ctype: str, identifier: str) -> str:
    # "const char *" binds the star to the name
    return f"{ctype}{identifier};" if ctype.endswith("*") else f"{ctype} {identifier};"


@dataclass(frozen=True)
class _Body:
    """The rendered score function: bindings (as locals or part functions), checks, outputs."""

    statements: list[str]
    parts: list[list[str]]
    temps: list[str]
    checks: list[dict[str, str]]
    outputs: list[str]


def _render_body(model: Model, plan: Schedule, printer: ExpressionPrinter) -> _Body:
    chunked = bool(plan.bindings) and len(topological_order(model.roots)) > PART_NODES
    reference = (lambda name: f"s->{name}") if chunked else (lambda name: name)
    statements: list[str] = []
    parts: list[list[str]] = []
    temps: list[str] = []
    part_start = 0
    for name, node in plan.bindings:
        text = render(node, plan, printer.render_node, reference, defining=True)
        ctype = C_TYPES[node.dtype]
        if not chunked:
            const = f"{ctype}const " if ctype.endswith("*") else f"const {ctype} "
            statements.append(f"{const}{name} = {text};")
            continue
        temps.append(_declaration(ctype, name))
        if not parts or printer.rendered_nodes - part_start > PART_NODES:
            parts.append([])
            part_start = printer.rendered_nodes
        parts[-1].append(f"s->{name} = {text};")

    def expression(node: Node) -> str:
        return render(node, plan, printer.render_node, reference)

    checks = [
        {"condition": expression(c.condition), "message": string_literal(c.message, "row check message")}
        for c in model.checks
    ]
    outputs = [expression(o.expr) for o in model.outputs]
    return _Body(statements, parts, temps, checks, outputs)


def _routing_context(trees: TreeCode) -> dict[str, Any]:
    """Template values for the scorers of a model with hoisted trees: work buffers and the calls between them."""
    buffers = trees.buffers()
    present = {name: width for name, _, width in buffers}
    finish = [(name, ctype, width) for name, ctype, width in buffers if name in ("leaf", "acc")]
    row_route, block_route = trees.routing_calls()
    return {
        "routed": True,
        "block": BLOCK_ROWS if trees.walk is not None else ROUTE_BLOCK_ROWS,
        "row_buffers": [
            f"{ctype}{'' if ctype.endswith('*') else ' '}{name}[{width}];" for name, ctype, width in buffers
        ],
        "block_buffers": [
            f"{ctype} *{name} = ({ctype} *)malloc(sizeof({ctype}) * MG_BLOCK * {width});"
            for name, ctype, width in buffers
        ],
        "buffer_names": [name for name, _, _ in buffers],
        "features_row": f"mg_features(in, {'f' if 'f' in present else 'NULL'}, {'s' if 's' in present else 'NULL'})",
        "features_block": "mg_features(&in[start + r], "
        + (f"f + r * {present['f']}" if "f" in present else "NULL") + ", "
        + (f"s + r * {present['s']}" if "s" in present else "NULL") + ")",
        "row_route": row_route,
        "block_route": block_route,
        "finish_params": "".join(f", const {ctype} *{name}" for name, ctype, _ in finish),
        "finish_names": [name for name, _, _ in finish],
        "finish_args": "".join(f", {name}" for name, _, _ in finish),
        "finish_block_args": "".join(f", {name} + r * {width}" for name, _, width in finish),
    }


class CEmitter:
    """Emit a C99 scorer; see the module docstring for the files and the manifest."""

    target: ClassVar[str] = "c"

    def emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        """Generate ``NAME.h``, ``NAME.c`` (and ``NAME_main.c`` with ``options.runner``).

        >>> from modelgen.ir import Input, InputField, OutputField, DOUBLE
        >>> m = Model((InputField("x", DOUBLE),), (OutputField("y", "value", Input("x", DOUBLE)),))
        >>> [name for name, _ in CEmitter().emit(m, EmitOptions(name="s")).files]
        ['s.h', 's.c']
        """
        name = check_name(options.name)
        input_fields = mangle_identifiers(f.name for f in model.inputs)
        output_fields = mangle_identifiers(o.name for o in model.outputs)
        printer = ExpressionPrinter({f.name: ident for f, ident in zip(model.inputs, input_fields)})
        plan = TreePlan(model, tree_mode(options.extra))
        inline_everything = Schedule(bindings=(), names={}, model=model)
        trees = TreeCode(model, plan, f"{name}_input",
                         lambda node: render(node, inline_everything, printer.render_node), printer.use)
        printer.tree_leaf = trees.leaf_text
        printer.placeholders = trees.placeholders
        # walk mode computes the ensemble sums while routing: the body reads them (acc[j]) in their place
        body_model = trees.body_model
        body = _render_body(body_model, schedule(body_model), printer)

        inputs = [
            {
                "field": ident,
                "declaration": _declaration(C_TYPES[f.dtype], ident),
                "comment": f"{comment_text(f.name)} ({_MISSING_NOTE[f.dtype is STRING]})",
                "name_literal": string_literal(f.name, "input name"),
                "type": f.dtype.value,
                "is_string": f.dtype is STRING,
            }
            for f, ident in zip(model.inputs, input_fields)
        ]
        outputs = [
            {
                "field": ident,
                "declaration": _declaration(C_TYPES[o.expr.dtype], ident),
                "comment": comment_text(o.name)
                + f" ({o.kind}"
                + (f", class {comment_text(o.class_label)}" if o.class_label is not None else "")
                + ")",
                "name_literal": string_literal(o.name, "output name"),
                "kind": o.kind,
                "is_string": o.expr.dtype is STRING,
                "expression": expression,
            }
            for o, ident, expression in zip(model.outputs, output_fields, body.outputs)
        ]
        context: dict[str, Any] = {
            "name": name,
            "upper": name.upper(),
            "guard": f"MODELGEN_{name.upper()}_H",
            "metadata": [
                f"{comment_text(key)}: {comment_text(json.dumps(value, sort_keys=True, default=str))}"
                for key, value in model.metadata.items()
            ],
            "inputs": inputs,
            "outputs": outputs,
            "tables": printer.tables,
            "helpers": [SUPPORT_FUNCTIONS[h] for h in sorted(printer.helpers)],
            "tree_definitions": trees.definitions,
            "tree_mode": plan.mode if plan.trees else None,
            **(_routing_context(trees) if plan.n_hoisted else {"routed": False}),
            "statements": body.statements,
            "parts": body.parts,
            "temps": body.temps,
            "checks": body.checks,
            "keys": [string_literal(k, "key column name") for k in options.keys],
            "has_double_input": any(not f["is_string"] for f in inputs),
            "has_double_output": any(not f["is_string"] for f in outputs),
            # a row of one empty field would be a blank line, which CSV readers skip
            "single_column": len(options.keys) + len(outputs) == 1,
        }
        files = [
            (f"{name}.h", _ENVIRONMENT.get_template("header.h.j2").render(context)),
            (f"{name}.c", _ENVIRONMENT.get_template("source.c.j2").render(context)),
        ]
        manifest: dict[str, Any] = {"target": self.target, "name": name}
        if options.runner:
            files.append((f"{name}_main.c", _ENVIRONMENT.get_template("main.c.j2").render(context)))
            manifest["files"] = [file_name for file_name, _ in files]
            manifest["build"] = [["cc", *CFLAGS, "-o", name, f"{name}.c", f"{name}_main.c", "-lm"]]
            manifest["run"] = [f"./{name}"]
        else:
            manifest["files"] = [file_name for file_name, _ in files]
            manifest["build"] = [["cc", *CFLAGS, "-c", f"{name}.c"]]
        return EmittedProgram(files=tuple(files), manifest=manifest)
