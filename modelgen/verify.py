"""``modelgen verify``: build every target for real, run it on data, compare with the reference by ULP."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emitters.base import EmitOptions
from modelgen.budget import declared_budget
from modelgen.compiler import emit, write_program
from modelgen.errors import InputRowError, ModelgenError, VerificationError
from modelgen.ir import STRING, Model
from modelgen.numerics import NOT_COMPARABLE, parse_double, ulp_distance

DEFAULT_TARGETS = ("python", "c", "java", "sql:duckdb")
"""What ``verify`` runs without ``-t``: every target, DuckDB as the database."""

NUMBER_GRAMMAR = re.compile(r"[+-]?(?:(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE)
"""The runner protocol's number grammar (docs/emitters.md); every runner implements the same one,
and ``verify`` and ``score`` check their input against it."""

Row = dict[str, Any]


def parse_number(text: str, row_number: int, column: str) -> float | None:
    """A CSV field of a numeric column, per the runner protocol: empty or nan = missing."""
    if text == "":
        return None
    if not NUMBER_GRAMMAR.fullmatch(text):
        raise InputRowError(f"row {row_number}: column {column!r}: {text!r} is not a number")
    value = float(text)
    return None if math.isnan(value) else value


def read_rows(csv_text: str, model: Model) -> list[Row]:
    """Rows of a data CSV typed by the model's inputs; a missing input column is an error."""
    reader = csv.reader(io.StringIO(csv_text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputRowError("the data file is empty (no header row)") from None
    positions = {name: i for i, name in enumerate(header)}
    missing = [f.name for f in model.inputs if f.name not in positions]
    if missing:
        raise InputRowError(f"the data has no column for input(s) {', '.join(repr(m) for m in missing)}")
    rows = []
    for row_number, fields in enumerate(reader, start=1):
        if len(fields) != len(header):
            raise InputRowError(f"row {row_number}: {len(fields)} fields, the header has {len(header)}")
        row: Row = {}
        for input_field in model.inputs:
            text = fields[positions[input_field.name]]
            if input_field.dtype is STRING:
                row[input_field.name] = None if text == "" else text
            else:
                row[input_field.name] = parse_number(text, row_number, input_field.name)
        rows.append(row)
    return rows


@dataclass
class OutputComparison:
    """How one output column of one target compares with the reference."""

    name: str
    is_label: bool
    budget: int
    mismatches: int = 0
    max_ulp: int = 0
    identical: int = 0
    first_bad_row: int | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 if self.is_label else self.max_ulp <= self.budget


@dataclass
class TargetReport:
    """``verify``'s verdict for one target."""

    target: str
    rows: int = 0
    outputs: list[OutputComparison] = field(default_factory=list)
    error: str | None = None
    refused: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and all(o.ok for o in self.outputs)

    @property
    def label_mismatches(self) -> int:
        return sum(o.mismatches for o in self.outputs if o.is_label)

    @property
    def max_ulp(self) -> int:
        return max((o.max_ulp for o in self.outputs if not o.is_label), default=0)

    @property
    def identical_share(self) -> float:
        cells = (self.rows - self.refused) * len(self.outputs)
        return 1.0 if cells == 0 else sum(o.identical for o in self.outputs) / cells


def compare_outputs(
    model: Model,
    target: str,
    reference: Sequence[Mapping[str, Any]],
    actual: Sequence[Mapping[str, Any]],
    budgets: Mapping[str, int] | None = None,
) -> TargetReport:
    """Compare a target's output rows with the reference rows, column by column.

    ``budgets`` (output name -> ULP) defaults to the budget modelgen declares for the target.
    """
    report = TargetReport(target=target, rows=len(reference))
    if len(actual) != len(reference):
        report.error = f"{len(actual)} output rows for {len(reference)} input rows"
        return report
    if budgets is None:
        budgets = declared_budget(model, target)
    for output in model.outputs:
        comparison = OutputComparison(output.name, output.kind == "label", budgets.get(output.name, 0))
        for row_number, (want_row, got_row) in enumerate(zip(reference, actual), start=1):
            want, got = want_row[output.name], got_row.get(output.name)
            if comparison.is_label:
                same = want == got
                distance = 0 if same else NOT_COMPARABLE
            else:
                got_value = math.nan if got is None else float(got)
                distance = ulp_distance(float(want), got_value)
                same = distance == 0
            if same:
                comparison.identical += 1
            else:
                comparison.mismatches += 1
                if comparison.first_bad_row is None:
                    comparison.first_bad_row = row_number
            comparison.max_ulp = max(comparison.max_ulp, distance)
        report.outputs.append(comparison)
    return report


def _run(argv: Sequence[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(argv), cwd=cwd, input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=900
        )
    except FileNotFoundError as error:
        raise VerificationError(f"cannot run {argv[0]!r}: {error.strerror} (is the toolchain installed?)") from None


def _typed_output_rows(model: Model, csv_text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(csv_text, newline=""))
    header = next(reader, [])
    expected = [o.name for o in model.outputs]
    if header != expected:
        raise VerificationError(f"runner printed header {header!r}, expected {expected!r}")
    kinds = {o.name: o.kind for o in model.outputs}
    rows = []
    for fields in reader:
        rows.append(
            {name: text if kinds[name] == "label" else parse_double(text) for name, text in zip(header, fields)}
        )
    return rows


class ScorerExitError(VerificationError):
    """A runner exited with a failing status; its status and stderr are kept to tell why."""

    def __init__(self, target: str, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"the {target} scorer exited {returncode}: {stderr.strip()}")


@dataclass
class BuiltScorer:
    """A target compiled and built once, scoring any number of data sets."""

    model: Model
    target: str
    workdir: Path
    run: list[str] | None = None
    query: str | None = None

    def score(self, csv_text: str, rows: list[Row]) -> list[Row]:
        """Output rows for the data (``csv_text`` for runners, ``rows`` for SQL engines); raises on refusal."""
        if self.query is not None:
            from modelgen.engines import run_query

            inputs = [(f.name, f.dtype) for f in self.model.inputs]
            return run_query(self.target.partition(":")[2] or "duckdb", self.query, "input", inputs, rows)
        result = _run(self.run or [], self.workdir, stdin=csv_text)
        if result.returncode != 0:
            raise ScorerExitError(self.target, result.returncode, result.stderr)
        return _typed_output_rows(self.model, result.stdout)


def build_target(model: Model, target: str, workdir: Path) -> BuiltScorer:
    """Compile ``model`` for ``target`` (``sql:DIALECT`` for SQL) into ``workdir`` and build it."""
    name = "scorer"
    if target.startswith("sql"):
        from modelgen.engines import ROW_KEY

        # the hidden row-number key brings the rows back in input order whatever the plan
        dialect = target.partition(":")[2] or "duckdb"
        program = emit(model, "sql", EmitOptions(name=name, dialect=dialect, keys=(ROW_KEY,)))
        write_program(program, workdir)
        query = (workdir / program.manifest["query"]).read_text(encoding="utf-8")
        return BuiltScorer(model, target, workdir, query=query)
    program = emit(model, target, EmitOptions(name=name, runner=True))
    write_program(program, workdir)
    for argv in program.manifest.get("build", []):
        result = _run(argv, workdir)
        if result.returncode != 0:
            raise VerificationError(f"build step {' '.join(argv)} failed:\n{result.stderr.strip()}")
    return BuiltScorer(model, target, workdir, run=list(program.manifest["run"]))


def run_target(model: Model, target: str, csv_text: str, rows: list[Row], workdir: Path) -> list[Row]:
    """Compile, build and run ``model`` for ``target`` on one data set; return the output rows."""
    return build_target(model, target, workdir).score(csv_text, rows)


def csv_subset(csv_text: str, keep: Sequence[int]) -> str:
    """The data CSV with only the given data rows (0-based), each field's text unchanged."""
    records = list(csv.reader(io.StringIO(csv_text, newline="")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(records[0])
    writer.writerows(records[1 + i] for i in keep)
    return out.getvalue()


RUNNER_REFUSAL_STATUS = 1
"""The exit status of a runner refusing a row (docs/emitters.md: ``row N: ...`` on stderr)."""

_ENGINE_REFUSALS: dict[str, tuple[str, Callable[[str], str], str]] = {
    # error("...") raises InvalidInputException
    "duckdb": ("Invalid Input Error: ", str, ""),
    # json_extract('{}', '<message>'): the invalid path is quoted by sqlite3_mprintf's %q
    "sqlite": ("JSON path error near '", lambda text: text.replace("'", "''"), "'"),
    # CAST('<message>' AS DOUBLE PRECISION) fails on the text
    "postgres": ('invalid input syntax for type double precision: "', str, '"'),
    # raise_error('<message>'): Spark 4's error class and SQLSTATE around the text
    "spark": ("[USER_RAISED_EXCEPTION] ", str, " SQLSTATE: P0001"),
}
"""Per engine: what its error text puts before, around and after ``REJECT_PREFIX + message``
when a query raises through ``dialect.reject(message)`` (emitters/sql/dialects.py)."""


def engine_refusal_text(dialect: str, message: str) -> str:
    """The line (or line end) an engine's error carries when the row check ``message`` refuses a row.

    >>> engine_refusal_text("sqlite", "feature 'a' is infinite")
    "JSON path error near 'modelgen row rejected: feature ''a'' is infinite'"
    """
    from emitters.sql.dialects import REJECT_PREFIX

    if dialect not in _ENGINE_REFUSALS:
        known = ", ".join(_ENGINE_REFUSALS)
        raise VerificationError(f"no known refusal text for SQL engine {dialect!r}; known: {known}")
    head, escape, tail = _ENGINE_REFUSALS[dialect]
    return head + escape(REJECT_PREFIX + message) + tail


def refused_for(target: str, error: BaseException, message: str, rows: int = 1) -> bool:
    """Whether ``error`` is ``target`` refusing one of ``rows`` data rows by the row check ``message``.

    What each target prints when a row check fails, and what is required here (the whole
    message, which every target carries verbatim; a longer or shorter message does not match):

    - runners (python, c, java): exit status 1 and the last non-empty line of stderr is exactly
      ``row K: <message>`` with ``1 <= K <= rows``; a crash, an out-of-memory error, a traceback
      or a protocol error (``row K: column ...: is not a number``) does not match.
    - SQL engines: a line of the error text ends with the engine's wording around
      ``modelgen row rejected: <message>`` (:func:`engine_refusal_text`): DuckDB
      ``Invalid Input Error: ...``; SQLite ``JSON path error near '...'`` with ``'`` doubled;
      PostgreSQL ``invalid input syntax for type double precision: "..."``; Spark
      ``[USER_RAISED_EXCEPTION] ... SQLSTATE: P0001`` (also inside a Py4J trace). A syntax error
      in the query, an engine failure or another check's message does not match.
    """
    if not target.startswith("sql"):
        if not isinstance(error, ScorerExitError) or error.returncode != RUNNER_REFUSAL_STATUS:
            return False
        lines = [line for line in error.stderr.splitlines() if line.strip()]
        found = re.fullmatch(r"row ([1-9][0-9]*): (.*)", lines[-1]) if lines else None
        return found is not None and int(found.group(1)) <= rows and found.group(2) == message
    expected = engine_refusal_text(target.partition(":")[2] or "duckdb", message)
    return any(line.endswith(expected) for line in str(error).splitlines())


def expected_refusal(model: Model, row: Row) -> str | None:
    """The message of the first row check ``row`` fails, in check order (what the IR evaluator
    raises), or None when every check passes. Any other error of the evaluator propagates."""
    from modelgen.ir.evaluate import evaluate

    try:
        evaluate(model, row)
    except InputRowError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class Refusal:
    """How a scorer answered data the reference refuses with the row check message ``expected``."""

    expected: str
    error: str | None
    """What the scorer raised (its stderr for a runner); None when it scored the data."""
    matches: bool
    """The error is the scorer refusing the data by the check ``expected`` (:func:`refused_for`)."""

    @property
    def problem(self) -> str | None:
        """None when refused for the model's reason, else what went wrong, in one line."""
        if self.matches:
            return None
        if self.error is None:
            return "scikit-learn refuses it but the scorer scored it"
        first = next((line.strip() for line in self.error.splitlines() if line.strip()), "")
        return f"refused for another reason: {first}"


def _refusal(target: str, error: BaseException | None, message: str, rows: int) -> Refusal:
    if error is None:
        return Refusal(message, None, False)
    text = str(error) if isinstance(error, ModelgenError) else f"{type(error).__name__}: {error}"
    return Refusal(message, text, refused_for(target, error, message, rows))


def rejects(scorer: BuiltScorer, csv_text: str, rows: list[Row], message: str) -> Refusal:
    """Run the scorer on the data and tell whether it refuses it by the row check ``message``.

    Any exception counts as refusing only if :func:`refused_for` recognises ``message`` in it.
    """
    try:
        scorer.score(csv_text, rows)
    except Exception as error:  # judged by its text below, never counted as a refusal blindly
        return _refusal(scorer.target, error, message, len(rows))
    return Refusal(message, None, False)


def rejects_each(scorer: BuiltScorer, csv_text: str, rows: list[Row], messages: Sequence[str]) -> list[Refusal]:
    """Per data row, scored alone: :func:`rejects` with that row's expected check message.

    On Spark, where planning a large query takes seconds, the query is planned once and run
    once per row (``spark_engine.run_each``); elsewhere each row is one run of the scorer.
    """
    if len(messages) != len(rows):
        raise VerificationError(f"{len(messages)} expected messages for {len(rows)} rows")
    if scorer.target == "sql:spark" and scorer.query is not None:
        from modelgen.engines import ROW_KEY, spark_engine

        columns = [(ROW_KEY, "BIGINT")] + [
            (f.name, "STRING" if f.dtype is STRING else "DOUBLE") for f in scorer.model.inputs
        ]
        row_sets = [[[0, *(row.get(f.name) for f in scorer.model.inputs)]] for row in rows]
        results = spark_engine.run_each(scorer.query, "input", columns, row_sets)
        return [
            _refusal(scorer.target, r if isinstance(r, Exception) else None, m, 1) for r, m in zip(results, messages)
        ]
    return [rejects(scorer, csv_subset(csv_text, [i]), [row], m) for i, (row, m) in enumerate(zip(rows, messages))]


MAX_REFUSED_ROWS_CHECKED = 10
"""Rows the reference refuses are re-run one at a time per target (each needs its own run)."""


def verify(
    model: Model,
    reference_rows: Sequence[Mapping[str, Any] | None],
    csv_text: str,
    rows: list[Row],
    targets: Sequence[str] = DEFAULT_TARGETS,
) -> list[TargetReport]:
    """Run every target on the rows and compare each with the reference rows.

    A row the reference refuses (``None``) must be refused by the scorer too, for the model's
    reason: the first ``MAX_REFUSED_ROWS_CHECKED`` of them are run alone and each must fail with
    the message of the first row check it fails (:func:`expected_refusal`, :func:`refused_for`);
    the other rows are scored together and compared.
    """
    accepted = [i for i, r in enumerate(reference_rows) if r is not None]
    refused = [i for i, r in enumerate(reference_rows) if r is None]
    scored_csv = csv_text if not refused else csv_subset(csv_text, accepted)
    scored_rows = [rows[i] for i in accepted]
    expected = [reference_rows[i] for i in accepted]
    checked = refused[:MAX_REFUSED_ROWS_CHECKED]
    # the reason each row is refused: the message of the model's first failing check
    reasons = [expected_refusal(model, rows[i]) for i in checked]
    unexplained = [i for i, reason in zip(checked, reasons) if reason is None]
    messages = [reason or "" for reason in reasons]
    reports = []
    with tempfile.TemporaryDirectory(prefix="modelgen-verify-") as tmp:
        for target in targets:
            workdir = Path(tmp) / target.replace(":", "-")
            workdir.mkdir()
            try:
                scorer = build_target(model, target, workdir)
                actual = scorer.score(scored_csv, scored_rows)
            except Exception as error:
                reports.append(TargetReport(target=target, rows=len(rows), error=f"{type(error).__name__}: {error}"))
                continue
            report = compare_outputs(model, target, expected, actual)  # type: ignore[arg-type]
            report.rows = len(rows)
            report.refused = len(refused)
            if unexplained:
                report.error = (
                    f"row {unexplained[0] + 1}: scikit-learn refuses it but no row check of the model fails on it"
                )
            elif checked:
                refusals = rejects_each(scorer, csv_subset(csv_text, checked), [rows[i] for i in checked], messages)
                report.error = next(
                    (f"row {i + 1}: {r.problem}" for i, r in zip(checked, refusals) if r.problem is not None), None
                )
            reports.append(report)
    return reports


def format_reports(reports: Sequence[TargetReport]) -> str:
    """The table ``verify`` prints: one line per target, then details of anything that failed."""
    header = f"{'target':<12} {'rows':>7} {'refused':>8} {'label mismatches':>17} {'max ULP':>8} {'bit-identical':>14}"
    lines = [f"{header}  verdict"]
    details = []
    for report in reports:
        if report.error is not None:
            lines.append(f"{report.target:<12} {report.rows:>7} {'-':>8} {'-':>17} {'-':>8} {'-':>14}  FAILED")
            details.append(f"{report.target}: {report.error}")
            continue
        max_ulp = "n/a" if report.max_ulp >= NOT_COMPARABLE else str(report.max_ulp)
        verdict = "ok" if report.ok else "FAILED"
        lines.append(
            f"{report.target:<12} {report.rows:>7} {report.refused:>8} {report.label_mismatches:>17} {max_ulp:>8} "
            f"{report.identical_share:>13.1%}  {verdict}"
        )
        for output in report.outputs:
            if not output.ok:
                what = "labels differ" if output.is_label else f"max {output.max_ulp} ULP > budget {output.budget}"
                details.append(f"{report.target}: output {output.name!r}: {what} (first at row {output.first_bad_row})")
    return "\n".join(lines + (["", *details] if details else []))
