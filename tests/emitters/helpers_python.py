"""Test helpers for the python target: write a program, build it, run it on CSV, compare by bits."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import shutil
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from emitters.base import EmittedProgram
from modelgen.ir import DOUBLE, STRING, Model

# tests/ is not a package; the shared IR samples live beside this directory
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

Row = Mapping[str, Any]


def python3() -> str:
    """The ``python3`` the manifest names, resolved on PATH."""
    found = shutil.which("python3")
    if found is None:
        raise RuntimeError("python3 is not on PATH")
    return found


def same_value(actual: Any, expected: Any) -> bool:
    """Bit-for-bit equality: floats by their IEEE bits (any NaN equals any NaN, -0.0 is not 0.0)."""
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        return struct.pack("<d", actual) == struct.pack("<d", expected)
    return type(actual) is type(expected) and actual == expected


def mismatches(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """A description of every output whose value differs (empty when all are bit-identical)."""
    out = []
    if list(actual) != list(expected):
        out.append(f"keys {list(actual)} != {list(expected)}")
    for name, value in expected.items():
        if name not in actual or not same_value(actual[name], value):
            out.append(f"{name}: got {actual.get(name)!r}, expected {value!r}")
    return out


def write_program(program: EmittedProgram, outdir: Path) -> None:
    """Write the files and manifest.json like ``modelgen compile`` does."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in program.files:
        (outdir / name).write_text(text, encoding="utf-8", newline="\n")
    (outdir / "manifest.json").write_text(json.dumps(program.manifest, indent=2) + "\n", encoding="utf-8")


def _argv(argv: Sequence[str]) -> list[str]:
    return [python3() if argv[0] == "python3" else argv[0], *argv[1:]]


def build(program: EmittedProgram, outdir: Path) -> None:
    """Run every build step of the manifest in ``outdir``; fail loudly on a non-zero exit."""
    for argv in program.manifest["build"]:
        result = subprocess.run(_argv(argv), cwd=outdir, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise AssertionError(f"build {argv} failed:\n{result.stderr}")


def run(program: EmittedProgram, outdir: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """Run the manifest's runner in ``outdir`` with ``stdin``."""
    return subprocess.run(
        _argv(program.manifest["run"]),
        cwd=outdir,
        input=stdin.encode("utf-8"),
        capture_output=True,
        check=False,
    )  # type: ignore[return-value]


def decode(result: subprocess.CompletedProcess[Any]) -> tuple[str, str]:
    """stdout and stderr of a bytes-mode run as text (UTF-8, no newline translation)."""
    return result.stdout.decode("utf-8"), result.stderr.decode("utf-8")


def import_module(path: Path) -> ModuleType:
    """Import a generated module from its file under a unique name."""
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}_{abs(hash(str(path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_NUMBER_SPELLINGS = {math.inf: ("inf", "Infinity", "+INF"), -math.inf: ("-inf", "-Infinity", "-INFINITY")}


def number_field(value: float | None, variant: int) -> str:
    """A CSV spelling of a numeric input; ``variant`` picks among the accepted spellings."""
    if value is None:
        return ""
    if math.isnan(value):
        return ("", "nan", "NaN", "-nan")[variant % 4]
    if value in _NUMBER_SPELLINGS:
        return _NUMBER_SPELLINGS[value][variant % 3]
    return repr(value)


def csv_text(model: Model, rows: Sequence[Row], keys: Sequence[tuple[str, Sequence[str]]] = ()) -> str:
    """Input CSV for ``rows``: key columns first, then the inputs in reverse order (order must not matter)."""
    lines = []
    inputs = list(reversed(model.inputs))
    lines.append([k for k, _ in keys] + [f.name for f in inputs])
    for index, row in enumerate(rows):
        fields = [values[index] for _, values in keys]
        for field_ in inputs:
            value = row[field_.name]
            if field_.dtype is STRING:
                fields.append("" if value is None else value)
            else:
                fields.append(number_field(value, index))
        lines.append(fields)
    return "".join(",".join(_quoted(f) for f in line) + "\n" for line in lines)


def _quoted(field: str) -> str:
    # RFC 4180; the csv module leaves a bare CR unquoted when the line terminator is LF
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def as_csv_sees(model: Model, row: Row) -> dict[str, Any]:
    """The row the runner reconstructs from CSV: an empty string is indistinguishable from missing."""
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
    """Runner stdout -> [(key fields, output values)], checking the header and the double spelling."""
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
            if output.kind == "label":
                values[output.name] = text
                continue
            value = float(text)
            canonical = "NaN" if math.isnan(value) else {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value)
            if text != (canonical or repr(value)):
                raise AssertionError(f"{output.name}: {text!r} is not the protocol's spelling of {value!r}")
            values[output.name] = value
        rows.append((key_fields, values))
    return rows
