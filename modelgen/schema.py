"""The contract's schema (section 3) of a lowered model: what ``inspect --json`` prints."""

from __future__ import annotations

from typing import Any

from modelgen.ir import Model


def schema_of(model: Model) -> dict[str, Any]:
    """``{"inputs": [...], "outputs": [...]}`` exactly as the contract specifies."""
    outputs = []
    for output in model.outputs:
        entry: dict[str, Any] = {"name": output.name, "kind": output.kind}
        if output.class_label is not None:
            entry["class"] = output.class_label
        outputs.append(entry)
    return {
        "inputs": [{"name": f.name, "type": f.dtype.value} for f in model.inputs],
        "outputs": outputs,
    }
