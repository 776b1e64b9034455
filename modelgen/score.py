"""``modelgen score``: score a CSV or Parquet file through the generated SQL in embedded DuckDB.

The data is loaded into DuckDB as it is (CSV: every field as text, so nothing is guessed),
checked against the runner protocol (``docs/emitters.md``: every input column present, numbers
strictly parsed, an empty field is missing), then scored in chunks of rows in input order: each
chunk is a view over the row numbers ``[lo, hi)`` that the compiled query reads, so a row the
model rejects is found by narrowing the failing chunk down to its first row.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TextIO

from emitters.base import EmitOptions
from emitters.sql.dialects import REJECT_PREFIX
from modelgen.errors import InputRowError, ModelgenError
from modelgen.ir import STRING, Model
from modelgen.numerics import format_double
from modelgen.verify import NUMBER_GRAMMAR

ROW = "__mg_score_row"
"""Input-order row number (0-based) carried as the first key of the compiled query."""
RAW = "__mg_score_raw"
TYPED = "__mg_score_typed"
CHUNK = "__mg_score_chunk"
RESULT = "__mg_score_result"

DEFAULT_CHUNK_ROWS = 100_000
"""Rows scored per query run: the bar moves every chunk; a chunk re-plans the query, which
costs 0.15-2.4 s on 1-38 MB forests (emitters/sql/README.md) against ~1-80 s of scoring."""

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")

# Parquet column types read as doubles by an exact cast; other numeric types (integers,
# DECIMAL) go through their decimal text, which DuckDB parses correctly rounded
_EXACT_DOUBLE_TYPES = ("DOUBLE", "FLOAT")
_TEXT_TYPES = ("VARCHAR",)
_NUMERIC_TYPE_PREFIXES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "DECIMAL",
)


def file_format(path: Path, role: str) -> str:
    """``csv`` or ``parquet`` from the file name's extension; anything else is a ``ValueError``."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise ValueError(f"{role} {str(path)!r}: unknown extension {suffix or '(none)'!r}; use .csv, .parquet or .pq")


