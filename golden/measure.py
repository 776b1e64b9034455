"""Measure every golden case on every target: max ULP per output against the reference.

    python golden/measure.py [CASE ...]

Prints what each target achieves, to write (or review) the budgets in ``regenerate.py``.
It writes nothing: budgets are decided by a person, next to the reason.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from golden_cases import golden_cases

from modelgen.compiler import lower
from modelgen.verify import compare_outputs, read_rows, run_target

TARGETS = ("python", "c", "java", "sql:duckdb", "sql:sqlite")


def main(selected: list[str]) -> None:
    for case in golden_cases():
        if selected and case.name not in selected:
            continue
        model = lower(case.model_path)
        rows = read_rows(case.input_csv, model)
        expected = case.expected(model)
        for target in TARGETS:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    actual = run_target(model, target, case.input_csv, rows, Path(tmp))
                except Exception as error:
                    print(f"{case.name:40} {target:11} ERROR {str(error)[:200]}")
                    continue
            report = compare_outputs(model, target, expected, actual, {})
            cells = ", ".join(
                f"{o.name}={'LABELS DIFFER' if o.is_label and o.mismatches else o.max_ulp}"
                for o in report.outputs
                if o.mismatches
            )
            print(f"{case.name:40} {target:11} {cells or 'bit-identical'}")


if __name__ == "__main__":
    main(sys.argv[1:])
