"""Test helpers for the java target: write, compile (lint-clean), run on CSV, compare by ULP."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import runner_csv
from runner_csv import Row, Scored, as_csv_sees, as_csv_writes, csv_text, write_program

from emitters.base import EmittedProgram
from emitters.java.visitor import TRANSCENDENTAL_OPS, TRANSCENDENTAL_ULP_BUDGET
from modelgen.ir import Binary, Model, Node, Unary, topological_order

# the runner protocol's shared helpers, re-exported: the tests import their target's module only
__all__ = [
    "STRICT_JAVAC_FLAGS",
    "as_csv_sees",
    "build",
    "csv_text",
    "depends_on_transcendental",
    "double_to_string_spelling",
    "class_method_code_sizes",
    "javap_code_sizes",
    "method_code_sizes",
    "mismatches",
    "parse_output",
    "run",
    "ulp_budgets",
    "write_program",
]

STRICT_JAVAC_FLAGS = ("-Xlint:all", "-Werror")


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


_CONSTANT_SIZES = {1: -1, 3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4,
                   18: 4, 19: 2, 20: 2}
"""Class-file constant-pool tag -> payload bytes (1, Utf8, is length-prefixed)."""


def class_method_code_sizes(data: bytes) -> dict[str, int]:
    """``name + descriptor`` -> ``code_length`` of every method of one class file (JVMS 4.1, 4.7.3).

    Read straight from the bytes: ``javap -c`` on a class holding a 1,000-tree forest takes
    seconds, this takes milliseconds (checked against javap in test_java_emitter).
    """
    at = 8
    count = int.from_bytes(data[at : at + 2], "big")
    at += 2
    utf8: dict[int, str] = {}
    index = 1
    while index < count:
        tag = data[at]
        size = _CONSTANT_SIZES[tag]
        if size < 0:
            length = int.from_bytes(data[at + 1 : at + 3], "big")
            utf8[index] = data[at + 3 : at + 3 + length].decode("utf-8", "replace")
            size = 2 + length
        at += 1 + size
        index += 2 if tag in (5, 6) else 1  # a long or double takes two entries

    def u2() -> int:
        nonlocal at
        at += 2
        return int.from_bytes(data[at - 2 : at], "big")

    def u4() -> int:
        nonlocal at
        at += 4
        return int.from_bytes(data[at - 4 : at], "big")

    at += 6  # access flags, this class, super class
    interfaces = u2()
    at += 2 * interfaces  # (``at += 2 * u2()`` would read ``at`` before u2 moves it)
    for _ in range(u2()):  # fields
        at += 6
        for _ in range(u2()):
            u2()
            length = u4()
            at += length
    sizes: dict[str, int] = {}
    for _ in range(u2()):  # methods
        u2()
        name, descriptor = utf8[u2()], utf8[u2()]
        for _ in range(u2()):
            attribute = utf8[u2()]
            length = u4()
            if attribute == "Code":
                sizes[name + descriptor] = int.from_bytes(data[at + 4 : at + 8], "big")
            at += length
    return sizes


def method_code_sizes(outdir: Path) -> dict[str, int]:
    """Bytecode length of every method of every compiled class (``Class: name(descriptor)``)."""
    sizes: dict[str, int] = {}
    for class_file in sorted((outdir / "classes").rglob("*.class")):
        for method, size in class_method_code_sizes(class_file.read_bytes()).items():
            sizes[f"{class_file.stem}: {method}"] = size
    return sizes


def javap_code_sizes(class_file: Path) -> list[int]:
    """Bytecode lengths of the methods of ``class_file`` as ``javap -c -p`` lists them (sorted)."""
    listing = subprocess.run(["javap", "-c", "-p", str(class_file)], capture_output=True, text=True, check=True).stdout
    sizes: dict[str, int] = {}
    method = None
    for line in listing.splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(";"):
            method = line.strip()
        match = re.match(r"\s+(\d+): (\w+)", line)
        if method is not None and match:
            sizes[method] = int(match.group(1)) + 1  # offset of the last instruction (a 1-byte return)
    return sorted(sizes.values())


_PLAIN = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")
_SCIENTIFIC = re.compile(r"-?[1-9]\.[0-9]+E-?[1-9][0-9]*")


def double_to_string_spelling(text: str, value: float) -> bool:
    """The java runner writes a finite double as ``Double.toString`` does: plain digits with a
    fraction for 1e-3 <= |value| < 1e7 (and zero), else one digit, a fraction and ``E``."""
    # only the shape: JDK 17's digits are not always the shortest, so they cannot be predicted
    plain = value == 0 or 1e-3 <= abs(value) < 1e7
    return (_PLAIN if plain else _SCIENTIFIC).fullmatch(text) is not None


def parse_output(model: Model, stdout: str, keys: Sequence[str] = ()) -> Scored:
    """Runner stdout -> [(key fields, output values)], doubles spelled as ``Double.toString`` spells them."""
    return runner_csv.parse_output(model, stdout, keys, double_to_string_spelling)


def depends_on_transcendental(expr: Node) -> bool:
    """Whether ``expr`` reads an op whose Java result may differ from glibc (see visitor.py)."""
    return any(
        isinstance(node, (Unary, Binary)) and node.op in TRANSCENDENTAL_OPS for node in topological_order([expr])
    )


def ulp_budgets(model: Model) -> dict[str, int]:
    """Per output: the measured budget if it depends on exp/log/log1p/expm1/pow, else 0."""
    return {o.name: TRANSCENDENTAL_ULP_BUDGET if depends_on_transcendental(o.expr) else 0 for o in model.outputs}


def mismatches(model: Model, actual: Row, expected: Mapping[str, Any]) -> list[str]:
    """Every output outside its ULP budget, described (empty when the row matches); ``expected``
    as the CSV carries it (a missing label is an empty field)."""
    return runner_csv.mismatches(actual, as_csv_writes(expected), ulp_budgets(model))
