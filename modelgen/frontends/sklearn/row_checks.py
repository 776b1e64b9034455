"""Row rejections raised while lowering: what scikit-learn refuses, the scorer refuses too.

scikit-learn validates the feature matrix at each step (``ensure_all_finite``): a linear
model raises on NaN or infinity, a scaler on infinity. A scorer that silently scored such
a row would disagree with the reference, so each lowering records a ``RowCheck`` here and
the pipeline lowering attaches them all to the ``Model``. Lowerings keep the registry's
``(fitted, columns, where)`` signature, hence a context-local collector rather than an
extra argument.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from modelgen.errors import UnsupportedModelError
from modelgen.ir import Compare, Const, Node, Not, RowCheck, Unary

_ACTIVE: ContextVar[list[RowCheck] | None] = ContextVar("modelgen_sklearn_row_checks", default=None)


@contextmanager
def collecting_row_checks() -> Iterator[list[RowCheck]]:
    """Collect every check recorded inside the ``with`` block, in recording order, deduplicated."""
    checks: list[RowCheck] = []
    token = _ACTIVE.set(checks)
    try:
        yield checks
    finally:
        _ACTIVE.reset(token)


def require(condition: Node, message: str) -> None:
    """Record that a scorable row satisfies ``condition`` (else it is rejected with ``message``)."""
    checks = _ACTIVE.get()
    if checks is None:
        raise UnsupportedModelError("row check recorded outside a model lowering", message)
    if any(c.condition is condition and c.message == message for c in checks):
        return
    checks.append(RowCheck(condition, message))


def require_finite(expr: Node, feature: str, where: str) -> None:
    """scikit-learn's ``ensure_all_finite=True``: NaN and +-inf are refused."""
    if isinstance(expr, Const) and isinstance(expr.value, float) and math.isfinite(expr.value):
        return
    # |x| < inf is false for NaN and for +-inf: one comparison covers both
    finite = Compare("lt", Unary("abs", expr), Const(math.inf))
    require(finite, f"feature {feature!r} is NaN or infinite, which {where} rejects")


def require_not_infinite(expr: Node, feature: str, where: str) -> None:
    """scikit-learn's ``ensure_all_finite='allow-nan'``: NaN passes, +-inf is refused."""
    if isinstance(expr, Const) and isinstance(expr.value, float) and not math.isinf(expr.value):
        return
    infinite = Compare("eq", Unary("abs", expr), Const(math.inf))
    require(Not(infinite), f"feature {feature!r} is infinite, which {where} rejects")

