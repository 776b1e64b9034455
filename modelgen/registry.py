"""Targets are found through the ``modelgen.emitters`` entry-point group.

A third party adds a target by shipping a package with
``[project.entry-points."modelgen.emitters"] mytarget = "mypkg.emitter:MyEmitter"``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from emitters.base import Emitter
from modelgen.errors import ModelgenError

ENTRY_POINT_GROUP = "modelgen.emitters"


def available_targets() -> list[str]:
    """Names of every installed target, sorted."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def get_emitter(target: str) -> Emitter:
    """An instance of the emitter registered for ``target``."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == target]
    if not matches:
        known = ", ".join(available_targets()) or "none (is modelgen installed with `pip install -e .`?)"
        raise ModelgenError(f"unknown target {target!r}; installed targets: {known}")
    emitter_class = matches[0].load()
    return emitter_class()  # type: ignore[no-any-return]
