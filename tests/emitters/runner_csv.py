"""The CSV runner protocol (docs/emitters.md) as the emitter tests see it, for every target.

Writing a program to disk, spelling inputs in CSV, what a row is after the CSV round trip,
reading a runner's stdout and comparing values by their bits. What differs per target is a
parameter: how a runner spells a finite double is a ``Spelling`` check each target's helper
module passes in (Python ``repr``, Java ``Double.toString``, C ``%.17g``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emitters.base import EmittedProgram
from modelgen.ir import DOUBLE, STRING, Model

# tests/ is not a package; the shared IR samples live beside this directory
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

Row = Mapping[str, Any]
Keys = Sequence[tuple[str, Sequence[str]]]
"""Key columns for ``csv_text``: (column name, one value per row), in column order."""
Spelling = Callable[[str, float], bool]
"""Whether ``text`` is how a target's runner must spell the finite double ``value``."""
Scored = list[tuple[list[str], dict[str, Any]]]
"""``parse_output``'s result: per output row, the key fields and the output values."""

IGNORED_COLUMN = "ignored, extra"
"""A column no model reads: every runner must skip it (its name and values need quoting)."""

PROTOCOL_WORDS = {math.inf: "Infinity", -math.inf: "-Infinity"}
"""How every runner spells the infinities in its output (NaN is ``NaN``)."""

# every spelling a runner must accept, cycled through row by row (words are case-insensitive)
_NAN_SPELLINGS = ("", "nan", "NaN", "-nan")
_INF_SPELLINGS = {math.inf: ("inf", "Infinity", "+INF", "INF"), -math.inf: ("-inf", "-Infinity", "-INFINITY")}


def write_program(program: EmittedProgram, outdir: Path) -> None:
    """Write the files and manifest.json like ``modelgen compile`` does."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in program.files:
        (outdir / name).write_text(text, encoding="utf-8", newline="\n")
    (outdir / "manifest.json").write_text(json.dumps(program.manifest, indent=2) + "\n", encoding="utf-8")


def number_field(value: float | None, variant: int) -> str:
    """A CSV spelling of a numeric input; ``variant`` picks among the accepted spellings."""
    if value is None:
        return ""
    if math.isnan(value):
        return _NAN_SPELLINGS[variant % len(_NAN_SPELLINGS)]
    if value in _INF_SPELLINGS:
        spellings = _INF_SPELLINGS[value]
        return spellings[variant % len(spellings)]
    return repr(value)


def quoted(field: str) -> str:
    """One CSV field, RFC 4180 quoted when it holds a comma, quote, CR or LF."""
    # by hand: the csv module leaves a bare CR unquoted when the line terminator is LF
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_text(model: Model, rows: Sequence[Row], keys: Keys = ()) -> str:
    """Input CSV for ``rows``: key columns first, then the inputs in reverse order (order must not
    matter), then ``IGNORED_COLUMN`` (extra columns must be skipped)."""
    inputs = list(reversed(model.inputs))
    # the extra column also means no line is one empty field, which a runner may skip as blank
    lines = [[*(k for k, _ in keys), *(f.name for f in inputs), IGNORED_COLUMN]]
    for index, row in enumerate(rows):
        fields = [values[index] for _, values in keys]
        for field_ in inputs:
            value = row[field_.name]
            if field_.dtype is STRING:
                fields.append("" if value is None else value)
            else:
                fields.append(number_field(value, index))
        fields.append(f'junk {index},"x"')
        lines.append(fields)
    return "".join(",".join(quoted(f) for f in line) + "\n" for line in lines)


def as_csv_sees(model: Model, row: Row) -> dict[str, Any]:
    """The row the runner reconstructs from CSV: an empty string is missing, NaN is missing."""
    out: dict[str, Any] = {}
    for field_ in model.inputs:
        value = row[field_.name]
        if field_.dtype is STRING and value == "":
            value = None
        if field_.dtype is DOUBLE and value is not None and math.isnan(value):
            value = None
        out[field_.name] = value
    return out


def as_csv_writes(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as a runner's CSV carries them: a missing label is an empty field."""
    return {name: "" if value is None else value for name, value in outputs.items()}


def decode_double(text: str, spelling: Spelling | None) -> float:
    """A runner's double field -> float, insisting on the protocol's NaN/Infinity words and, given
    ``spelling``, on the target's spelling of finite values."""
    value = float(text)
    if math.isnan(value) or math.isinf(value):
        word = "NaN" if math.isnan(value) else PROTOCOL_WORDS[value]
        if text != word:
            raise AssertionError(f"{text!r} is not the protocol's spelling {word!r}")
    elif spelling is not None and not spelling(text, value):
        raise AssertionError(f"{text!r} is not the target's spelling of {value!r}")
    return value


def parse_output(model: Model, stdout: str, keys: Sequence[str] = (), spelling: Spelling | None = None) -> Scored:
    """Runner stdout -> [(key fields, output values)], checking the header, every row's width and,
    through ``decode_double``, the spelling of every double."""
    reader = csv.reader(io.StringIO(stdout, newline=""))
    header = next(reader, None)
    expected_header = [*keys, *(o.name for o in model.outputs)]
    if header != expected_header:
        raise AssertionError(f"header {header!r} != {expected_header!r}")
    rows: Scored = []
    for number, record in enumerate(reader, start=1):
        if len(record) != len(expected_header):
            raise AssertionError(f"output row {number}: {len(record)} fields, expected {len(expected_header)}")
        key_fields, fields = record[: len(keys)], record[len(keys) :]
        values: dict[str, Any] = {}
        for output, text in zip(model.outputs, fields):
            values[output.name] = text if output.kind == "label" else decode_double(text, spelling)
        rows.append((key_fields, values))
    return rows


def bits(value: float) -> bytes:
    """The IEEE bits of ``value``, with every NaN collapsed to one pattern (NaN-ness is what counts)."""
    return struct.pack("<d", math.nan if math.isnan(value) else value)


def _ordered(value: float) -> int:
    # the bits as an integer that counts ULPs, within one sign (callers check the sign first)
    as_int = struct.unpack("<q", struct.pack("<d", value))[0]
    return as_int if as_int >= 0 else -(2**63) - as_int


def same_value(actual: Any, expected: Any, budget: int = 0) -> bool:
    """Floats: identical bits (any NaN matches any NaN; -0.0 is not 0.0), or with ``budget`` > 0
    the same sign and at most ``budget`` ULPs apart. Anything else: same type and equal."""
    if not isinstance(expected, float):
        return type(actual) is type(expected) and actual == expected
    if not isinstance(actual, float):
        return False
    if bits(actual) == bits(expected):
        return True
    if budget == 0 or math.isnan(actual) or math.isnan(expected):
        return False
    same_sign = math.copysign(1.0, actual) == math.copysign(1.0, expected)
    return same_sign and abs(_ordered(actual) - _ordered(expected)) <= budget


def mismatches(actual: Row, expected: Row, budgets: Mapping[str, int] | None = None) -> list[str]:
    """Every output whose value differs (by ``same_value``, within its ULP budget if given),
    described; empty when the names, their order and every value match."""
    out = []
    if list(actual) != list(expected):
        out.append(f"keys {list(actual)} != {list(expected)}")
    for name, value in expected.items():
        budget = 0 if budgets is None else budgets[name]
        if name not in actual or not same_value(actual[name], value, budget):
            allowed = "" if budgets is None else f" (budget {budget} ULP)"
            out.append(f"{name}: got {actual.get(name)!r}, expected {value!r}{allowed}")
    return out
