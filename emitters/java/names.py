"""Java identifiers: the one name-mangling function, and validation of class/package names."""

from __future__ import annotations

import re
from collections.abc import Iterable

from modelgen.errors import ModelgenError

JAVA_KEYWORDS: frozenset[str] = frozenset(
    """abstract assert boolean break byte case catch char class const continue default do double
    else enum extends final finally float for goto if implements import instanceof int interface
    long native new package private protected public return short static strictfp super switch
    synchronized this throw throws transient try void volatile while true false null _
    var yield record sealed permits non-sealed exports module open opens provides requires to
    transitive uses with""".split()
)
"""Reserved words, literals and contextual keywords (``var``, ``yield``, ``record``...): never used as names."""

RESERVED_CLASS_NAMES: frozenset[str] = frozenset(
    """Input Output String Math Double Float Long Integer Boolean Object System StrictMath
    IllegalArgumentException Exception RuntimeException StringBuilder Character""".split()
)
"""Names a generated class may not take: its own nested classes and the ``java.lang`` types its
code refers to by simple name (a class named ``Math`` would shadow ``java.lang.Math``)."""

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def mangle(names: Iterable[str]) -> list[str]:
    """Java field names for ``names`` (in order): the docs/emitters.md rule, the only one used.

    Keep ``[A-Za-z0-9_]``, replace anything else by ``_``, prefix ``_`` before a leading digit,
    append ``_`` to a keyword, then number collisions ``_2``, ``_3``... in declaration order.

    >>> mangle(["x", "weird name \\"'; --", "class", "1st", "x", "_"])
    ['x', 'weird_name_______', 'class_', '_1st', 'x_2', '__']
    """
    taken: set[str] = set()
    result: list[str] = []
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if base[:1].isdigit():
            base = "_" + base
        if base in JAVA_KEYWORDS:
            base += "_"
        candidate, counter = base, 2
        while candidate in taken:
            candidate = f"{base}_{counter}"
            counter += 1
        taken.add(candidate)
        result.append(candidate)
    return result


def check_class_name(name: str) -> str:
    """``name`` if it can name the generated class, else ``ModelgenError`` saying why.

    >>> check_class_name("Scorer")
    'Scorer'
    """
    if not _IDENTIFIER.fullmatch(name) or name in JAVA_KEYWORDS:
        raise ModelgenError(
            f"java: --name {name!r} is not a valid Java class name "
            "(an ASCII letter, '_' or '$' followed by letters, digits, '_' or '$'; not a keyword)"
        )
    if name in RESERVED_CLASS_NAMES:
        raise ModelgenError(f"java: --name {name!r} would shadow a class the generated code uses; pick another")
    return name


def check_package(package: str | None) -> str | None:
    """``package`` if it is a valid dotted Java package name (or None), else ``ModelgenError``.

    >>> check_package("com.example.scoring")
    'com.example.scoring'
    """
    if package is None:
        return None
    parts = package.split(".")
    for part in parts:
        if not _IDENTIFIER.fullmatch(part) or part in JAVA_KEYWORDS:
            raise ModelgenError(
                f"java: package {package!r} is not a valid Java package name "
                f"(segment {part!r} is not an identifier or is a keyword)"
            )
    return package
