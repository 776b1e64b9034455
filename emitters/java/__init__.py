"""The Java target: a Java 11 scorer class, and optionally a CSV runner (see ``emitter.py``)."""

from emitters.java.emitter import JavaEmitter

__all__ = ["JavaEmitter"]
