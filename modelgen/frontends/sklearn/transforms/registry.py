"""Which function lowers which fitted transformer class.

A lowering takes the fitted transformer, the incoming feature columns and ``where`` (the
pipeline path, for error messages) and returns the outgoing columns, in scikit-learn's
output order, with scikit-learn's exact arithmetic written into the IR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns

Lowering = Callable[[Any, Columns, str], list[Column]]

TRANSFORM_LOWERINGS: dict[type, Lowering] = {}


def lowers(*classes: type) -> Callable[[Lowering], Lowering]:
    """Register a lowering for the exact classes given (subclasses are not assumed to match)."""

    def register(function: Lowering) -> Lowering:
        for cls in classes:
            TRANSFORM_LOWERINGS[cls] = function
        return function

    return register


def lower_transform(transformer: Any, columns: Columns, where: str) -> list[Column]:
    """Lower one fitted transformer; an unregistered class is an ``UnsupportedModelError``."""
    _load_all()
    lowering = TRANSFORM_LOWERINGS.get(type(transformer))
    if lowering is None:
        raise UnsupportedModelError(f"transformer {type(transformer).__name__}", where)
    return lowering(transformer, columns, where)


def _load_all() -> None:
    # importing the family modules runs their @lowers registrations
    import importlib
    import pkgutil

    import modelgen.frontends.sklearn.transforms as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "registry":
            importlib.import_module(f"{package.__name__}.{module.name}")
