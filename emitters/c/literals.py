"""The one place the C target spells values and names: numbers, strings, comments, identifiers.

Every fragment returned here is *atomic* in C: an identifier, an unsigned literal, or a
parenthesised expression. So callers can paste it anywhere (``-x`` next to a ``-1.0`` never
becomes ``--1.0``).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterable

import numpy as np

from modelgen.errors import ModelgenError, TargetCannotExpressError

C_KEYWORDS: frozenset[str] = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long"
    " register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while"
    " _Bool _Complex _Imaginary".split()
    # not keywords, but macros or reserved names a member must not shadow in practice
    + "NULL NAN INFINITY isnan isinf".split()
)
"""C99 keywords (and a few macros from math.h/string.h): never used as a generated identifier."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_IDENTIFIER_CHAR = re.compile(r"[^A-Za-z0-9_]")


def format_double(value: float) -> str:
    """A C expression of type double with exactly the bits of ``value``.

    >>> format_double(0.1), format_double(-0.0), format_double(float("-inf"))
    ('0.1', '(-0.0)', '(-INFINITY)')
    """
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    text = repr(float(value))  # shortest round-trip; always has '.' or 'e', so it is a double literal
    return f"({text})" if text.startswith("-") else text


def format_float32(value: float) -> str:
    """A C expression of type float equal to ``value`` (which must be exactly a float32).

    >>> format_float32(0.10000000149011612), format_float32(-2.0)
    ('0.1f', '(-2.0f)')
    """
    if math.isnan(value):
        return "NAN"  # C99: NAN and INFINITY are float constants
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    single = np.float32(value)
    if float(single) != value or struct.pack("<d", float(single)) != struct.pack("<d", value):
        raise TargetCannotExpressError(f"target 'c': float32 constant {value!r} is not exactly a float32")
    text = str(single)  # numpy's shortest float32 round-trip repr: '0.1', '1e+38', '3.4028235e+38'
    if "." not in text and "e" not in text:
        text += ".0"
    if struct.pack("<f", float(np.float32(text))) != struct.pack("<f", single):  # pragma: no cover - numpy bug
        text = repr(value)
    return f"({text}f)" if text.startswith("-") else f"{text}f"


def format_int(value: int) -> str:
    """A C ``long long`` literal (``LLONG_MIN`` has no literal, so it is spelled as an expression)."""
    if value == -(2**63):
        return "(-9223372036854775807LL - 1)"
    return f"({value}LL)" if value < 0 else f"{value}LL"


def _escape_body(value: str, where: str) -> str:
    if "\x00" in value:
        raise TargetCannotExpressError(f"target 'c': {where} {value!r} contains a NUL character (C strings end there)")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise TargetCannotExpressError(f"target 'c': {where} {value!r} is not valid Unicode text") from error
    parts: list[str] = []
    for byte in data:
        char = chr(byte)
        if char in '\\"?':
            # '?' too: "??/" is a trigraph in C99 and would eat the next character
            parts.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            parts.append(char)
        else:
            # always three octal digits: an escape can never run into a following digit
            parts.append(f"\\{byte:03o}")
    return "".join(parts)


def string_literal(value: str, where: str = "string") -> str:
    """A C string literal whose bytes are the UTF-8 encoding of ``value``.

    >>> string_literal('say "hi"??/\\n')
    '"say \\\\"hi\\\\"\\\\?\\\\?/\\\\012"'
    """
    return f'"{_escape_body(value, where)}"'


def comment_text(value: str) -> str:
    """``value`` as text that is safe inside a ``/* ... */`` comment: a quoted, escaped C literal.

    ``/`` is written as ``\\057`` so neither ``*/`` nor ``/*`` can appear; newlines are escaped.
    """
    return string_literal(value.replace("\x00", "\\0"), "comment").replace("/", "\\057")


def check_name(name: str) -> str:
    """Validate the scorer NAME (it prefixes every exported C identifier and file name)."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ModelgenError(
            f"target 'c': name {name!r} is not a valid C identifier"
            " (letters, digits and '_', not starting with a digit)"
        )
    if name.startswith("__") or (name.startswith("_") and name[1:2].isupper()):
        raise ModelgenError(f"target 'c': name {name!r} is reserved in C (starts with '__' or '_' and a capital)")
    return name


def mangle_identifiers(names: Iterable[str]) -> list[str]:
    """Map model names to distinct C identifiers, in order (docs/emitters.md: names).

    Keep ``[A-Za-z0-9_]``, replace anything else by ``_``, prefix ``_`` before a leading
    digit, append ``_`` to a keyword, then number collisions ``_2``, ``_3``... in order.

    >>> mangle_identifiers(["a b", "a_b", "1x", "int", "a_b"])
    ['a_b', 'a_b_2', '_1x', 'int_', 'a_b_3']
    """
    taken: set[str] = set()
    result: list[str] = []
    for name in names:
        base = _NOT_IDENTIFIER_CHAR.sub("_", name) or "_"
        if base[0].isdigit():
            base = "_" + base
        if base in C_KEYWORDS:
            base += "_"
        candidate = base
        suffix = 2
        while candidate in taken:
            candidate = f"{base}_{suffix}"
            suffix += 1
        taken.add(candidate)
        result.append(candidate)
    return result
