"""Bit-level comparison of doubles: ULP distance, the only notion of "close" parity uses."""

from __future__ import annotations

import math
import struct

NOT_COMPARABLE = 2**64
"""The distance reported when one side is NaN and the other is not (or signs of inf differ)."""


def _ordered_bits(x: float) -> int:
    """Map a double to an integer so that adjacent doubles are adjacent integers (-0.0 and 0.0 differ by 1)."""
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF) - 1


def ulp_distance(a: float, b: float) -> int:
    """How many representable doubles lie between ``a`` and ``b`` (0 = identical bits, NaN == NaN).

    ``-0.0`` and ``0.0`` are 1 apart: a sign-of-zero difference is a difference.

    >>> ulp_distance(0.1, 0.1), ulp_distance(1.0, math.nextafter(1.0, 2.0)), ulp_distance(0.0, -0.0)
    (0, 1, 1)
    >>> ulp_distance(math.nan, 1.0) == NOT_COMPARABLE
    True
    """
    if math.isnan(a) or math.isnan(b):
        return 0 if math.isnan(a) and math.isnan(b) else NOT_COMPARABLE
    return abs(_ordered_bits(a) - _ordered_bits(b))


def format_double(x: float) -> str:
    """The runner protocol's text of a double: shortest round-trip, NaN/Infinity words."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def parse_double(text: str) -> float:
    """Read a double as runners print it (``repr``/``%.17g``, NaN, Infinity, inf, nan)."""
    lowered = text.lower()
    if lowered in ("nan", "+nan", "-nan"):
        return math.nan
    if lowered in ("infinity", "inf", "+infinity", "+inf"):
        return math.inf
    if lowered in ("-infinity", "-inf"):
        return -math.inf
    return float(text)
