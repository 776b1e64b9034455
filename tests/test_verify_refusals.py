"""A row the reference refuses counts as refused by a scorer only for the model's reason.

``verify`` and the golden suite once counted any failure (a crash, a broken query, an engine
error) as a refusal; these tests pin that only the target's refusal with the message of the
row's first failing check counts, on every target that runs here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from modelgen.errors import VerificationError
from modelgen.ir import DOUBLE, Binary, Compare, Const, Input, InputField, Model, OutputField, RowCheck, Unary
from modelgen.verify import (
    BuiltScorer,
    ScorerExitError,
    build_target,
    engine_refusal_text,
    expected_refusal,
    refused_for,
    rejects,
    rejects_each,
    verify,
)

# quotes, a backslash, non-ASCII and printf/format specifiers: every target must carry them verbatim;
# the second message extends the first, so matching a prefix of the error would confuse them
FIRST = "feature 'x' \"é\" \\ %s {0} is infinite"
SECOND = FIRST + " as a float32"
RUN_TARGETS = ("python", "c", "java", "sql:duckdb", "sql:sqlite", "sql:postgres")


def two_check_model() -> Model:
    x, y = Input("x", DOUBLE), Input("y", DOUBLE)
    checks = (
        RowCheck(Compare("lt", Unary("abs", x), Const(10.0)), FIRST),
        RowCheck(Compare("lt", Unary("abs", y), Const(10.0)), SECOND),
    )
    output = OutputField("sum", "value", Binary("add", x, y))
    return Model((InputField("x", DOUBLE), InputField("y", DOUBLE)), (output,), checks)


ONLY_SECOND = {"x": 1.0, "y": 50.0}
BOTH = {"x": 50.0, "y": 50.0}
GOOD = {"x": 1.0, "y": 2.0}


def csv_of(*rows: dict[str, float]) -> str:
    return "x,y\n" + "".join(f"{r['x']!r},{r['y']!r}\n" for r in rows)


def test_expected_refusal_is_the_first_failing_check_in_check_order() -> None:
    model = two_check_model()
    assert expected_refusal(model, ONLY_SECOND) == SECOND
    assert expected_refusal(model, BOTH) == FIRST
    assert expected_refusal(model, GOOD) is None


# --- what each target prints, judged without running anything ------------------------------

ENGINE_ERRORS = {
    "duckdb": "Invalid Input Error: modelgen row rejected: {m}",
    "sqlite": "JSON path error near 'modelgen row rejected: {q}'",
    "postgres": 'invalid input syntax for type double precision: "modelgen row rejected: {m}"',
    "spark": "[USER_RAISED_EXCEPTION] modelgen row rejected: {m} SQLSTATE: P0001",
}
"""Error texts measured on DuckDB 2.0, SQLite 3, PostgreSQL and Spark 4 (see refused_for)."""


def engine_error(dialect: str, message: str) -> Exception:
    return RuntimeError(ENGINE_ERRORS[dialect].format(m=message, q=message.replace("'", "''")))


@pytest.mark.parametrize("dialect", sorted(ENGINE_ERRORS))
def test_engine_refusal_counts_only_with_the_checks_message(dialect: str) -> None:
    target = f"sql:{dialect}"
    assert refused_for(target, engine_error(dialect, FIRST), FIRST)
    assert refused_for(target, engine_error(dialect, SECOND), SECOND)
    # another check's message, longer or shorter, is another reason
    assert not refused_for(target, engine_error(dialect, SECOND), FIRST)
    assert not refused_for(target, engine_error(dialect, FIRST), SECOND)
    # the message without the engine's refusal wording (e.g. echoed in a syntax error) is not a refusal
    assert not refused_for(target, RuntimeError(f"Parser Error: syntax error at or near '{FIRST}'"), FIRST)
    assert not refused_for(target, MemoryError("java.lang.OutOfMemoryError: Java heap space"), FIRST)
    assert not refused_for(target, ScorerExitError("c", 1, f"row 1: {FIRST}\n"), FIRST)


def test_spark_refusal_inside_a_py4j_trace_counts() -> None:
    trace = (
        "An error occurred while calling o42.collectToPython.\n"
        f"{ENGINE_ERRORS['spark'].format(m=FIRST)}\n"
        "\tat org.apache.spark.sql.errors.QueryExecutionErrors$.raiseError(QueryExecutionErrors.scala:1)\n"
    )
    assert refused_for("sql:spark", RuntimeError(trace), FIRST)
    assert not refused_for("sql:spark", RuntimeError(trace), SECOND)


@pytest.mark.parametrize("target", ["python", "c", "java"])
def test_runner_refusal_needs_status_1_and_the_row_line(target: str) -> None:
    assert refused_for(target, ScorerExitError(target, 1, f"row 1: {FIRST}\n"), FIRST)
    # a JVM warning before the refusal line does not hide it
    warned = ScorerExitError(target, 1, f"Picked up JAVA_TOOL_OPTIONS: -Xss4m\nrow 1: {FIRST}\n")
    assert refused_for(target, warned, FIRST)
    assert refused_for(target, ScorerExitError(target, 1, f"row 3: {FIRST}\n"), FIRST, rows=3)
    not_refusals = [
        ScorerExitError(target, 1, f"row 1: {SECOND}\n"),  # another check
        ScorerExitError(target, 1, f"row 2: {FIRST}\n"),  # a row that was not run
        ScorerExitError(target, -11, f"row 1: {FIRST}\n"),  # killed by a signal
        ScorerExitError(target, 1, f"row 1: {FIRST}\nTraceback (most recent call last):\n  ...\n"),
        ScorerExitError(target, 1, 'row 1: column "x": "abc" is not a number\n'),
        ScorerExitError(target, 1, "out of memory\n"),
        ScorerExitError(target, 1, ""),
        VerificationError(f"runner printed header ['{FIRST}'], expected ['sum']"),
        engine_error("duckdb", FIRST),
    ]
    for error in not_refusals:
        assert not refused_for(target, error, FIRST), error


def test_engine_refusal_text_of_an_unknown_engine_is_an_error() -> None:
    with pytest.raises(VerificationError, match="oracle"):
        engine_refusal_text("oracle", FIRST)


# --- real scorers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scorers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltScorer]:
    model = two_check_model()
    return {t: build_target(model, t, tmp_path_factory.mktemp(t.replace(":", "-"))) for t in RUN_TARGETS}


@pytest.mark.parametrize("target", RUN_TARGETS)
def test_real_scorer_refuses_with_the_first_failing_checks_message(
    scorers: dict[str, BuiltScorer], target: str
) -> None:
    scorer = scorers[target]
    right = rejects_each(scorer, csv_of(ONLY_SECOND, BOTH), [ONLY_SECOND, BOTH], [SECOND, FIRST])
    assert [r.problem for r in right] == [None, None], [r.error for r in right]
    wrong = rejects_each(scorer, csv_of(ONLY_SECOND, BOTH), [ONLY_SECOND, BOTH], [FIRST, SECOND])
    for refusal in wrong:
        assert not refusal.matches and refusal.error is not None
        assert refusal.problem is not None and refusal.problem.startswith("refused for another reason: ")
    scored = rejects(scorer, csv_of(GOOD), [GOOD], FIRST)
    assert scored.error is None and scored.problem == "scikit-learn refuses it but the scorer scored it"


@pytest.mark.parametrize("target", [t for t in RUN_TARGETS if t.startswith("sql")])
def test_broken_query_is_not_a_refusal(scorers: dict[str, BuiltScorer], target: str) -> None:
    good = scorers[target]
    assert good.query is not None
    # the query still holds the check messages, so an error quoting the query text must not pass
    misspelt = good.query.replace("SELECT", "SELEKT", 1)
    assert misspelt != good.query
    broken = BuiltScorer(good.model, target, good.workdir, query=misspelt)
    refusal = rejects(broken, csv_of(BOTH), [BOTH], FIRST)
    assert refusal.error is not None and not refusal.matches, refusal.error
    elsewhere = good.query.replace('FROM "input"', 'FROM "no_such"')
    assert elsewhere != good.query
    missing_table = rejects(BuiltScorer(good.model, target, good.workdir, query=elsewhere), csv_of(BOTH), [BOTH], FIRST)
    assert missing_table.error is not None and not missing_table.matches, missing_table.error


def fake_runner(tmp_path: Path, status: int, stderr: str) -> BuiltScorer:
    script = tmp_path / "runner.py"
    script.write_text(f"import sys\nsys.stdin.read()\nsys.stderr.write({stderr!r})\nsys.exit({status})\n")
    return BuiltScorer(two_check_model(), "c", tmp_path, run=[sys.executable, str(script)])


@pytest.mark.parametrize(
    ("status", "stderr", "counts"),
    [
        (1, f"row 1: {FIRST}\n", True),
        (1, f"row 1: {SECOND}\n", False),
        (2, f"row 1: {FIRST}\n", False),
        (1, "Segmentation fault\n", False),
        (1, f"Traceback (most recent call last):\nValueError: {FIRST}\n", False),
    ],
)
def test_fake_runner_counts_only_the_right_refusal(tmp_path: Path, status: int, stderr: str, counts: bool) -> None:
    refusal = rejects(fake_runner(tmp_path, status, stderr), csv_of(BOTH), [BOTH], FIRST)
    assert refusal.matches is counts and refusal.error is not None


def test_golden_refused_test_fails_on_a_wrong_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import test_golden

    case = test_golden.REFUSING[0]
    real = test_golden.built(case, "sql:duckdb", tmp_path_factory)
    assert real.query is not None
    test_golden.test_golden_refused_rows_are_refused(case, "sql:duckdb", tmp_path_factory)
    broken = BuiltScorer(real.model, real.target, real.workdir, query=real.query.replace("SELECT", "SELEKT", 1))
    monkeypatch.setattr(test_golden, "built", lambda *_: broken)
    with pytest.raises(AssertionError, match="refused for another reason"):
        test_golden.test_golden_refused_rows_are_refused(case, "sql:duckdb", tmp_path_factory)


# --- verify's report -------------------------------------------------------------------------


def verify_rows() -> tuple[list[dict[str, Any] | None], str, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = [GOOD, ONLY_SECOND, BOTH]
    reference: list[dict[str, Any] | None] = [{"sum": 3.0}, None, None]
    return reference, csv_of(*rows), rows


@pytest.mark.parametrize("target", ["python", "sql:duckdb"])
def test_verify_accepts_the_models_reason(target: str) -> None:
    reference, text, rows = verify_rows()
    (report,) = verify(two_check_model(), reference, text, rows, (target,))
    assert report.ok and report.refused == 2, report.error


@pytest.mark.parametrize("target", ["python", "sql:duckdb"])
def test_verify_reports_another_reason(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    # as if the scorers checked in another order than the model: the reason differs for row 3
    swapped = {FIRST: SECOND, SECOND: FIRST}
    real = expected_refusal

    def other_reason(model: Model, row: dict[str, Any]) -> str | None:
        message = real(model, row)
        return swapped[message] if message is not None and row is BOTH else message

    monkeypatch.setattr("modelgen.verify.expected_refusal", other_reason)
    reference, text, rows = verify_rows()
    (report,) = verify(two_check_model(), reference, text, rows, (target,))
    assert report.error is not None and report.error.startswith("row 3: refused for another reason: ")
    assert FIRST in report.error


def test_verify_reports_a_refused_row_no_check_explains() -> None:
    reference, text, rows = verify_rows()
    reference[0] = None  # the reference refuses a row every check accepts
    (report,) = verify(two_check_model(), reference, text, rows, ("python",))
    assert report.error == "row 1: scikit-learn refuses it but no row check of the model fails on it"
