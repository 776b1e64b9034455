"""Test helpers for the python target: write a program, build it, run it on CSV, compare by bits."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import runner_csv
from runner_csv import Scored, as_csv_sees, csv_text, mismatches, write_program

from emitters.base import EmittedProgram
from modelgen.ir import Model

# the runner protocol's shared helpers, re-exported: the tests import their target's module only
__all__ = [
    "as_csv_sees",
    "build",
    "csv_text",
    "decode",
    "import_module",
    "mismatches",
    "parse_output",
    "python3",
    "repr_spelling",
    "run",
    "write_program",
]


def python3() -> str:
    """The ``python3`` the manifest names, resolved on PATH."""
    found = shutil.which("python3")
    if found is None:
        raise RuntimeError("python3 is not on PATH")
    return found


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


def repr_spelling(text: str, value: float) -> bool:
    """The python runner writes a finite double as ``repr`` does (shortest round trip)."""
    return text == repr(value)


def parse_output(model: Model, stdout: str, keys: Sequence[str] = ()) -> Scored:
    """Runner stdout -> [(key fields, output values)], doubles spelled as ``repr`` spells them."""
    return runner_csv.parse_output(model, stdout, keys, repr_spelling)
