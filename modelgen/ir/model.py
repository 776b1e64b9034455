"""A whole model in IR form: typed inputs, row checks and named outputs over shared expressions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelgen.errors import IRValidationError
from modelgen.ir.nodes import Input, IsMissing, Node
from modelgen.ir.traversal import topological_order
from modelgen.ir.types import BOOL, DOUBLE, INT, STRING, DType

OUTPUT_KINDS = ("label", "probability", "value", "decision")
"""Output kinds of the contract's schema (section 3)."""


@dataclass(frozen=True)
class InputField:
    """A model input: its name as the model knows it and its type (double or string)."""

    name: str
    dtype: DType

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise IRValidationError(f"input name must be a non-empty string, got {self.name!r}")
        if self.dtype not in (DOUBLE, STRING):
            raise IRValidationError(f"input {self.name!r}: type must be double or string, got {self.dtype!r}")


@dataclass(frozen=True)
class OutputField:
    """A model output: name, schema kind, the class it refers to (if any) and its expression."""

    name: str
    kind: str
    expr: Node
    class_label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise IRValidationError(f"output name must be a non-empty string, got {self.name!r}")
        if self.kind not in OUTPUT_KINDS:
            raise IRValidationError(f"output {self.name!r}: kind must be one of {OUTPUT_KINDS}, got {self.kind!r}")
        if not isinstance(self.expr, Node):
            raise IRValidationError(f"output {self.name!r}: expr must be an IR node")
        if self.kind == "label" and self.expr.dtype is not STRING:
            raise IRValidationError(f"output {self.name!r}: a label is a string, got {self.expr.dtype.value}")
        if self.kind != "label" and self.expr.dtype is not DOUBLE:
            raise IRValidationError(f"output {self.name!r}: a {self.kind} is a double, got {self.expr.dtype.value}")
        if self.kind == "probability" and self.class_label is None:
            raise IRValidationError(f"output {self.name!r}: a probability names its class")


@dataclass(frozen=True)
class RowCheck:
    """A condition every scorable row satisfies; a row failing it is rejected with ``message``."""

    condition: Node
    message: str

    def __post_init__(self) -> None:
        if not isinstance(self.condition, Node) or self.condition.dtype is not BOOL:
            raise IRValidationError(f"row check {self.message!r}: condition must be a bool IR node")


_NAME_PATTERN = re.compile(r"[^\x00]+")


@dataclass(frozen=True)
class Model:
    """Inputs, row checks and outputs. Validated when built: every ``Input`` node is declared,
    names are unique, types agree.

    ``metadata`` holds JSON-able facts for emitters to print as comments/constants
    (source estimator, library version) -- never anything that changes the arithmetic.
    """

    inputs: tuple[InputField, ...]
    outputs: tuple[OutputField, ...]
    checks: tuple[RowCheck, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "metadata", dict(sorted(dict(self.metadata).items())))
        if not self.outputs:
            raise IRValidationError("a model needs at least one output")
        declared: dict[str, DType] = {}
        for field_ in self.inputs:
            if field_.name in declared:
                raise IRValidationError(f"input {field_.name!r} is declared twice")
            if not _NAME_PATTERN.fullmatch(field_.name):
                raise IRValidationError(f"input name {field_.name!r} contains a NUL character")
            declared[field_.name] = field_.dtype
        seen_outputs: set[str] = set()
        for output in self.outputs:
            if output.name in seen_outputs:
                raise IRValidationError(f"output {output.name!r} is declared twice")
            if not _NAME_PATTERN.fullmatch(output.name):
                raise IRValidationError(f"output name {output.name!r} contains a NUL character")
            seen_outputs.add(output.name)
        for node in topological_order(self.roots):
            if isinstance(node, Input):
                if node.name not in declared:
                    raise IRValidationError(f"expression reads undeclared input {node.name!r}")
                if declared[node.name] is not node.dtype:
                    raise IRValidationError(
                        f"input {node.name!r} is declared {declared[node.name].value} but read as {node.dtype.value}"
                    )
            if node.dtype is INT and isinstance(node, IsMissing):  # pragma: no cover - nodes forbid it
                raise IRValidationError("IsMissing on int")

    @property
    def roots(self) -> tuple[Node, ...]:
        """Every expression the model evaluates: checks first, then outputs, in order."""
        return tuple(c.condition for c in self.checks) + tuple(o.expr for o in self.outputs)

    def with_roots(self, roots: tuple[Node, ...]) -> Model:
        """The same model with its check conditions and output expressions replaced (same order as ``roots``)."""
        if len(roots) != len(self.checks) + len(self.outputs):
            raise IRValidationError("with_roots: wrong number of roots")
        n_checks = len(self.checks)
        checks = tuple(RowCheck(r, c.message) for r, c in zip(roots[:n_checks], self.checks))
        outputs = tuple(OutputField(o.name, o.kind, r, o.class_label) for r, o in zip(roots[n_checks:], self.outputs))
        return Model(self.inputs, outputs, checks, self.metadata)

    def input(self, name: str) -> Input:
        """The ``Input`` node of a declared input field."""
        for field_ in self.inputs:
            if field_.name == name:
                return Input(name, field_.dtype)  # type: ignore[return-value]
        raise IRValidationError(f"no input named {name!r}")
