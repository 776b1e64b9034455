"""The command line: exit codes, one-paragraph messages, schema, determinism, runner errors."""

from __future__ import annotations

import json
import math
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import joblib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC

from emitters.base import EmitOptions
from emitters.sql import SqlEmitter
from modelgen.cli import main
from modelgen.engines import ROW_KEY
from modelgen.engines.dbapi import quote_identifier
from modelgen.ir import DOUBLE, STRING, Model
from tests.ir_samples import ARITHMETIC_ROWS, CATEGORICAL_ROWS, arithmetic_model, categorical_model

TARGETS = ("python", "c", "java", "sql")


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 100), "owner": rng.choice(["yes", "no"], 100)})
    frame = frame.astype({"owner": object})
    y = np.where(frame["age"] > 40, "good", "bad")
    prep = ColumnTransformer(
        [("num", StandardScaler(), ["age"]), ("cat", OneHotEncoder(handle_unknown="error"), ["owner"])]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(frame, y)
    path = tmp_path_factory.mktemp("model") / "model.pkl"
    joblib.dump(model, path)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_warns_that_pickles_run_code() -> None:
    code, out, _ = run("compile", "--help")
    assert code == 0
    assert "runs code" in out


def test_inspect_json_prints_the_contract_schema(small_model: Path) -> None:
    code, out, _ = run("inspect", str(small_model), "--json")
    assert code == 0
    assert json.loads(out) == {
        "inputs": [{"name": "age", "type": "double"}, {"name": "owner", "type": "string"}],
        "outputs": [
            {"name": "label", "kind": "label"},
            {"name": "probability_bad", "kind": "probability", "class": "bad"},
            {"name": "probability_good", "kind": "probability", "class": "good"},
            {"name": "decision", "kind": "decision"},
        ],
    }


def test_unsupported_estimator_names_class_and_step(tmp_path: Path) -> None:
    model = Pipeline([("scale", StandardScaler()), ("svm", SVC())]).fit(np.eye(4), [0, 1, 0, 1])
    joblib.dump(model, tmp_path / "svc.pkl")
    code, _, err = run("compile", str(tmp_path / "svc.pkl"), "-t", "c", "-o", str(tmp_path / "out"))
    assert code == 1
    assert "SVC" in err and "svm" in err
    assert "Traceback" not in err


def test_corrupt_file_is_exit_1(tmp_path: Path) -> None:
    (tmp_path / "broken.pkl").write_bytes(b"\x80\x04this is not a pickle")
    code, _, err = run("inspect", str(tmp_path / "broken.pkl"))
    assert code == 1
    assert "broken.pkl" in err and "Traceback" not in err


def test_missing_file_and_unknown_extension_are_exit_1(tmp_path: Path) -> None:
    assert run("inspect", str(tmp_path / "nope.pkl"))[0] == 1
    (tmp_path / "model.txt").write_text("x")
    code, _, err = run("inspect", str(tmp_path / "model.txt"))
    assert code == 1 and "unknown model file type" in err


def test_usage_error_is_exit_2(small_model: Path) -> None:
    assert run("compile", str(small_model))[0] == 2
    assert run("compile", str(small_model), "-t", "cobol")[0] == 2
    assert run("compile", str(small_model), "-t", "c", "--dialect", "duckdb")[0] == 2
    assert run("compile", str(small_model), "-t", "java", "--c-tree-mode", "walk")[0] == 2
    assert run("compile", str(small_model), "-t", "c", "--c-tree-mode", "fast")[0] == 2


@pytest.mark.parametrize("mode", ["walk", "ifelse", "table"])
def test_c_tree_mode_chooses_the_routing(tmp_path: Path, mode: str) -> None:
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    forest = RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(frame, frame["a"] - frame["b"])
    path = tmp_path / "forest.pkl"
    joblib.dump(forest, path)
    code, _, err = run("compile", str(path), "-t", "c", "--c-tree-mode", mode, "-o", str(tmp_path / mode))
    assert code == 0, err
    source = (tmp_path / mode / "scorer.c").read_text()
    markers = {"walk": "mg_wroot", "ifelse": "static int mg_tree0(", "table": "mg_nodes["}
    for other, marker in markers.items():
        assert (marker in source) == (other == mode), (mode, other)


def test_verify_reports_a_missing_input_column(small_model: Path, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("age\n41\n")
    code, _, err = run("verify", str(small_model), "--data", str(tmp_path / "data.csv"), "-t", "python")
    assert code == 1 and "'owner'" in err


@pytest.mark.parametrize("text", ["forty", "1.", "0x10", " 1", "1_000"])
def test_verify_reports_a_non_numeric_value(small_model: Path, tmp_path: Path, text: str) -> None:
    # the same grammar as every runner's (docs/emitters.md)
    (tmp_path / "data.csv").write_text(f"age,owner\n41,yes\n{text},no\n")
    code, _, err = run("verify", str(small_model), "--data", str(tmp_path / "data.csv"), "-t", "python")
    assert code == 1 and "row 2" in err and repr(text) in err


def test_verify_passes_on_good_data(small_model: Path, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("age,owner\n41,yes\n,no\n-0.0,yes\n40,no\n")
    code, out, err = run(
        "verify", str(small_model), "--data", str(tmp_path / "data.csv"), "-t", "python", "-t", "c", "-t", "sql"
    )
    assert code == 0, out + err
    assert "python" in out and "sql:duckdb" in out


@pytest.mark.parametrize("target", ["python", "c", "java"])
def test_runner_rejects_bad_rows_with_row_number(small_model: Path, tmp_path: Path, target: str) -> None:
    code, _, err = run("compile", str(small_model), "-t", target, "--runner", "-o", str(tmp_path))
    assert code == 0, err
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for argv in manifest["build"]:
        subprocess.run(argv, cwd=tmp_path, check=True)
    bad_number = subprocess.run(
        manifest["run"], cwd=tmp_path, input="age,owner\n1,yes\nabc,no\n", capture_output=True, text=True
    )
    assert bad_number.returncode != 0 and "row 2" in bad_number.stderr
    unknown = subprocess.run(
        manifest["run"], cwd=tmp_path, input="age,owner\n1,maybe\n", capture_output=True, text=True
    )
    assert unknown.returncode != 0 and "row 1" in unknown.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_compiling_twice_is_byte_identical(small_model: Path, tmp_path: Path, target: str) -> None:
    outputs = []
    for attempt in ("a", "b"):
        code, _, err = run("compile", str(small_model), "-t", target, "--runner", "-o", str(tmp_path / attempt))
        assert code == 0, err
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / attempt).iterdir())})
    assert outputs[0] == outputs[1]
    assert str(tmp_path) not in b"".join(outputs[0].values()).decode()