def quote(name: str) -> str:
    """A double-quoted DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def string_literal(text: str) -> str:
    """A single-quoted DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def format_cell(value: Any) -> str:
    """A result cell as CSV text: NULL empty, doubles per :func:`format_double`, the rest as text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format_double(value)
    return str(value)


def _connect() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ModelgenError("modelgen score needs the duckdb package: pip install duckdb") from None
    return duckdb.connect(":memory:")


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream), None)
    if not header:
        raise InputRowError(f"{path}: the data file is empty (no header row)")
    return header


def _load(connection: Any, data: Path) -> None:
    """Create table ``RAW`` with the file's columns in file order (CSV: all text, NULL = empty)."""
    if file_format(data, "DATA") == "parquet":
        source = f"read_parquet({string_literal(str(data))})"
    else:
        header = _csv_header(data)
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise InputRowError(f"{data}: the header names column(s) {duplicates!r} more than once")
        columns = ", ".join(f"{string_literal(name)}: 'VARCHAR'" for name in header)
        # every option set: DuckDB's sniffer must guess nothing (types, quoting, header)
        source = (
            f"read_csv({string_literal(str(data))}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', strict_mode = true, null_padding = false, columns = {{{columns}}})"
        )
    try:
        # a freshly created table's rowid is the insertion order, which is the file's order
        connection.execute(f"CREATE TABLE {RAW} AS SELECT * FROM {source}")
    except Exception as error:
        raise InputRowError(f"{data}: cannot read the data: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _column_types(connection: Any) -> dict[str, str]:
    return {row[0]: row[1] for row in connection.execute(f"DESCRIBE {RAW}").fetchall()}


def _check_numbers(connection: Any, columns: list[str], data: Path) -> None:
    """Raise for the first (row, then column) text field that is not a number per the protocol."""
    if not columns:
        return
    pattern = string_literal(NUMBER_GRAMMAR.pattern)
    firsts = ", ".join(
        f"min(CASE WHEN {quote(c)} IS NOT NULL AND NOT regexp_full_match({quote(c)}, {pattern}, 'i') THEN rowid END)"
        for c in columns
    )
    found = connection.execute(f"SELECT {firsts} FROM {RAW}").fetchone()
    bad = [(row, i) for i, row in enumerate(found) if row is not None]
    if not bad:
        return
    row, index = min(bad)
    column = columns[index]
    (text,) = connection.execute(f"SELECT {quote(column)} FROM {RAW} WHERE rowid = ?", [row]).fetchone()
    raise InputRowError(f"row {row + 1}: column {column!r}: {text!r} is not a number")


def _typed_view(connection: Any, model: Model, keys: tuple[str, ...], data: Path) -> None:
    """View ``TYPED``: the row number, every input as DOUBLE/VARCHAR (missing = NULL), the keys."""
    types = _column_types(connection)
    missing = [f.name for f in model.inputs if f.name not in types]
    if missing:
        raise InputRowError(f"{data}: the data has no column for input(s) {', '.join(repr(m) for m in missing)}")
    missing_keys = [k for k in keys if k not in types]
    if missing_keys:
        raise InputRowError(f"{data}: the data has no --key column(s) {', '.join(repr(k) for k in missing_keys)}")
    text_numbers = []
    selected = [f"rowid AS {quote(ROW)}"]
    for field in model.inputs:
        column, kind = quote(field.name), types[field.name]
        if field.dtype is STRING:
            if kind not in _TEXT_TYPES:
                raise InputRowError(f"{data}: input {field.name!r} is a string but the column is {kind}")
            # an empty field is a missing value (CSV reads "" as NULL already; Parquet may hold '')
            selected.append(f"NULLIF({column}, '') AS {column}")
        elif kind in _TEXT_TYPES:
            text_numbers.append(field.name)
            selected.append(f"CAST({column} AS DOUBLE) AS {column}")
        elif kind in _EXACT_DOUBLE_TYPES:
            selected.append(f"CAST({column} AS DOUBLE) AS {column}")
        elif kind.startswith(_NUMERIC_TYPE_PREFIXES):
            selected.append(f"CAST(CAST({column} AS VARCHAR) AS DOUBLE) AS {column}")
        else:
            raise InputRowError(f"{data}: input {field.name!r} is numeric but the column is {kind}")
    _check_numbers(connection, text_numbers, data)
    inputs = {f.name for f in model.inputs}
    selected += [quote(k) for k in keys if k not in inputs]
    connection.execute(f"CREATE VIEW {TYPED} AS SELECT {', '.join(selected)} FROM {RAW}")


def _rejection(error: BaseException) -> str | None:
    text = str(error)
    start = text.find(REJECT_PREFIX)
    if start < 0:
        return None
    return text[start + len(REJECT_PREFIX) :].strip().splitlines()[0]


class Scorer:
    """The compiled query over ``CHUNK``, run on row ranges of ``TYPED``."""

    def __init__(self, connection: Any, query: str) -> None:
        self.connection = connection
        self.query = query.strip().rstrip(";")

    def select(self, lo: int, hi: int) -> str:
        """Point ``CHUNK`` at rows ``[lo, hi)`` and return the ordered query over it."""
        self.connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {CHUNK} AS SELECT * FROM {TYPED} WHERE {quote(ROW)} >= {lo} "
            f"AND {quote(ROW)} < {hi}"
        )
        return f"SELECT * FROM ({self.query}) AS scored ORDER BY {quote(ROW)}"

    def run(self, lo: int, hi: int, action: Callable[[str], Any]) -> Any:
        """``action(select)`` on rows ``[lo, hi)``; a rejected row raises naming the first one."""
        try:
            return action(self.select(lo, hi))
        except Exception as error:
            message = _rejection(error)
            if message is None:
                raise
        row = self._first_rejected(lo, hi)
        raise InputRowError(f"row {row + 1}: {message}")

    def _rejects(self, lo: int, hi: int) -> bool:
        try:
            # every output fetched: DuckDB drops unused columns, and with them their error() calls
            self.connection.execute(self.select(lo, hi)).fetchall()
        except Exception as error:
            if _rejection(error) is None:
                raise
            return True
        return False

    def _first_rejected(self, lo: int, hi: int) -> int:
        # [lo, hi) rejects; halve it keeping the half with the first rejected row
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._rejects(lo, mid):
                hi = mid
            else:
                lo = mid
        return lo


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, total, size):
        yield lo, min(lo + size, total)


