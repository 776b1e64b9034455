"""What every emitter takes and returns; an emitter is a pure function of (model, options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from modelgen.errors import TargetCannotExpressError
from modelgen.ir import Model, Node


@dataclass(frozen=True)
class EmitOptions:
    """Options of ``modelgen compile``; every emitter ignores those that are not its own."""

    name: str = "scorer"
    runner: bool = False
    dialect: str | None = None
    table: str = "input"
    keys: tuple[str, ...] = ()
    package: str | None = None
    view: str | None = None
    """SQL: wrap the query in ``CREATE VIEW <view> AS`` (one identifier, quoted per dialect)."""
    into: str | None = None
    """SQL: wrap the query in ``CREATE TABLE <into> AS`` (one identifier, quoted per dialect)."""
    extra: tuple[tuple[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class EmittedProgram:
    """Generated files (name -> text, in manifest order) and the manifest (contract section 2)."""

    files: tuple[tuple[str, str], ...]
    manifest: dict[str, Any]


class Emitter(Protocol):
    """A target. ``emit`` must be deterministic: same inputs, byte-identical files."""

    target: ClassVar[str]

    def emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        """Generate the scorer (and, with ``options.runner``, its CSV runner)."""
        ...


def cannot_express(target: str, node: Node, why: str = "") -> TargetCannotExpressError:
    """The error an emitter raises for a node it does not handle (the raising stub)."""
    detail = f": {why}" if why else ""
    return TargetCannotExpressError(f"target {target!r} cannot express {node!r}{detail}")
