"""Private helper functions a generated Python module may need, and what each one needs.

Python raises where IEEE-754 returns a value (``1/0``, ``math.log(0)``, ``math.exp(1000)``,
``math.sqrt(-1)``, ``math.pow`` domain/overflow cases) and has no float32 type; each helper
returns exactly what ``modelgen.ir.evaluate`` defines. A module only gets the helpers its
model uses, printed in ``HELPER_ORDER`` so the output does not depend on discovery order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Helper:
    """Source text of one module-level helper, the modules it imports and the helpers it calls."""

    source: str
    imports: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


HELPERS: dict[str, Helper] = {
    "_number": Helper(
        '''def _number(row, name):
    """A numeric input as a float; None (or NaN) is the missing value."""
    value = row[name]
    if value is None:
        return _NAN
    if isinstance(value, (str, bytes, bool)):
        raise TypeError("input %r: expected a number or None, got %r" % (name, value))
    return float(value)'''
    ),
    "_string": Helper(
        '''def _string(row, name):
    """A string input; None is the missing value."""
    value = row[name]
    if value is not None and not isinstance(value, str):
        raise TypeError("input %r: expected a str or None, got %r" % (name, value))
    return value'''
    ),
    "_f32": Helper(
        '''_FLOAT32 = struct.Struct("<f")


def _f32(x):
    """Round a double to the nearest float32 (ties to even); overflow gives +-inf."""
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(x))[0]
    except OverflowError:
        # struct refuses values that round past FLT_MAX; IEEE rounding gives +-inf there
        if abs(x) >= 3.4028235677973366e38:
            return math.copysign(_INF, x)
        return math.copysign(3.4028234663852886e38, x)''',
        imports=("math", "struct"),
    ),
    "_sum": Helper(
        '''def _sum(*terms):
    """Left-to-right double sum ((t0 + t1) + t2) + ..., in the given order."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total'''
    ),
    "_f32_sum": Helper(
        '''def _f32_sum(*terms):
    """Left-to-right float32 sum: every partial sum is rounded to float32."""
    total = terms[0]
    for term in terms[1:]:
        total = _f32(total + term)
    return total''',
        requires=("_f32",),
    ),
    "_exp": Helper(
        '''def _exp(x):
    """e**x; overflow gives +inf instead of raising."""
    try:
        return math.exp(x)
    except OverflowError:
        return _INF''',
        imports=("math",),
    ),
    "_expm1": Helper(
        '''def _expm1(x):
    """e**x - 1 computed directly; overflow gives +inf instead of raising."""
    try:
        return math.expm1(x)
    except OverflowError:
        return _INF''',
        imports=("math",),
    ),
    "_log": Helper(
        '''def _log(x):
    """Natural log; log(0) = -inf and log(x < 0) = NaN instead of raising."""
    if x != x or x < 0:
        return _NAN
    if x == 0:
        return -_INF
    return math.log(x)''',
        imports=("math",),
    ),
    "_log1p": Helper(
        '''def _log1p(x):
    """log(1 + x); log1p(-1) = -inf and below -1 NaN instead of raising."""
    if x != x or x < -1:
        return _NAN
    if x == -1:
        return -_INF
    return math.log1p(x)''',
        imports=("math",),
    ),
    "_sqrt": Helper(
        '''def _sqrt(x):
    """Square root; sqrt(x < 0) = NaN instead of raising (sqrt(-0.0) stays -0.0)."""
    if x != x or x < 0:
        return _NAN
    return math.sqrt(x)''',
        imports=("math",),
    ),
    "_floor": Helper(
        '''def _floor(x):
    """Largest integral value <= x as a float; NaN, +-inf and +-0.0 are returned as they are."""
    if x != x or x == 0 or x in (_INF, -_INF):
        return x
    return float(math.floor(x))''',
        imports=("math",),
    ),
    "_div": Helper(
        '''def _div(a, b):
    """IEEE division: x/0 = +-inf by the signs, 0/0 and NaN/0 = NaN."""
    if b == 0:
        if a != a or a == 0:
            return _NAN
        return math.copysign(_INF, math.copysign(1.0, a) * math.copysign(1.0, b))
    return a / b''',
        imports=("math",),
    ),
    "_max": Helper(
        '''def _max(a, b):
    """NaN-propagating maximum (numpy.maximum)."""
    if a != a or b != b:
        return _NAN
    return a if a >= b else b'''
    ),
    "_min": Helper(
        '''def _min(a, b):
    """NaN-propagating minimum (numpy.minimum)."""
    if a != a or b != b:
        return _NAN
    return a if a <= b else b'''
    ),
    "_pow": Helper(
        '''def _pow(a, b):
    """a ** b with C pow() semantics: domain errors give NaN, overflow and 0**-y give infinities."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -_INF if a < 0 and _is_odd_integer(b) else _INF
    except ValueError:
        if a == 0:
            # pow(+-0, y < 0): +-inf for an odd integer y, +inf otherwise
            return math.copysign(_INF, a) if _is_odd_integer(b) else _INF
        return _NAN''',
        imports=("math",),
        requires=("_is_odd_integer",),
    ),
    "_is_odd_integer": Helper(
        '''def _is_odd_integer(y):
    """True for a finite, integral, odd double."""
    return y - y == 0 and y == math.floor(y) and math.fmod(y, 2.0) != 0''',
        imports=("math",),
    ),
    "_argmax": Helper(
        '''def _argmax(*terms):
    """Index of the first maximal term; the first NaN counts as the maximum (numpy.argmax)."""
    best = 0
    for index, term in enumerate(terms):
        if term != term:
            return index
        if term > terms[best]:
            best = index
    return best'''
    ),
}

HELPER_ORDER: tuple[str, ...] = (
    "_number",
    "_string",
    "_sum",
    "_f32",
    "_f32_sum",
    "_exp",
    "_expm1",
    "_log",
    "_log1p",
    "_sqrt",
    "_floor",
    "_div",
    "_max",
    "_min",
    "_is_odd_integer",
    "_pow",
    "_argmax",
)
"""The fixed order helpers are printed in (a helper comes after those it calls)."""


def close_over(used: set[str]) -> list[str]:
    """``used`` plus every helper they require, in ``HELPER_ORDER``."""
    needed = set(used)
    pending = list(used)
    while pending:
        for dependency in HELPERS[pending.pop()].requires:
            if dependency not in needed:
                needed.add(dependency)
                pending.append(dependency)
    return [name for name in HELPER_ORDER if name in needed]
