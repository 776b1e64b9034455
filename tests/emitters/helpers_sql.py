"""Helpers for the SQL emitter tests: compile, run through an engine, compare by bits."""

from __future__ import annotations

import math
import struct
import sys
from pathlib import Path
from typing import Any

from emitters.base import EmitOptions
from emitters.sql import SqlEmitter
from modelgen.engines import ROW_KEY, run_query
from modelgen.ir import FLOAT32, Model, Node, OutputField, topological_order
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
