"""The one place that spells Java literals: doubles, floats, longs, strings, and comment text.

Java pre-processes ``\\uXXXX`` escapes everywhere in a source file -- in string literals and
in comments -- *before* tokenising, so ``"\\u000a"`` is a raw newline and breaks the literal,
and ``\\u002a/`` could close a comment. Hence: control characters in string literals are
written as named or 3-digit octal escapes, ``\\uXXXX`` is used only for characters above
ASCII (never a line terminator, quote or backslash), and comment text has every backslash
doubled (a ``\\u`` preceded by an odd number of backslashes is not an escape).
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

from modelgen.errors import IRValidationError, TargetCannotExpressError

_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def double_literal(value: float) -> str:
    """A Java expression for the double ``value``, exact to the bit.

    ``repr`` is the shortest text that reads back to the same double, and javac rounds
    decimal literals correctly, so the literal is exact. Negative values are parenthesised
    so the text is safe as an operand (``a - (-1.5)``).

    >>> [double_literal(v) for v in (0.1, -0.0, 5e-324, math.inf, math.nan)]
    ['0.1', '(-0.0)', '5e-324', 'Double.POSITIVE_INFINITY', 'Double.NaN']
    """
    if math.isnan(value):
        return "Double.NaN"
    if math.isinf(value):
        return "Double.POSITIVE_INFINITY" if value > 0 else "Double.NEGATIVE_INFINITY"
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def _float32_bits(value: float) -> int:
    return struct.unpack("<I", struct.pack("<f", value))[0]


def _float32_from_bits(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _shortest_float32_text(value: float) -> str:
    """Shortest ``%g`` text whose *direct* decimal-to-float32 rounding gives ``value`` (> 0, finite).

    Checked with exact rationals against the midpoints to the neighbouring float32 values,
    so no double-rounding (decimal -> double -> float) can fool the check.
    """
    bits = _float32_bits(value)
    exact = Fraction(value)
    below = Fraction(_float32_from_bits(bits - 1)) if bits > 0 else -exact
    above_value = _float32_from_bits(bits + 1)
    # above FLT_MAX the next "value" is 2**128, where rounding to +inf starts
    above = Fraction(2**128) if math.isinf(above_value) else Fraction(above_value)
    low, high = (below + exact) / 2, (exact + above) / 2
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if low < Fraction(text) < high:
            return text
    return f"{value:.9g}"  # pragma: no cover - 9 significant digits always identify a float32


def float_literal(value: float) -> str:
    """A Java ``float`` expression for a float32 ``value`` (given as a double), exact to the bit.

    >>> [float_literal(v) for v in (0.5, 0.10000000149011612, -0.0, math.inf)]
    ['0.5f', '0.1f', '(-0.0f)', 'Float.POSITIVE_INFINITY']
    """
    if math.isnan(value):
        return "Float.NaN"
    if math.isinf(value):
        return "Float.POSITIVE_INFINITY" if value > 0 else "Float.NEGATIVE_INFINITY"
    if struct.unpack("<f", struct.pack("<f", value))[0] != value:
        raise IRValidationError(f"java float literal: {value!r} is not exactly a float32")
    if value == 0.0:
        return "(-0.0f)" if math.copysign(1.0, value) < 0 else "0.0f"
    text = _shortest_float32_text(abs(value))
    if "." not in text and "e" not in text:
        text += ".0"
    return f"(-{text}f)" if value < 0 else f"{text}f"


def long_literal(value: int) -> str:
    """A Java ``long`` expression (``-9223372036854775808L`` is legal only after unary minus).

    >>> long_literal(3), long_literal(-2**63)
    ('3L', '(-9223372036854775808L)')
    """
    return f"({value}L)" if value < 0 else f"{value}L"


def _modified_utf8_length(code: int) -> int:
    if 0 < code < 0x80:
        return 1
    if code < 0x800:
        return 2
    return 3 if code <= 0xFFFF else 6  # a surrogate pair, 3 bytes each


def string_literal(value: str) -> str:
    """A Java string literal for ``value``, in pure ASCII, immune to ``\\u`` pre-processing.

    >>> print(string_literal('a"b\\\\c\\nd\\x00\\xe9'))
    "a\\"b\\\\c\\nd\\000\\u00E9"
    """
    # the class file stores a string constant as modified UTF-8 of at most 65,535 bytes
    encoded_length = sum(_modified_utf8_length(ord(c)) for c in value)
    if encoded_length > 65535:
        raise TargetCannotExpressError(
            f"java: a string constant of {encoded_length} bytes exceeds the class file's 65,535-byte limit"
        )
    out: list[str] = ['"']
    for char in value:
        code = ord(char)
        if char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\{code:03o}")  # always 3 digits: a following digit cannot join it
        elif code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            high = 0xD800 + ((code - 0x10000) >> 10)
            low = 0xDC00 + ((code - 0x10000) & 0x3FF)
            out.append(f"\\u{high:04X}\\u{low:04X}")
    out.append('"')
    return "".join(out)


def comment_text(value: str) -> str:
    """``value`` made safe inside a ``//`` or ``/* */`` comment: ASCII, one line, cannot close it.

    Backslashes are doubled (so no ``\\u`` escape survives), ``*/`` is broken up, and
    anything outside printable ASCII is shown as ``U+XXXX``.

    >>> comment_text("a*/b\\\\u000a\\n\\xe9")
    'a*\\\\/b\\\\\\\\u000aU+000AU+00E9'
    """
    out: list[str] = []
    for char in value:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(char)
        else:
            out.append(f"U+{code:04X}")
    return "".join(out).replace("*/", "*\\/")
