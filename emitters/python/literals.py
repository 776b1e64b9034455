"""The one place the Python target spells numbers, strings, docstring text and local names.

Every literal is ASCII-only and a pure function of its value, so generated modules are
byte-identical across runs, locales and hash seeds.
"""

from __future__ import annotations

import keyword
import math
import re

from modelgen.ir import BOOL, DOUBLE, FLOAT32, INT, STRING, DType

NAN_NAME = "_NAN"
"""Module-level name the generated module binds to ``float("nan")``."""
INF_NAME = "_INF"
"""Module-level name the generated module binds to ``float("inf")``."""


def float_literal(value: float) -> str:
    """Python source for a double that reads back to the identical bits.

    ``repr`` is the shortest round-trip spelling (and keeps ``-0.0``); NaN and the infinities
    have no literal, so they refer to the module's ``_NAN`` / ``_INF`` constants.

    >>> [float_literal(v) for v in (0.1, -0.0, float("-inf"))]
    ['0.1', '-0.0', '(-_INF)']
    """
    if math.isnan(value):
        return NAN_NAME
    if math.isinf(value):
        return INF_NAME if value > 0 else f"(-{INF_NAME})"
    return repr(float(value))


def string_literal(value: str) -> str:
    r"""An ASCII-only Python string literal equal to ``value`` (``ascii`` escapes everything else).

    >>> print(string_literal("O'Brien\u00e9"))
    "O'Brien\xe9"
    """
    return ascii(value)


def const_literal(value: object, dtype: DType) -> str:
    """The literal of an IR constant of ``dtype`` (double/float32/int/bool/string)."""
    if dtype is DOUBLE or dtype is FLOAT32:
        return float_literal(value)  # type: ignore[arg-type]
    if dtype is STRING:
        return string_literal(value)  # type: ignore[arg-type]
    if dtype is BOOL:
        return "True" if value else "False"
    if dtype is INT:
        return repr(int(value))  # type: ignore[call-overload]
    raise ValueError(f"no Python literal for dtype {dtype!r}")


def tuple_literal(values: tuple[object, ...], dtype: DType) -> str:
    """A tuple display of constants (a one-element tuple keeps its trailing comma)."""
    items = [const_literal(v, dtype) for v in values]
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def docstring_text(text: str) -> str:
    r"""``text`` escaped for a line of a (non-raw) triple-quoted docstring.

    Backslashes and quotes are escaped so the docstring can never close early; everything
    outside printable ASCII (newlines included) becomes an escape, so each value stays on
    one line and reads back as the original text.

    >>> print(docstring_text('say "hi"\n'))
    say \"hi\"\n
    """
    out: list[str] = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif char == "\n":
            out.append("\\n")
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def input_locals(names: tuple[str, ...]) -> tuple[str, ...]:
    """Local variable names for the model inputs, in declaration order.

    ``x_`` + the name with every character outside ``[A-Za-z0-9_]`` replaced by ``_``;
    collisions get ``_2``, ``_3``, ... in declaration order. The ``x_`` prefix keeps them
    apart from keywords, the ``_``-prefixed helpers and the ``t<N>`` temporaries.

    >>> input_locals(("age", "a b", "a_b"))
    ('x_age', 'x_a_b', 'x_a_b_2')
    """
    taken: set[str] = set()
    out: list[str] = []
    for name in names:
        base = "x_" + _NOT_IDENTIFIER.sub("_", name)
        candidate = base
        suffix = 2
        while candidate in taken or keyword.iskeyword(candidate):
            candidate = f"{base}_{suffix}"
            suffix += 1
        taken.add(candidate)
        out.append(candidate)
    return tuple(out)
