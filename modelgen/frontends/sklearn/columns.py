"""The feature matrix as it flows through a pipeline: one ``Column`` per feature.

A raw model input becomes typed only when a step reads it: a scaler asks for a double,
an encoder fitted on strings asks for a string. The first request fixes the input's type;
a conflicting later request is an error. So input types come from how the model uses
them, not from guesses about the training data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from modelgen.errors import UnsupportedModelError
from modelgen.ir import BOOL, DOUBLE, STRING, Compare, Const, DType, Input, IsMissing, Node, Or, RowCheck, Unary


@dataclass
class InputTypes:
    """Input names in model order, and the type each one has been read as so far."""

    names: tuple[str, ...]
    dtypes: dict[str, DType] = field(default_factory=dict)

    def read(self, name: str, dtype: DType, where: str) -> Node:
        """The ``Input`` node of ``name`` read as ``dtype``; refuses a second, different type."""
        previous = self.dtypes.get(name)
        if previous is not None and previous is not dtype:
            raise UnsupportedModelError(
                f"input column {name!r} is used both as {previous.value} and as {dtype.value}", where
            )
        self.dtypes[name] = dtype
        return Input(name, dtype)

    def dtype_of(self, name: str) -> DType:
        """The type an input was read as; an input no step reads is declared double."""
        return self.dtypes.get(name, DOUBLE)


@dataclass(frozen=True)
class Column:
    """One feature: either a raw input not yet typed, or an IR expression."""

    name: str
    expr: Node | None = None
    inputs: InputTypes | None = None

    @staticmethod
    def raw(name: str, inputs: InputTypes) -> Column:
        return Column(name=name, inputs=inputs)

    @staticmethod
    def of(name: str, expr: Node) -> Column:
        return Column(name=name, expr=expr)

    def as_double(self, where: str) -> Node:
        """This feature as a double expression (NaN = missing)."""
        if self.expr is None:
            assert_inputs(self)
            return self.inputs.read(self.name, DOUBLE, where)  # type: ignore[union-attr]
        if self.expr.dtype is not DOUBLE:
            raise UnsupportedModelError(
                f"feature {self.name!r} is {self.expr.dtype.value} here but this step needs numbers", where
            )
        return self.expr

    def as_string(self, where: str) -> Node:
        """This feature as a string expression (None = missing)."""
        if self.expr is None:
            assert_inputs(self)
            return self.inputs.read(self.name, STRING, where)  # type: ignore[union-attr]
        if self.expr.dtype is not STRING:
            raise UnsupportedModelError(
                f"feature {self.name!r} is {self.expr.dtype.value} here but this step needs strings", where
            )
        return self.expr


def assert_inputs(column: Column) -> None:
    if column.inputs is None:  # pragma: no cover - construction guarantees it
        raise UnsupportedModelError(f"feature {column.name!r} has neither an expression nor an input")


Columns = Sequence[Column]


# Row checks: some steps reject rows instead of scoring them (an unknown category with
# handle_unknown='error', infinity where scikit-learn's input validation raises). A lowering
# calls ``add_row_check``; whoever lowers a whole model wraps the lowering in
# ``collecting_row_checks()`` and puts the collected list into ``Model.checks``. A context
# variable keeps the lowering signature unchanged and cannot leak between models.
_ROW_CHECKS: ContextVar[list[RowCheck] | None] = ContextVar("modelgen_sklearn_row_checks", default=None)


@contextmanager
def collecting_row_checks() -> Iterator[list[RowCheck]]:
    """Collect the row checks that lowerings add inside the ``with`` block, in the order added.

    Example::

        with collecting_row_checks() as checks:
            columns = lower_transform(encoder, columns, "steps[0]")
        model = Model(inputs, outputs, tuple(checks))
    """
    checks: list[RowCheck] = []
    token = _ROW_CHECKS.set(checks)
    try:
        yield checks
    finally:
        _ROW_CHECKS.reset(token)


def add_row_check(condition: Node, message: str, where: str) -> None:
    """Require ``condition`` (bool) of every scored row; a failing row is rejected with ``message``.

    The message is prefixed with ``where``. Outside ``collecting_row_checks()`` this raises:
    silently dropping a check would score rows the source model rejects.
    """
    checks = _ROW_CHECKS.get()
    if checks is None:
        raise UnsupportedModelError(
            f"a step that rejects rows ({message}) lowered without a row-check collector", where
        )
    if condition.dtype is not BOOL:
        raise UnsupportedModelError(f"row check {message!r} is not a bool expression", where)
    if condition is Const(True):
        return
    check = RowCheck(condition, f"{where}: {message}")
    if not any(c.condition is check.condition and c.message == check.message for c in checks):
        checks.append(check)


def require_finite(column: Column, expr: Node, where: str, allow_nan: bool) -> None:
    """Reject rows where ``expr`` (a double) is infinite, or also NaN unless ``allow_nan``.

    This is scikit-learn's input validation (``ensure_all_finite``): a step that validates
    its input raises on such a row, so the compiled scorer rejects it too.
    """
    finite = Compare("lt", Unary("abs", expr), Const(math.inf))
    if allow_nan:
        add_row_check(Or((IsMissing(expr), finite)), f"feature {column.name!r} is infinite", where)
    else:
        add_row_check(finite, f"feature {column.name!r} is missing or infinite", where)
