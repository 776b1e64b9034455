"""The ``modelgen`` command line (contract section 2).

Exit status: 0 success; 1 the model or an input is invalid or unsupported (one paragraph on
stderr, no traceback unless ``--debug``); 2 usage error (click's own).
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from emitters.base import EmitOptions
from modelgen.errors import ModelgenError

F = TypeVar("F", bound=Callable[..., Any])

PICKLE_WARNING = "Loading a .pkl/.pickle/.joblib file runs code from that file: only compile models you trust."
TARGETS = ("python", "c", "java", "sql")


def _fail(error: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    message = str(error) or type(error).__name__
    if not isinstance(error, ModelgenError):
        message = f"{type(error).__name__}: {message}"
    click.echo(f"modelgen: error: {message}", err=True)
    sys.exit(1)


def handles_errors(command: F) -> F:
    """Turn modelgen's errors (and unexpected ones) into exit status 1 and a one-paragraph message."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug"))
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except (ModelgenError, OSError) as error:
            _fail(error, debug)
        except Exception as error:
            _fail(error, debug)

    return wrapper  # type: ignore[return-value]


debug_option = click.option("--debug", is_flag=True, help="Show the full traceback on errors.")


def lower_and_warn(model: Path) -> Any:
    """Lower ``model``, printing the frontend's warning (e.g. a pickle from another scikit-learn) on stderr."""
    from modelgen.compiler import lower

    lowered = lower(model)
    warning = lowered.metadata.get("warning")
    if warning:
        click.echo(f"modelgen: warning: {warning}", err=True)
    return lowered


@click.group(help=f"Compile trained models into standalone scorers.\n\n{PICKLE_WARNING}")
@click.version_option(package_name="modelgen")
def main() -> None:
    """Entry point of the ``modelgen`` command."""


@main.command("compile", help=f"Write the scorer source for MODEL and a manifest.json into OUTDIR.\n\n{PICKLE_WARNING}")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-t", "--target", type=click.Choice(TARGETS), required=True, help="Language of the scorer.")
@click.option("--dialect", default=None, help="SQL dialect (sql target; default duckdb).")
@click.option(
    "-o",
    "--outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Directory for the generated files.",
)
@click.option("--name", default="scorer", show_default=True, help="Base name of the generated files/types.")
@click.option("--runner", is_flag=True, help="Also write a CSV stdin->stdout runner program.")
@click.option("--table", default="input", show_default=True, help="Input table of the SQL query.")
@click.option("--key", "keys", multiple=True, help="Column passed through to the output (repeatable).")
@click.option("--package", default=None, help="Java package of the generated class.")
@click.option(
    "--view",
    default=None,
    metavar="NAME",
    help="SQL: write CREATE VIEW NAME AS <query> (NAME is one identifier, quoted as given).",
)
@click.option(
    "--into",
    default=None,
    metavar="NAME",
    help="SQL: write CREATE TABLE NAME AS <query>. To append to an existing table, compile the plain "
    "query and run INSERT INTO NAME SELECT * FROM (<query>) AS scored.",
)
@click.option(
    "--c-tree-mode",
    type=click.Choice(["auto", "walk", "ifelse", "table"]),
    default=None,
    help="How the C target routes trees: branchless node-array walks, if/else code or a node table "
    "(default auto: walk where every tree reads the inputs directly, else by size).",
)
@debug_option
@handles_errors
def compile_command(
    model: Path,
    target: str,
    dialect: str | None,
    outdir: Path,
    name: str,
    runner: bool,
    table: str,
    keys: tuple[str, ...],
    package: str | None,
    view: str | None,
    into: str | None,
    c_tree_mode: str | None,
    debug: bool,
) -> None:
    from modelgen.compiler import emit, write_program

    if dialect is not None and target != "sql":
        raise click.UsageError("--dialect only applies to -t sql")
    for flag, value in (("--view", view), ("--into", into)):
        if value is not None and target != "sql":
            raise click.UsageError(f"{flag} only applies to -t sql")
    if view is not None and into is not None:
        raise click.UsageError("--view and --into are mutually exclusive")
    if c_tree_mode is not None and target != "c":
        raise click.UsageError("--c-tree-mode only applies to -t c")
    extra = (("c_tree_mode", c_tree_mode),) if c_tree_mode is not None else ()
    options = EmitOptions(
        name=name,
        runner=runner,
        dialect=dialect,
        table=table,
        keys=keys,
        package=package,
        view=view,
        into=into,
        extra=extra,
    )
    written = write_program(emit(lower_and_warn(model), target, options), outdir)
    for path in written:
        click.echo(str(path))


