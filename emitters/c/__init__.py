"""The ``c`` target: C99 scorers with exact IEEE semantics (see ``emitters.c.emitter``)."""

from emitters.c.emitter import CEmitter

__all__ = ["CEmitter"]
