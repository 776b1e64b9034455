"""The SQL target: sqlglot-built SELECT queries for DuckDB and SQLite (see README.md)."""

from emitters.sql.dialects import DIALECTS, SqlDialect, get_dialect
from emitters.sql.emitter import SqlEmitter

__all__ = ["DIALECTS", "SqlDialect", "SqlEmitter", "get_dialect"]
