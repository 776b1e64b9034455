"""The intermediate representation every frontend lowers to and every emitter reads."""

from modelgen.ir.model import OUTPUT_KINDS, InputField, Model, OutputField, RowCheck
from modelgen.ir.nodes import (
    BINARY_OPS,
    COMPARE_OPS,
    NODE_TYPES,
    UNARY_OPS,
    And,
    ArgMax,
    Binary,
    Cast,
    Compare,
    Const,
    IfElse,
    Input,
    IsIn,
    IsMissing,
    Lookup,
    Node,
    Not,
    Or,
    Sum,
    Unary,
)
from modelgen.ir.serialize import model_from_json, model_to_json
from modelgen.ir.traversal import depth, topological_order, transform, use_counts
from modelgen.ir.types import BOOL, DOUBLE, FLOAT32, INT, STRING, DType

__all__ = [
    "BINARY_OPS", "BOOL", "COMPARE_OPS", "DOUBLE", "FLOAT32", "INT", "NODE_TYPES", "OUTPUT_KINDS", "STRING",
    "UNARY_OPS", "And", "ArgMax", "Binary", "Cast", "Compare", "Const", "DType", "IfElse", "Input", "InputField",
    "IsIn", "IsMissing", "Lookup", "Model", "Node", "Not", "Or", "OutputField", "RowCheck", "Sum", "Unary",
    "depth", "model_from_json", "model_to_json", "topological_order", "transform", "use_counts",
]