@main.command("inspect", help=f"Print MODEL's schema: its inputs and outputs.\n\n{PICKLE_WARNING}")
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the contract's schema JSON.")
@click.option("--ir", "with_ir", is_flag=True, help="Also print the lowered IR (JSON).")
@debug_option
@handles_errors
def inspect_command(model: Path, as_json: bool, with_ir: bool, debug: bool) -> None:
    from modelgen.ir import model_to_json
    from modelgen.schema import schema_of

    lowered = lower_and_warn(model)
    schema = schema_of(lowered)
    if with_ir:
        schema = {**schema, "ir": model_to_json(lowered)}
    if as_json or with_ir:
        click.echo(json.dumps(schema, indent=2))
        return
    click.echo("inputs:")
    for field in schema["inputs"]:
        click.echo(f"  {field['name']}: {field['type']}")
    click.echo("outputs:")
    for field in schema["outputs"]:
        suffix = f" (class {field['class']})" if "class" in field else ""
        click.echo(f"  {field['name']}: {field['kind']}{suffix}")


@main.command(
    "verify",
    help=(
        "Compile MODEL for every target, build and run each on the CSV data, and compare every output "
        "with the reference (the model's own library) by ULP distance. Exit 1 on any difference beyond "
        f"the declared budget.\n\n{PICKLE_WARNING}"
    ),
)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="CSV with a header row of input names.",
)
@click.option(
    "-t",
    "--target",
    "targets",
    multiple=True,
    help="Target to verify (python, c, java, sql, sql:DIALECT); default: all, SQL on DuckDB.",
)
@debug_option
@handles_errors
def verify_command(model: Path, data: Path, targets: tuple[str, ...], debug: bool) -> None:
    from modelgen.frontends import load_reference
    from modelgen.verify import DEFAULT_TARGETS, format_reports, read_rows, verify

    for target in targets:
        if target.partition(":")[0] not in TARGETS:
            raise click.BadParameter(f"unknown target {target!r}", param_hint="-t/--target")
    chosen = tuple("sql:duckdb" if t == "sql" else t for t in targets) or DEFAULT_TARGETS
    lowered = lower_and_warn(model)
    csv_text = data.read_text(encoding="utf-8")
    rows = read_rows(csv_text, lowered)
    reference = load_reference(model)(lowered, rows)
    reports = verify(lowered, reference, csv_text, rows, chosen)
    click.echo(format_reports(reports))
    if not all(report.ok for report in reports):
        sys.exit(1)


@main.command(
    "score",
    help=(
        "Score DATA (a .csv or .parquet file) through MODEL's generated SQL in embedded DuckDB and write "
        "the --key columns and every output, one row per input row in input order, to OUT (.csv or "
        ".parquet; default CSV on stdout). CSV input follows the runner protocol: a header of input "
        "names in any order, an empty field is missing, numbers are parsed strictly (a non-numeric "
        "value is an error naming its row and column). Exit 1 on bad data or a row the model rejects."
        f"\n\n{PICKLE_WARNING}"
    ),
)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file, .csv or .parquet (default: CSV on stdout).",
)
@click.option("--key", "keys", multiple=True, help="Input column copied to the output (repeatable).")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar on stderr (default: only when stderr is a terminal)."
)
@click.option(
    "--chunk-rows", type=click.IntRange(min=1), default=None, help="Rows scored per query run (default 100,000)."
)
@debug_option
@handles_errors
def score_command(
    model: Path,
    data: Path,
    out: Path | None,
    keys: tuple[str, ...],
    progress: bool | None,
    chunk_rows: int | None,
    debug: bool,
) -> None:
    from modelgen.score import DEFAULT_CHUNK_ROWS, file_format, score_file

    for path, role, hint in ((data, "DATA", "data"), (out, "OUT", "-o/--out")):
        if path is not None:
            try:
                file_format(path, role)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint=hint) from None
    show = progress if progress is not None else sys.stderr.isatty()
    score_file(lower_and_warn(model), data, out, keys, chunk_rows or DEFAULT_CHUNK_ROWS, show)


if __name__ == "__main__":  # pragma: no cover
    main()
