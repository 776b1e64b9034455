"""Build and run generated C scorers for the c target's tests; compare outputs by bits."""

from __future__ import annotations

import csv
import io
import math
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# the shared IR samples live one level up; make them importable however pytest is invoked
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from emitters.base import EmitOptions, EmittedProgram  # noqa: E402
from emitters.c import CEmitter  # noqa: E402
from emitters.c.literals import string_literal  # noqa: E402
from modelgen.ir import STRING, Model  # noqa: E402

STRICT_WARNINGS = ("-Wall", "-Wextra", "-Werror", "-pedantic")
"""Added to the manifest's build line in tests: the generated C must compile clean."""


def write_program(program: EmittedProgram, directory: Path) -> None:
    """Write the emitted files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for file_name, text in program.files:
        (directory / file_name).write_text(text, encoding="utf-8")


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


def emit_and_build(model: Model, directory: Path, *, name: str = "scorer", keys: tuple[str, ...] = ()) -> Path:
    """Emit ``model`` with the runner into ``directory``, build it, return the executable."""
    program = CEmitter().emit(model, EmitOptions(name=name, runner=True, keys=keys))
    write_program(program, directory)
    build(program, directory)
    return directory / name


def run(executable: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """Run a built runner with ``stdin`` (UTF-8 text); bytes in and out, so CR/LF stay as written."""
    result = subprocess.run([str(executable)], input=stdin.encode("utf-8"), capture_output=True, check=False,
                            timeout=120)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8"),
                                       result.stderr.decode("utf-8"))


def format_cell(value: Any, index: int = 0) -> str:
    """A CSV cell for a Python row value; missing doubles alternate between '' and 'nan' spellings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return ("", "nan", "NaN", "-nan")[index % 4]
    if math.isinf(value):
        return ("inf", "-Infinity")[value < 0] if index % 2 else ("INF", "-inf")[value < 0]
    return repr(value)


def csv_text(model: Model, rows: Sequence[Mapping[str, Any]], keys: Mapping[str, Sequence[str]] | None = None) -> str:
    """The CSV a user would feed the runner: key columns, inputs in reverse order (order must not matter)
    and a column the model does not read (it must be ignored)."""
    keys = keys or {}
    names = [*keys, *(f.name for f in reversed(model.inputs)), "ignored, extra"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for i, row in enumerate(rows):
        cells = [format_cell(row[f.name], i) for f in reversed(model.inputs)]
        writer.writerow([*(keys[k][i] for k in keys), *cells, f"junk {i},\"x\""])
    return out.getvalue()


def as_csv_sees(model: Model, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as the runner reads it back: an empty string is a missing value in CSV."""
    return {f.name: (None if f.dtype is STRING and row[f.name] == "" else row[f.name]) for f in model.inputs}


def bits(value: float) -> bytes:
    """The IEEE bits of ``value``, with every NaN collapsed to one pattern (NaN-ness is what counts)."""
    return struct.pack("<d", math.nan if math.isnan(value) else value)


def decode_double(text: str) -> float:
    """A runner's double cell -> float, insisting on the protocol's spellings of NaN and infinities."""
    if text.lower() in ("nan", "inf", "infinity", "-inf", "-infinity", "+inf", "+infinity"):
        if text not in ("NaN", "Infinity", "-Infinity"):
            raise AssertionError(f"non-protocol spelling {text!r}")
    return float(text)


def parse_output(model: Model, stdout: str, n_keys: int = 0) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a runner's output."""
    table = list(csv.reader(io.StringIO(stdout, newline="")))
    header, rows = table[0], table[1:]
    if header[n_keys:] != [o.name for o in model.outputs]:
        raise AssertionError(f"output header {header!r}")
    return header, rows


def mismatches(model: Model, expected: Sequence[Mapping[str, Any]], cells: Sequence[Sequence[str]]) -> list[str]:
    """Every (row, output) whose runner text differs from the expected value by bits or text."""
    problems: list[str] = []
    if len(expected) != len(cells):
        return [f"expected {len(expected)} rows, got {len(cells)}"]
    for i, (want, got) in enumerate(zip(expected, cells)):
        for output, text in zip(model.outputs, got[len(got) - len(model.outputs) :]):
            value = want[output.name]
            if output.expr.dtype is STRING:
                ok = text == ("" if value is None else value)
            else:
                ok = bits(decode_double(text)) == bits(value)
            if not ok:
                problems.append(f"row {i + 1} {output.name!r}: want {value!r}, got {text!r}")
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
    """A C main that scores ``rows`` through the struct API and prints each double's bits in hex."""
    lines = [
        "#include <stdio.h>",
        "#include <string.h>",
        "#include <math.h>",
        f'#include "{name}.h"',
        "static void show(double v) { unsigned long long u; if (isnan(v)) v = NAN; memcpy(&u, &v, sizeof u);"
        ' printf("%016llx\\n", u); }',
        "static void show_string(const char *s) { if (s == NULL) { puts(\"NULL\"); return; }"
        ' for (; *s; s++) { printf("%02x", (unsigned)(unsigned char)*s); } printf("/\\n"); }',
        "int main(void) {",
        f"    {name}_input in; {name}_output out; const char *message;",
        "    (void)show_string; (void)show;",
    ]
    for row in rows:
        for f, field in zip(model.inputs, fields):
            lines.append(f"    in.{field} = {c_value(row[f.name], f.dtype is STRING)};")
        lines.append(f"    message = {name}_score(&in, &out); if (message) {{ printf(\"error\\n\"); }} else {{")
        for o, field in zip(model.outputs, outputs):
            if o.expr.dtype is STRING:
                lines.append(f"        show_string(out.{field});")
            else:
                lines.append(f"        show(out.{field});")
        lines.append("    }")
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


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
