"""DuckDB's CASE trees write a missing guard as one comparison of the negated feature.

``isnan(x) OR x <= t`` is ``-x >= -t`` on DuckDB (NaN sorts above every number, -NaN is NaN),
and ``NOT isnan(x) AND x > t`` is ``-x < -t``: the rows here sit on the thresholds, next to
them, at +-0, +-inf and NaN, and every output is compared bit for bit with the IR interpreter,
with the negated form and with the ``isnan`` guards it replaces.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_sql import compile_query, ensemble, mismatches, random_rows

from emitters.sql.dialects import DuckDBDialect


@pytest.mark.parametrize("negated", [True, False])
def test_duckdb_case_guards_negated_or_isnan_score_bit_for_bit(negated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DuckDBDialect, "table_trees", False)
    monkeypatch.setattr(DuckDBDialect, "negated_nan_guards", negated)
    model = ensemble(12, 5, 4, seed=7, split_probability=0.9, boosting=True)
    query = compile_query(model, "duckdb")
    # the trees' guards are the form under test: random missing sides make about half of them guarded
    guards = query.count("ISNAN(")
    negations = query.count(' -"')
    if negated:
        assert negations > 20 and guards == 0, (negations, guards)
    else:
        assert negations == 0 and guards > 20, (negations, guards)
    rows = random_rows(random.Random(11), 4, 400)
    assert mismatches(model, "duckdb", rows) == []


def test_negated_guard_keeps_its_nan_answer() -> None:
    # le/lt guards must be TRUE for NaN (-NaN >= c), gt/ge guards FALSE (-NaN < c): a table
    # entry with the wrong answer would silently send missing values the wrong way
    from emitters.sql.trees import _NEGATED

    assert {test: answer for test, (_, answer) in _NEGATED.items()} == {
        "le": True, "lt": True, "gt": False, "ge": False
    }
