"""Scalar types of the IR. Every node has exactly one."""

from __future__ import annotations

import enum


class DType(enum.Enum):
    """Scalar value types; arithmetic never mixes them implicitly (use ``Cast``)."""

    DOUBLE = "double"
    """IEEE-754 binary64; NaN is the missing value of a numeric input."""
    FLOAT32 = "float32"
    """IEEE-754 binary32 (scikit-learn tree routing, ONNX graphs)."""
    INT = "int"
    """Signed 64-bit integer (indices such as ``ArgMax``)."""
    BOOL = "bool"
    """Two-valued truth (never missing)."""
    STRING = "string"
    """Text; an input string may be missing (None / NULL)."""

    @property
    def is_float(self) -> bool:
        return self in (DType.DOUBLE, DType.FLOAT32)

    @property
    def is_numeric(self) -> bool:
        return self in (DType.DOUBLE, DType.FLOAT32, DType.INT)

    def __repr__(self) -> str:
        return f"DType.{self.name}"


DOUBLE = DType.DOUBLE
FLOAT32 = DType.FLOAT32
INT = DType.INT
BOOL = DType.BOOL
STRING = DType.STRING
