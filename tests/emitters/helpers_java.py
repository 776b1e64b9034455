"""Test helpers for the java target: write, compile (lint-clean), run on CSV, compare by ULP."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from emitters.base import EmittedProgram
from emitters.java.visitor import TRANSCENDENTAL_OPS, TRANSCENDENTAL_ULP_BUDGET
from modelgen.ir import DOUBLE, STRING, Binary, Model, Node, Unary, topological_order

# tests/ is not a package; the shared IR samples live beside this directory
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

Row = Mapping[str, Any]

STRICT_JAVAC_FLAGS = ("-Xlint:all", "-Werror")


def write_program(program: EmittedProgram, outdir: Path) -> None:
    """Write the files and manifest.json like ``modelgen compile`` does."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in program.files:
        (outdir / name).write_text(text, encoding="utf-8", newline="\n")
    (outdir / "manifest.json").write_text(json.dumps(program.manifest, indent=2) + "\n", encoding="utf-8")


def build(program: EmittedProgram, outdir: Path) -> None:
    """Run the manifest's build steps with ``-Xlint:all -Werror`` added: any warning fails."""
    for argv in program.manifest["build"]:
        strict = [argv[0], *STRICT_JAVAC_FLAGS, *argv[1:]]
        result = subprocess.run(strict, cwd=outdir, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise AssertionError(f"build {strict} failed:\n{result.stdout}{result.stderr}")


def run(program: EmittedProgram, outdir: Path, stdin: str) -> tuple[int, str, str]:
    """Run the manifest's runner in ``outdir`` on ``stdin`` (UTF-8): exit status, stdout, stderr."""
    result = subprocess.run(
        program.manifest["run"], cwd=outdir, input=stdin.encode("utf-8"), capture_output=True, check=False
    )
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")


def method_code_sizes(outdir: Path) -> dict[str, int]:
    """Bytecode length of every method of every compiled class, from ``javap -c -p``."""
    sizes: dict[str, int] = {}
    for class_file in sorted((outdir / "classes").rglob("*.class")):
        listing = subprocess.run(
            ["javap", "-c", "-p", str(class_file)], capture_output=True, text=True, check=True
        ).stdout
        method = None
        for line in listing.splitlines():
            if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(";"):
                method = f"{class_file.stem}: {line.strip()}"
            match = re.match(r"\s+(\d+): (\w+)", line)
            if method is not None and match:
                sizes[method] = int(match.group(1)) + 1  # offset of the last instruction (a 1-byte return)
    return sizes


_SPELLINGS = {math.inf: ("inf", "Infinity", "+INF"), -math.inf: ("-inf", "-Infinity", "-INFINITY")}


def number_field(value: float | None, variant: int) -> str:
    """A CSV spelling of a numeric input; ``variant`` cycles through the accepted spellings."""
    if value is None:
        return ""
    if math.isnan(value):
        return ("", "nan", "NaN", "-nan")[variant % 4]
    if value in _SPELLINGS:
        return _SPELLINGS[value][variant % 3]
    return repr(value)


def csv_text(model: Model, rows: Sequence[Row], keys: Sequence[tuple[str, Sequence[str]]] = ()) -> str:
    """Input CSV: key columns first, then the inputs in reverse order (column order must not matter)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    inputs = list(reversed(model.inputs))
    writer.writerow([k for k, _ in keys] + [f.name for f in inputs])
    for index, row in enumerate(rows):
        fields = [values[index] for _, values in keys]
        for field_ in inputs:
            value = row[field_.name]
            if field_.dtype is STRING:
                fields.append("" if value is None else value)
            else:
                fields.append(number_field(value, index))
        writer.writerow(fields)
    return buffer.getvalue()


def as_csv_sees(model: Model, row: Row) -> dict[str, Any]:
    """The row the runner reconstructs: an empty string is missing, NaN is missing."""
    out: dict[str, Any] = {}
    for field_ in model.inputs:
        value = row[field_.name]
        if field_.dtype is STRING and value == "":
            value = None
        if field_.dtype is DOUBLE and value is not None and math.isnan(value):
            value = None
        out[field_.name] = value
    return out


def parse_output(model: Model, stdout: str, keys: Sequence[str] = ()) -> list[tuple[list[str], dict[str, Any]]]:
    """Runner stdout -> [(key fields, output values)], checking the header."""
    reader = csv.reader(io.StringIO(stdout, newline=""))
    header = next(reader)
    expected_header = [*keys, *(o.name for o in model.outputs)]
    if header != expected_header:
        raise AssertionError(f"header {header!r} != {expected_header!r}")
    rows = []
    for record in reader:
        key_fields, fields = record[: len(keys)], record[len(keys) :]
        values: dict[str, Any] = {}
        for output, text in zip(model.outputs, fields):
            values[output.name] = text if output.kind == "label" else float(text)
        rows.append((key_fields, values))
    return rows


def depends_on_transcendental(expr: Node) -> bool:
    """Whether ``expr`` reads an op whose Java result may differ from glibc (see visitor.py)."""
    return any(
        isinstance(node, (Unary, Binary)) and node.op in TRANSCENDENTAL_OPS for node in topological_order([expr])
    )


def ulp_budgets(model: Model) -> dict[str, int]:
    """Per output: the measured budget if it depends on exp/log/log1p/expm1/pow, else 0."""
    return {o.name: TRANSCENDENTAL_ULP_BUDGET if depends_on_transcendental(o.expr) else 0 for o in model.outputs}


def _ordered(value: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", value))[0]
    return bits if bits >= 0 else -(2**63) - bits


def within_budget(actual: Any, expected: Any, budget: int) -> bool:
    """Budget 0: identical bits (any NaN matches any NaN; -0.0 is not 0.0). Else ULP distance <= budget."""
    if isinstance(expected, str) or expected is None:
        return actual == ("" if expected is None else expected)
    if not isinstance(actual, float):
        return False
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if budget == 0:
        return struct.pack("<d", actual) == struct.pack("<d", expected)
    same_sign = math.copysign(1.0, actual) == math.copysign(1.0, expected)
    return same_sign and abs(_ordered(actual) - _ordered(expected)) <= budget


def mismatches(model: Model, actual: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Every output outside its budget, described (empty when the row matches)."""
    budgets = ulp_budgets(model)
    return [
        f"{name}: got {actual.get(name)!r}, expected {value!r} (budget {budgets[name]} ULP)"
        for name, value in expected.items()
        if not within_budget(actual.get(name), value, budgets[name])
    ]
