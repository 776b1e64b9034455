"""Invariants every model keeps between passes (nodes check their own typing when built)."""

from __future__ import annotations

from modelgen.errors import IRValidationError
from modelgen.ir import Input, Model, topological_order


def check_invariants(model: Model) -> Model:
    """Raise ``IRValidationError`` unless every input read is declared with its type."""
    declared = {f.name: f.dtype for f in model.inputs}
    for node in topological_order(model.roots):
        if isinstance(node, Input) and declared.get(node.name) is not node.dtype:
            raise IRValidationError(f"input {node.name!r} is read but not declared as {node.dtype.value}")
    return model
