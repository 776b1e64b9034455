"""Result column names (``emitters/sql/names.py``): whatever the class labels, every engine returns
the model's output names byte for byte, or compilation fails naming the output and the rule."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import pytest
import sqlglot
from helpers_sql import compile_query
from sklearn.linear_model import LogisticRegression

from emitters.sql.dialects import DIALECTS
from emitters.sql.generation_dialects import GENERATION_DIALECTS
from modelgen.compiler import lower
from modelgen.engines import ROW_KEY, pg_cluster, run_query
from modelgen.errors import ModelgenError
from modelgen.ir import DOUBLE, Binary, Const, Input, InputField, Model, OutputField

ADVERSARIAL = ['a"b', "c`d", "e]f[", "g'h", "i j", "é ü", "naïve_日本", "semi;--", "back\\slash", "tab\there"]
RUN = ("duckdb", "sqlite", "postgres")


def _model(names: list[str]) -> Model:
    x = Input("x", DOUBLE)
    outputs = tuple(OutputField(n, "value", Binary("add", x, Const(float(i)))) for i, n in enumerate(names))
    return Model((InputField("x", DOUBLE),), outputs)


def _columns(model: Model, dialect: str) -> list[str]:
    rows = run_query(dialect, compile_query(model, dialect), "input", [("x", DOUBLE)], [{"x": 1.0}])
    return list(rows[0])


@pytest.mark.parametrize("dialect", RUN)
def test_adversarial_names_come_back_byte_for_byte(dialect: str, postgres_if: None) -> None:
    names = [*ADVERSARIAL, "probability_", "😀 emoji"]
    assert _columns(_model(names), dialect) == names


@pytest.fixture
def postgres_if(request: pytest.FixtureRequest) -> None:
    # the throwaway PostgreSQL cluster, started only for the PostgreSQL cases
    if request.node.callspec.params.get("dialect") == "postgres":
        pg_cluster.get_cluster()


def test_class_labels_become_output_names_that_run(tmp_path: Path) -> None:
    labels = np.array(['a"b', "c`d]", "e'f", "g h", "é", ""])
    x = np.arange(24, dtype=float).reshape(12, 2)
    model = LogisticRegression().fit(x, np.resize(labels, 12))
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    lowered = lower(path)
    names = [o.name for o in lowered.outputs]
    assert "probability_" in names and 'probability_a"b' in names
    inputs = [(f.name, f.dtype) for f in lowered.inputs]
    for dialect in ("duckdb", "sqlite"):
        rows = run_query(dialect, compile_query(lowered, dialect), "input", inputs, [{"x0": 1.0, "x1": 2.0}])
        assert list(rows[0]) == names


SENSITIVE = ("postgres", "snowflake", "oracle")


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres", *sorted(GENERATION_DIALECTS)])
def test_names_differing_only_in_case(dialect: str) -> None:
    model = _model(["probability_A", "probability_a"])
    if dialect in SENSITIVE:
        compile_query(model, dialect)
        return
    with pytest.raises(ModelgenError, match=f"'{dialect}'.*'probability_A'"):
        compile_query(model, dialect)


def test_case_sensitive_names_come_back_on_postgres() -> None:
    pg_cluster.get_cluster()
    names = ["probability_A", "probability_a", "É", "é"]
    assert _columns(_model(names), "postgres") == names


@pytest.mark.parametrize("dialect", ["tsql", "mysql", "bigquery"])
def test_non_ascii_case_also_collides_where_names_fold_any_letter(dialect: str) -> None:
    with pytest.raises(ModelgenError, match="same column"):
        compile_query(_model(["É", "é"]), dialect)


LIMITS = {
    "postgres": (63, "bytes"),
    "mysql": (64, "characters"),
    "tsql": (128, "characters"),
    "oracle": (128, "bytes"),
    "redshift": (127, "bytes"),
    "snowflake": (255, "characters"),
    "bigquery": (300, "characters"),
}


@pytest.mark.parametrize("dialect", sorted(LIMITS))
def test_names_longer_than_the_limit_are_refused(dialect: str) -> None:
    limit, unit = LIMITS[dialect]
    # two UTF-8 bytes a character: a byte limit is not a character limit
    at_limit = "é" * (limit // 2) + "a" * (limit % 2) if unit == "bytes" else "e" * limit
    compile_query(_model([at_limit]), dialect)
    with pytest.raises(ModelgenError, match=f"above the limit of {limit} {unit}"):
        compile_query(_model([at_limit + "x"]), dialect)


def test_postgres_truncates_silently_which_is_why_long_names_are_refused() -> None:
    pg_cluster.get_cluster()
    long = "p" * 70
    got = run_query("postgres", f'SELECT 1 AS "{long}"', "input", [("x", DOUBLE)], [{"x": 1.0}])
    assert list(got[0]) == [long[:63]]
    at_limit = ["é" * 31 + "a", "é" * 31 + "b"]  # 63 bytes each
    assert _columns(_model(at_limit), "postgres") == at_limit


@pytest.mark.parametrize(
    ("dialect", "name", "problem"),
    [
        ("mysql", "trailing ", "ends with a space"),
        ("mysql", "😀", "outside the Basic Multilingual Plane"),
        ("bigquery", "a.b", "contains '.'"),
        ("redshift", "Label", "upper-case"),
        ("trino", "Label", "upper-case"),
        ("duckdb", "nul\0", "NUL"),
    ],
)
def test_characters_an_engine_refuses(dialect: str, name: str, problem: str) -> None:
    with pytest.raises(ModelgenError, match=problem):
        compile_query(_model([name]), dialect)


def test_tsql_ignores_trailing_spaces_in_names() -> None:
    with pytest.raises(ModelgenError, match="trailing spaces"):
        compile_query(_model(["a", "a "]), "tsql")


def test_a_key_colliding_with_an_output_is_refused() -> None:
    with pytest.raises(ModelgenError, match="same column"):
        compile_query(_model(["Label"]), "duckdb", keys=(ROW_KEY, "label"))


@pytest.mark.parametrize("dialect", sorted(GENERATION_DIALECTS))
def test_adversarial_names_parse_back(dialect: str) -> None:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    rules = DIALECTS[dialect].identifier_rules
    names = [n for n in ADVERSARIAL if not any(c in rules.forbidden for c in n) and n == n.lower()]
    if rules.case == "lower":
        names = [n for n in names if n == n.lower()]
    parsed = sqlglot.parse_one(compile_query(_model(names), dialect, keys=()), read=dialect)
    assert [e.alias for e in parsed.expressions] == names
