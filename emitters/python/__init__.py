"""The ``python`` target: a pure standard-library Python module per model."""

from emitters.python.emitter import PythonEmitter

__all__ = ["PythonEmitter"]
