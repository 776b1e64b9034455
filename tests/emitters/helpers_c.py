"""Build and run generated C scorers for the c target's tests; compare outputs by bits."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import runner_csv
from runner_csv import Scored, as_csv_sees, as_csv_writes, bits, csv_text, write_program

from emitters.base import EmitOptions, EmittedProgram
from emitters.c import CEmitter
from emitters.c.literals import string_literal
from modelgen.ir import STRING, Model

# the runner protocol's shared helpers, re-exported: the tests import their target's module only
__all__ = [
    "STRICT_WARNINGS",
    "as_csv_sees",
    "build",
    "c_value",
    "compile_c",
    "csv_text",
    "emit_and_build",
    "expected_harness_lines",
    "harness_source",
    "input_array",
    "mismatches",
    "parse_output",
    "printf_17g_spelling",
    "run",
    "write_program",
]

STRICT_WARNINGS = ("-Wall", "-Wextra", "-Werror", "-pedantic")
"""Added to the manifest's build line in tests: the generated C must compile clean."""


def compile_c(argv: Sequence[str], directory: Path) -> None:
    """Run one ``cc ...`` command as gcc with strict warnings; raise with gcc's output on failure."""
    command = ["gcc", *STRICT_WARNINGS, *argv[1:]]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"build failed: {' '.join(command)}\n{result.stderr[:5000]}")


def build(program: EmittedProgram, directory: Path) -> None:
    """Run the manifest's build commands (as gcc with strict warnings)."""
    for argv in program.manifest["build"]:
        compile_c(argv, directory)


def emit_and_build(model: Model, directory: Path, *, name: str = "scorer", keys: tuple[str, ...] = (),
                   extra: tuple[tuple[str, Any], ...] = ()) -> Path:
    """Emit ``model`` with the runner (and ``extra`` options) into ``directory``, build it, return the executable."""
    program = CEmitter().emit(model, EmitOptions(name=name, runner=True, keys=keys, extra=extra))
    write_program(program, directory)
    build(program, directory)
    return directory / name


def run(executable: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """Run a built runner with ``stdin`` (UTF-8 text); bytes in and out, so CR/LF stay as written."""
    result = subprocess.run([str(executable)], input=stdin.encode("utf-8"), capture_output=True, check=False,
                            timeout=120)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8"),
                                       result.stderr.decode("utf-8"))


def printf_17g_spelling(text: str, value: float) -> bool:
    """The c runner writes a finite double with ``printf("%.17g")`` (Python's ``g`` is the same)."""
    return text == f"{value:.17g}"


def parse_output(model: Model, stdout: str, keys: Sequence[str] = ()) -> Scored:
    """Runner stdout -> [(key fields, output values)], doubles spelled as ``%.17g`` spells them."""
    return runner_csv.parse_output(model, stdout, keys, printf_17g_spelling)


def mismatches(expected: Sequence[Mapping[str, Any]], scored: Scored) -> list[str]:
    """Every (row, output) where the runner's value differs from ``expected`` by bits (a missing
    label is an empty field in CSV), described; empty when every row matches."""
    if len(expected) != len(scored):
        return [f"expected {len(expected)} rows, got {len(scored)}"]
    problems: list[str] = []
    for i, (want, (_, got)) in enumerate(zip(expected, scored)):
        problems += [f"row {i + 1} {m}" for m in runner_csv.mismatches(got, as_csv_writes(want))]
    return problems


def c_value(value: Any, dtype_is_string: bool) -> str:
    """A C initialiser for a row value, exact to the bit (hex floats), for the direct harness."""
    if dtype_is_string:
        return "NULL" if value is None else string_literal(value)
    if value is None or math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    return f"({float(value).hex()})"


def harness_source(model: Model, name: str, rows: Sequence[Mapping[str, Any]], fields: Sequence[str],
                   outputs: Sequence[str]) -> str:
    """A C main that scores ``rows`` through the struct API and prints each double's bits in hex.

    The rows are one static array and ``main`` a loop: a statement per row and field would make
    gcc's -O2 time grow with rows x outputs (seconds for a hundred outputs)."""
    lines = [
        "#include <stdio.h>",
        "#include <string.h>",
        "#include <math.h>",
        f'#include "{name}.h"',
        "static void show(double v) { unsigned long long u; if (isnan(v)) v = NAN; memcpy(&u, &v, sizeof u);"
        ' printf("%016llx\\n", u); }',
        "static void show_string(const char *s) { if (s == NULL) { puts(\"NULL\"); return; }"
        ' for (; *s; s++) { printf("%02x", (unsigned)(unsigned char)*s); } printf("/\\n"); }',
        *input_array(model, name, rows, fields),
        "int main(void) {",
        f"    {name}_output out; int i;",
        "    (void)show_string; (void)show;",
        f"    for (i = 0; i < {len(rows)}; i++) {{",
        f"        if ({name}_score(&in[i], &out)) {{ printf(\"error\\n\"); continue; }}",
    ]
    for o, field in zip(model.outputs, outputs):
        lines.append(f"        show{'_string' if o.expr.dtype is STRING else ''}(out.{field});")
    lines += ["    }", "    return 0;", "}", ""]
    return "\n".join(lines)


def input_array(model: Model, name: str, rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> list[str]:
    """``static NAME_input in[]`` initialised with ``rows``, exact to the bit (at least one element:
    C has no empty arrays)."""
    items = []
    for row in rows or [{f.name: None for f in model.inputs}]:
        values = ", ".join(f".{field} = {c_value(row[f.name], f.dtype is STRING)}"
                           for f, field in zip(model.inputs, fields))
        items.append(f"    {{{values or '0'}}},")
    return [f"static const {name}_input in[] = {{", *items, "};"]


def expected_harness_lines(model: Model, expected: Sequence[Mapping[str, Any] | None]) -> list[str]:
    """What ``harness_source``'s program prints for these evaluate results (None = the row is rejected)."""
    lines: list[str] = []
    for result in expected:
        if result is None:
            lines.append("error")
            continue
        for o in model.outputs:
            value = result[o.name]
            if o.expr.dtype is STRING:
                lines.append("NULL" if value is None else value.encode("utf-8").hex() + "/")
            else:
                lines.append(bits(value)[::-1].hex())
    return lines
