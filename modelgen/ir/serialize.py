"""IR <-> JSON. Nodes are listed once each (children first) and referenced by index.

Doubles are written as ``repr`` strings (round-trip exact, and NaN/inf survive JSON).
"""

from __future__ import annotations

from typing import Any

from modelgen.errors import IRValidationError
from modelgen.ir.model import InputField, Model, OutputField, RowCheck
from modelgen.ir.nodes import NODE_TYPES, Node
from modelgen.ir.traversal import topological_order
from modelgen.ir.types import DType

FORMAT_VERSION = 1


def _encode_value(value: Any) -> Any:
    if isinstance(value, DType):
        return {"dtype": value.value}
    if isinstance(value, float):
        return {"double": repr(value)}
    if isinstance(value, tuple):
        return [_encode_value(v) for v in value]
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dtype" in value:
            return DType(value["dtype"])
        if "double" in value:
            return float(value["double"])
        raise IRValidationError(f"cannot decode {value!r}")
    if isinstance(value, list):
        return tuple(_decode_value(v) for v in value)
    return value


def model_to_json(model: Model) -> dict[str, Any]:
    """A JSON-able dict holding the whole model; ``model_from_json`` reads it back identically."""
    order = topological_order(model.roots)
    index = {id(node): i for i, node in enumerate(order)}
    nodes = []
    for node in order:
        entry: dict[str, Any] = {"node": type(node).__name__, "dtype": node.dtype.value}
        for name in node._fields:
            value = getattr(node, name)
            if name in node._child_fields:
                entry[name] = [index[id(v)] for v in value] if isinstance(value, tuple) else index[id(value)]
            else:
                entry[name] = _encode_value(value)
        nodes.append(entry)
    return {
        "format": FORMAT_VERSION,
        "inputs": [{"name": f.name, "type": f.dtype.value} for f in model.inputs],
        "checks": [{"condition": index[id(c.condition)], "message": c.message} for c in model.checks],
        "outputs": [
            {"name": o.name, "kind": o.kind, "class": o.class_label, "expr": index[id(o.expr)]} for o in model.outputs
        ],
        "nodes": nodes,
        "metadata": dict(model.metadata),
    }


def model_from_json(data: dict[str, Any]) -> Model:
    """Rebuild a model written by ``model_to_json``."""
    if data.get("format") != FORMAT_VERSION:
        raise IRValidationError(f"unknown IR format {data.get('format')!r}")
    built: list[Node] = []
    for position, entry in enumerate(data["nodes"]):
        cls = NODE_TYPES.get(entry["node"])
        if cls is None:
            raise IRValidationError(f"node {position}: unknown node type {entry['node']!r}")
        args = []
        for name in cls._fields:
            value = entry[name]
            if name in cls._child_fields:
                args.append(tuple(built[i] for i in value) if isinstance(value, list) else built[value])
            else:
                args.append(_decode_value(value))
        built.append(cls(*args))
    return Model(
        inputs=tuple(InputField(i["name"], DType(i["type"])) for i in data["inputs"]),
        outputs=tuple(OutputField(o["name"], o["kind"], built[o["expr"]], o["class"]) for o in data["outputs"]),
        checks=tuple(RowCheck(built[c["condition"]], c["message"]) for c in data["checks"]),
        metadata=data.get("metadata", {}),
    )
