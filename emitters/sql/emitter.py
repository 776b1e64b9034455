"""The ``sql`` target: one plain SELECT per model, built as a sqlglot tree."""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp

from emitters.base import EmitOptions, EmittedProgram
from emitters.sql import literals
from emitters.sql.dialects import get_dialect
from emitters.sql.query import build_query, prepare
from modelgen.errors import ModelgenError
from modelgen.ir import Model


def wrap_statement(query: exp.Expression, options: EmitOptions) -> exp.Expression:
    """The query itself, or ``CREATE VIEW``/``CREATE TABLE … AS`` it for ``options.view``/``options.into``.

    The name is one identifier, always quoted (so spaces, quotes and reserved words are kept
    verbatim, and the dialect's generator escapes the quote character).

    >>> wrap_statement(exp.select("1 AS a"), EmitOptions(view="v")).sql()
    'CREATE VIEW "v" AS SELECT 1 AS a'
    """
    if options.view is not None and options.into is not None:
        raise ModelgenError("--view and --into are mutually exclusive: choose one statement")
    name, kind = (options.view, "VIEW") if options.view is not None else (options.into, "TABLE")
    if name is None:
        return query
    if name == "":
        raise ModelgenError(f"the {kind.lower()} name must not be empty")
    return exp.Create(this=exp.Table(this=literals.identifier(name)), kind=kind, expression=query)


class SqlEmitter:
    """``compile -t sql --dialect D``: ``NAME.sql`` reading ``options.table``, returning the
    ``options.keys`` columns then every output column, one row per input row (wrapped in
    ``CREATE VIEW``/``CREATE TABLE … AS`` with ``options.view``/``options.into``).

    >>> from tests.ir_samples import categorical_model  # doctest: +SKIP
    >>> SqlEmitter().emit(categorical_model(), EmitOptions(dialect="sqlite")).manifest["query"]  # doctest: +SKIP
    'scorer.sql'
    """

    target: ClassVar[str] = "sql"

    def emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        """Generate ``NAME.sql`` for ``options.dialect`` (default DuckDB); ``options.runner`` adds nothing."""
        dialect = get_dialect(options.dialect)
        query = build_query(prepare(model), dialect, options.table, tuple(options.keys))
        statement = wrap_statement(query, options)
        # copy=False: the query is ours and used once; copying a 100 MB tree costs seconds
        text = statement.sql(dialect=dialect.sqlglot_name, pretty=True, copy=False) + ";\n"
        file_name = f"{options.name}.sql"
        manifest = {
            "target": self.target,
            "name": options.name,
            "dialect": dialect.name,
            "files": [file_name],
            "query": file_name,
        }
        return EmittedProgram(files=((file_name, text),), manifest=manifest)