def score_file(
    model: Model,
    data: Path,
    out: Path | None,
    keys: tuple[str, ...] = (),
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = False,
    stdout: TextIO | None = None,
) -> int:
    """Score ``data`` (CSV/Parquet) into ``out`` (CSV/Parquet by extension; None: CSV on ``stdout``).

    Output columns: the ``keys`` then every model output, one row per input row in input order.
    Returns the number of rows scored; bad data or a rejected row raises ``InputRowError``.
    """
    from modelgen.compiler import emit

    if chunk_rows < 1:
        raise ValueError("the chunk size must be at least 1 row")
    out_format = "csv" if out is None else file_format(out, "OUT")
    if ROW in keys or any(f.name == ROW for f in model.inputs):
        raise InputRowError(f"the column name {ROW!r} is reserved by modelgen score")
    options = EmitOptions(dialect="duckdb", table=CHUNK, keys=(ROW, *keys))
    program = emit(model, "sql", options)
    query = dict(program.files)[program.manifest["query"]]
    connection = _connect()
    try:
        _load(connection, data)
        _typed_view(connection, model, keys, data)
        (total,) = connection.execute(f"SELECT count(*) FROM {RAW}").fetchone()
        scorer = Scorer(connection, query)
        names = [*keys, *(o.name for o in model.outputs)]
        projection = ", ".join(quote(n) for n in names)
        bar: Any = nullcontext(None)
        if progress:
            import click

            bar = click.progressbar(length=total, label="scoring", file=sys.stderr)
        with bar as meter:
            if out_format == "csv":
                _score_to_csv(scorer, total, chunk_rows, names, projection, out, stdout, meter)
            else:
                _score_to_parquet(scorer, total, chunk_rows, projection, out, meter)  # type: ignore[arg-type]
        return int(total)
    finally:
        connection.close()


def _score_to_csv(
    scorer: Scorer,
    total: int,
    chunk_rows: int,
    names: list[str],
    projection: str,
    out: Path | None,
    stdout: TextIO | None,
    meter: Any,
) -> None:
    stream: Any = nullcontext(stdout or sys.stdout) if out is None else out.open("w", encoding="utf-8", newline="")
    with stream as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(names)
        for lo, hi in _chunks(total, chunk_rows):
            rows = scorer.run(lo, hi, lambda q: scorer.connection.execute(f"SELECT {projection} FROM ({q})").fetchall())
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows([format_cell(v) for v in row] for row in rows)
            target.write(buffer.getvalue())
            if meter is not None:
                meter.update(hi - lo)


def _score_to_parquet(scorer: Scorer, total: int, chunk_rows: int, projection: str, out: Path, meter: Any) -> None:
    connection = scorer.connection
    first = True
    for lo, hi in _chunks(total, chunk_rows):
        if first:
            scorer.run(lo, hi, lambda q: connection.execute(f"CREATE TABLE {RESULT} AS {q}"))
            first = False
        else:
            scorer.run(lo, hi, lambda q: connection.execute(f"INSERT INTO {RESULT} {q}"))
        if meter is not None:
            meter.update(hi - lo)
    if first:  # no data rows: an empty result with the query's columns
        scorer.run(0, 0, lambda q: connection.execute(f"CREATE TABLE {RESULT} AS {q}"))
    connection.execute(
        f"COPY (SELECT {projection} FROM {RESULT} ORDER BY {quote(ROW)}) TO {string_literal(str(out))} (FORMAT parquet)"
    )
