"""Result column names (keys, then outputs) that every engine returns byte for byte, or a clear error.

Output names come from the model (``probability_<class>``: any class label, so any text). The
query always quotes them with the dialect's quote, escaped by sqlglot (tested with quotes,
backticks, ``]``, spaces, unicode), so the remaining hazards are the engines' own rules, checked
here at compile time against ``SqlDialect.identifier_rules``:

- **length**: PostgreSQL silently *truncates* names to 63 bytes (two long outputs could then
  collide), MySQL allows 64 characters for a view's columns, T-SQL 128, Oracle 128 bytes, Redshift
  127 bytes, Snowflake 255, BigQuery 300 characters;
- **case**: names that differ only in case are one column where the engine compares names
  case-insensitively: DuckDB and SQLite (ASCII letters; ``CREATE VIEW`` silently renames the
  second to ``a_1`` / ``a:1``), T-SQL (default collation), MySQL and BigQuery (any letter); Redshift
  and Trino fold every name to lower case, so a name with an upper-case letter would not come back
  as itself;
- **characters**: no engine takes an empty name or U+0000; MySQL takes only the Basic
  Multilingual Plane and no trailing space; T-SQL compares names ignoring trailing spaces;
  BigQuery's (flexible) column names exclude a documented set of punctuation.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgen.errors import ModelgenError


@dataclass(frozen=True)
class IdentifierRules:
    """What an engine accepts as a result column name (see the module docstring)."""

    max_length: int | None = None
    """Longest name, in ``unit``; None: no documented limit."""
    unit: str = "characters"
    """``"bytes"`` (UTF-8) or ``"characters"``."""
    case: str = "sensitive"
    """``"sensitive"``, ``"ascii"`` (A-Z equals a-z), ``"unicode"`` (case-folded) or ``"lower"``
    (the engine lower-cases names: they must already be lower case)."""
    trailing_spaces: str = "kept"
    """``"kept"``, ``"ignored"`` (compared without them) or ``"refused"``."""
    bmp_only: bool = False
    forbidden: str = ""
    """Characters the engine refuses in a name (U+0000 is refused everywhere)."""


def _length(name: str, unit: str) -> int:
    return len(name.encode("utf-8")) if unit == "bytes" else len(name)


def _comparison_key(name: str, rules: IdentifierRules) -> str:
    key = name.rstrip(" ") if rules.trailing_spaces == "ignored" else name
    if rules.case == "ascii":
        return key.translate(_ASCII_LOWER)
    if rules.case in ("unicode", "lower"):
        return key.casefold()
    return key


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _problem(name: str, rules: IdentifierRules) -> str | None:
    if not name:
        return "is empty"
    if "\0" in name:
        return "contains U+0000"
    if rules.max_length is not None and _length(name, rules.unit) > rules.max_length:
        return f"is {_length(name, rules.unit)} {rules.unit} long, above the limit of {rules.max_length} {rules.unit}"
    if rules.case == "lower" and name != name.lower():
        return "has upper-case letters, which the engine folds to lower case"
    if rules.trailing_spaces == "refused" and name.endswith(" "):
        return "ends with a space"
    if rules.bmp_only and any(ord(c) > 0xFFFF for c in name):
        return "has a character outside the Basic Multilingual Plane"
    bad = sorted({c for c in name if c in rules.forbidden})
    if bad:
        return f"contains {''.join(bad)!r}"
    return None


def check_result_columns(keys: tuple[str, ...], outputs: list[str], dialect_name: str, rules: IdentifierRules) -> None:
    """Raise ``ModelgenError`` naming the column and the rule when a key or output name would not
    come back from ``dialect_name`` as itself, or two would be one column there."""
    seen: dict[str, str] = {}
    for kind, names in (("key column", keys), ("output", tuple(outputs))):
        for name in names:
            problem = _problem(name, rules)
            if problem is not None:
                raise ModelgenError(f"SQL dialect {dialect_name!r}: {kind} name {name!r} {problem}")
            key = _comparison_key(name, rules)
            if key in seen:
                raise ModelgenError(
                    f"SQL dialect {dialect_name!r}: {kind} name {name!r} and {seen[key]!r} are the same column "
                    f"there (names compare {_how(rules)}); rename one (e.g. the class labels)"
                )
            seen[key] = name


def _how(rules: IdentifierRules) -> str:
    parts = {"ascii": "ignoring ASCII case", "unicode": "ignoring case", "lower": "lower-cased"}
    words = [parts[rules.case]] if rules.case in parts else []
    if rules.trailing_spaces == "ignored":
        words.append("ignoring trailing spaces")
    return " and ".join(words) or "as written"
