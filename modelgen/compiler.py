"""The main job: model file -> IR -> passes -> target files + manifest."""

from __future__ import annotations

import json
from pathlib import Path

from emitters.base import EmitOptions, EmittedProgram
from modelgen.frontends import load_model
from modelgen.ir import Model
from modelgen.passes import run_passes
from modelgen.registry import get_emitter


def lower(model_path: str | Path) -> Model:
    """Load a model file and run every IR pass over it."""
    return run_passes(load_model(model_path))


def emit(model: Model, target: str, options: EmitOptions) -> EmittedProgram:
    """Generate ``target`` code for an already-lowered model."""
    return get_emitter(target).emit(model, options)


def write_program(program: EmittedProgram, outdir: str | Path) -> list[Path]:
    """Write the generated files and ``manifest.json`` into ``outdir``; returns the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in program.files:
        path = outdir / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    manifest = outdir / "manifest.json"
    manifest.write_text(json.dumps(program.manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8", newline="\n")
    written.append(manifest)
    return written

