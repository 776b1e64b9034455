"""``modelgen verify``'s declared budgets cover every budget the golden cases had to write down.

A golden case's ``case.json`` budget is measured; ``declared_budget`` is what ``verify`` allows
a user's model by default. Were a case to need more than verify declares, verify would fail a
scorer the golden suite accepts (or a target's declaration would be missing).
"""

from __future__ import annotations

import pytest
from golden_cases import GoldenCase, golden_cases
from ir_samples import arithmetic_model

from modelgen.budget import declared_budget
from modelgen.compiler import lower

CASES = [c for c in golden_cases() if set(c.spec.get("budget", {})) - {"*"}]


def test_some_golden_cases_write_budgets() -> None:
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_declared_budget_covers_the_golden_budgets(case: GoldenCase) -> None:
    model = lower(case.model_path)
    for written in sorted(set(case.spec["budget"]) - {"*"}):
        target = "sql:duckdb" if written == "sql" else written
        declared = declared_budget(model, target)
        for name, ulps in sorted(case.budget(target).items()):
            allowed = declared.get(name, 0)
            assert ulps <= allowed, f"{target} {name}: the case needs {ulps} ULP, verify declares {allowed}"


@pytest.mark.parametrize(
    ("target", "exp_ulps", "log1p_ulps"),
    [("python", 0, 0), ("c", 0, 0), ("java", 2, 2), ("sql:duckdb", 0, 4), ("sql:postgres", 0, 4), ("sql:spark", 4, 4)],
)
def test_libm_budget_per_target(target: str, exp_ulps: int, log1p_ulps: int) -> None:
    # Spark's EXP is StrictMath's, Java's a HotSpot intrinsic, elsewhere glibc's; SQL's log1p is built from LN
    declared = declared_budget(arithmetic_model(), target)
    assert (declared["v2"], declared["v4"]) == (exp_ulps, log1p_ulps)
