"""Reading the golden cases (golden/<case>/): inputs, reference outputs and the written budgets."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelgen.ir import Model
from modelgen.numerics import parse_double

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


@dataclass(frozen=True)
class GoldenCase:
    name: str
    directory: Path

    @property
    def model_path(self) -> Path:
        return self.directory / "model.pkl"

    @property
    def input_csv(self) -> str:
        return (self.directory / "input.csv").read_text(encoding="utf-8")

    @property
    def refused_csv(self) -> str | None:
        """Rows scikit-learn refuses (every scorer must refuse them too), or None."""
        path = self.directory / "refused.csv"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    @property
    def spec(self) -> dict[str, Any]:
        return json.loads((self.directory / "case.json").read_text(encoding="utf-8"))

    def budget(self, target: str) -> dict[str, int]:
        """Output -> ULP budget written for ``target`` (``sql:duckdb`` falls back to ``sql``), default 0."""
        written = self.spec.get("budget", {})
        merged: dict[str, int] = {}
        for key in ("*", target.partition(":")[0], target):
            merged.update(written.get(key, {}))
        return merged

    def expected(self, model: Model) -> list[dict[str, Any]]:
        kinds = {o.name: o.kind for o in model.outputs}
        text = (self.directory / "expected.csv").read_text(encoding="utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        return [
            {n: (v if kinds[n] == "label" else parse_double(v)) for n, v in zip(header, fields)} for fields in reader
        ]


def golden_cases() -> list[GoldenCase]:
    return [GoldenCase(d.name, d) for d in sorted(GOLDEN.iterdir()) if (d / "case.json").is_file()]


def pinned_versions() -> dict[str, str]:
    return json.loads((GOLDEN / "versions.json").read_text(encoding="utf-8"))