def test_python_dash_m_works(small_model: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelgen", "inspect", str(small_model)], capture_output=True, text=True
    )
    assert result.returncode == 0 and "owner: string" in result.stdout


# --- compile -t sql --view / --into -------------------------------------------------------


def _bits(value: Any) -> Any:
    # floats compared as their 64-bit patterns (sign of zero, NaN-ness), everything else as is
    return ("f", struct.pack("<d", value)) if isinstance(value, float) else value


def _stored(value: Any) -> Any:
    # NaN is the missing number: NULL in the table (SQLite cannot store NaN)
    return None if isinstance(value, float) and math.isnan(value) else value


def _statement_rows(dialect: str, statement: str, select: str, rows: list[dict[str, Any]], model: Model) -> list[Any]:
    connect = {"duckdb": lambda: duckdb.connect(":memory:"), "sqlite": lambda: sqlite3.connect(":memory:")}[dialect]
    types = {"duckdb": {DOUBLE: "DOUBLE", STRING: "VARCHAR"}, "sqlite": {DOUBLE: "REAL", STRING: "TEXT"}}[dialect]
    connection = connect()
    try:
        columns = [(ROW_KEY, "BIGINT"), *((f.name, types[f.dtype]) for f in model.inputs)]
        definition = ", ".join(f"{quote_identifier(n)} {t}" for n, t in columns)
        connection.execute(f'CREATE TABLE "input" ({definition})')
        values = [[i, *(_stored(r.get(f.name)) for f in model.inputs)] for i, r in enumerate(rows)]
        connection.executemany(f'INSERT INTO "input" VALUES ({", ".join("?" for _ in columns)})', values)
        if statement:
            connection.execute(statement)
        cursor = connection.execute(select)
        return [tuple(_bits(v) for v in row) for row in cursor.fetchall()]
    finally:
        connection.close()


