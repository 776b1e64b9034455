"""Every golden case through every target, for real, compared with the reference by ULP distance.

Budgets are read from each case's ``case.json`` (written by hand, with reasons); labels must be
identical and every numeric output within its budget -- 0 (bit-identical) unless written otherwise.
"""

from __future__ import annotations

import pytest
from golden_cases import GoldenCase, golden_cases, pinned_versions

from modelgen.compiler import lower
from modelgen.ir import Model
from modelgen.verify import BuiltScorer, build_target, compare_outputs, expected_refusal, read_rows, rejects_each

TARGETS = ("python", "c", "java", "sql:duckdb", "sql:sqlite", "sql:postgres", "sql:spark")
CASES = golden_cases()
_LOWERED: dict[str, Model] = {}
_BUILT: dict[tuple[str, str], BuiltScorer] = {}


def test_golden_suite_is_not_empty() -> None:
    assert len(CASES) >= 10


@pytest.fixture(scope="session", autouse=True)
def pinned_scikit_learn() -> None:
    import sklearn

    pinned = pinned_versions()["scikit-learn"]
    if sklearn.__version__ != pinned:
        pytest.fail(
            f"the golden pickles were written by scikit-learn {pinned} but {sklearn.__version__} is installed; "
            f"install the pinned version (pip install -e '.[test]') or regenerate them with golden/regenerate.py",
            pytrace=False,
        )


def lowered(case: GoldenCase) -> Model:
    if case.name not in _LOWERED:
        _LOWERED[case.name] = lower(case.model_path)
    return _LOWERED[case.name]


def built(case: GoldenCase, target: str, factory: pytest.TempPathFactory) -> BuiltScorer:
    """The case's scorer for ``target``, built once per session: the refused-rows test reruns it."""
    key = (case.name, target)
    if key not in _BUILT:
        workdir = factory.mktemp(f"{case.name}-{target.replace(':', '-')}")
        _BUILT[key] = build_target(lowered(case), target, workdir)
    return _BUILT[key]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: GoldenCase, target: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    model = lowered(case)
    rows = read_rows(case.input_csv, model)
    expected = case.expected(model)
    assert len(expected) == len(rows)
    actual = built(case, target, tmp_path_factory).score(case.input_csv, rows)
    report = compare_outputs(model, target, expected, actual, case.budget(target))
    assert report.error is None, report.error
    problems = [
        f"{o.name}: {'labels differ' if o.is_label else f'{o.max_ulp} ULP > budget {o.budget}'} "
        f"(first at row {o.first_bad_row})"
        for o in report.outputs
        if not o.ok
    ]
    assert not problems, "; ".join(problems)


REFUSING = [c for c in CASES if c.refused_csv is not None]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", REFUSING, ids=[c.name for c in REFUSING])
def test_golden_refused_rows_are_refused(
    case: GoldenCase, target: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model = lowered(case)
    text = case.refused_csv or ""
    rows = read_rows(text, model)
    assert rows, "refused.csv has a header only"
    # why each row is refused: the first failing row check, as the IR evaluator says; a row
    # scikit-learn refuses for a reason no check carries would be scored by every target
    messages = [expected_refusal(model, row) for row in rows]
    unexplained = [index + 1 for index, message in enumerate(messages) if message is None]
    assert not unexplained, f"refused rows {unexplained} fail no row check of the model"
    scorer = built(case, target, tmp_path_factory)
    # every row alone (on Spark: one planned query run once per row, see verify.rejects_each),
    # refused with its check's message: a crash or an error in the query is not a refusal
    refusals = rejects_each(scorer, text, rows, [m or "" for m in messages])
    assert len(refusals) == len(rows)
    problems = [f"row {index + 1}: {r.problem}" for index, r in enumerate(refusals) if r.problem is not None]
    assert not problems, "; ".join(problems)
