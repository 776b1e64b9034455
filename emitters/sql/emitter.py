"""The ``sql`` target: one plain SELECT per model, built as a sqlglot tree."""

from __future__ import annotations

from typing import ClassVar

from emitters.base import EmitOptions, EmittedProgram
from emitters.sql.dialects import get_dialect
from emitters.sql.query import build_query, prepare
from modelgen.ir import Model


class SqlEmitter:
    """``compile -t sql --dialect D``: ``NAME.sql`` reading ``options.table``, returning the
    ``options.keys`` columns then every output column, one row per input row.

    >>> from tests.ir_samples import categorical_model  # doctest: +SKIP
    >>> SqlEmitter().emit(categorical_model(), EmitOptions(dialect="sqlite")).manifest["query"]  # doctest: +SKIP
    'scorer.sql'
    """

    target: ClassVar[str] = "sql"

    def emit(self, model: Model, options: EmitOptions) -> EmittedProgram:
        """Generate ``NAME.sql`` for ``options.dialect`` (default DuckDB); ``options.runner`` adds nothing."""
        dialect = get_dialect(options.dialect)
        query = build_query(prepare(model), dialect, options.table, tuple(options.keys))
        # copy=False: the query is ours and used once; copying a 100 MB tree costs seconds
        text = query.sql(dialect=dialect.sqlglot_name, pretty=True, copy=False) + ";\n"
        file_name = f"{options.name}.sql"
        manifest = {
            "target": self.target,
            "name": options.name,
            "dialect": dialect.name,
            "files": [file_name],
            "query": file_name,
        }
        return EmittedProgram(files=((file_name, text),), manifest=manifest)