# the arithmetic sample has float32 sums, which SQLite cannot express (a compile-time error)
SAMPLE_DIALECTS = [("categorical", "duckdb"), ("categorical", "sqlite"), ("arithmetic", "duckdb")]


@pytest.mark.parametrize("flag", ["view", "into"])
@pytest.mark.parametrize("name", ["scored", "my view", '"x"', "select", 'we\'ird "na;me" --'])
@pytest.mark.parametrize(("sample", "dialect"), SAMPLE_DIALECTS)
def test_view_and_into_give_the_plain_query_rows_bit_for_bit(dialect: str, flag: str, name: str, sample: str) -> None:
    model, rows = {
        "categorical": (categorical_model(), CATEGORICAL_ROWS),
        "arithmetic": (arithmetic_model(), ARITHMETIC_ROWS),
    }[sample]
    keys = (ROW_KEY,)
    plain = SqlEmitter().emit(model, EmitOptions(dialect=dialect, keys=keys)).files[0][1]
    wrapped = SqlEmitter().emit(model, EmitOptions(dialect=dialect, keys=keys, **{flag: name})).files[0][1]
    keyword = "CREATE VIEW" if flag == "view" else "CREATE TABLE"
    assert wrapped.startswith(f"{keyword} {quote_identifier(name)} AS\n")
    assert wrapped.endswith(plain)  # the same query, only prefixed
    expected = _statement_rows(dialect, "", plain.rstrip().rstrip(";") + f' ORDER BY "{ROW_KEY}"', rows, model)
    select = f"SELECT * FROM {quote_identifier(name)} ORDER BY {quote_identifier(ROW_KEY)}"
    actual = _statement_rows(dialect, wrapped, select, rows, model)
    assert len(expected) == len(rows)
    assert actual == expected


def test_view_and_into_are_sql_only_and_exclusive(small_model: Path, tmp_path: Path) -> None:
    code, _, err = run("compile", str(small_model), "-t", "c", "--view", "v", "-o", str(tmp_path))
    assert code == 2 and "--view only applies to -t sql" in err
    code, _, err = run("compile", str(small_model), "-t", "python", "--into", "v", "-o", str(tmp_path))
    assert code == 2 and "--into only applies to -t sql" in err
    code, _, err = run("compile", str(small_model), "-t", "sql", "--view", "v", "--into", "t", "-o", str(tmp_path))
    assert code == 2 and "mutually exclusive" in err


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite"])
def test_compile_view_writes_the_statement_in_the_query_file(small_model: Path, tmp_path: Path, dialect: str) -> None:
    code, _, err = run(
        "compile", str(small_model), "-t", "sql", "--dialect", dialect, "--view", "my view", "-o", str(tmp_path)
    )
    assert code == 0, err
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    text = (tmp_path / manifest["query"]).read_text()
    assert text.startswith('CREATE VIEW "my view" AS\n')
    connection = duckdb.connect(":memory:") if dialect == "duckdb" else sqlite3.connect(":memory:")
    connection.execute('CREATE TABLE "input" ("age" DOUBLE, "owner" VARCHAR)')
    connection.execute("INSERT INTO \"input\" VALUES (30.5, 'yes'), (52.25, 'no')")
    connection.execute(text)
    assert [r[0] for r in connection.execute('SELECT "label" FROM "my view"').fetchall()] == [
        r[0] for r in connection.execute(text.split(" AS\n", 1)[1].rstrip().rstrip(";")).fetchall()
    ]
