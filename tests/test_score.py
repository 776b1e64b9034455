"""``modelgen score``: CSV/Parquet through the generated SQL on DuckDB, bit for bit with the IR's evaluator."""

from __future__ import annotations

import csv
import io
import math
import struct
from pathlib import Path
from typing import Any

import duckdb
import joblib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modelgen.cli import main
from modelgen.compiler import lower
from modelgen.ir import STRING
from modelgen.ir.evaluate import evaluate
from modelgen.numerics import format_double

ROWS = 53
KEY = 'id, "quoted"'


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows),
            "owner": rng.choice(["yes", "no", "may,be"], rows),
            "income": rng.lognormal(10, 1, rows),
        }
    )
    return frame.astype({"owner": object})


@pytest.fixture(scope="module")
def pipeline_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = _frame(200, 0)
    y = np.where(frame["age"] + frame["income"] / 1e4 > 42, "good", "bad")
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="error"), ["owner"]),
        ]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(frame, y)
    path = tmp_path_factory.mktemp("pipeline") / "pipeline.pkl"
    joblib.dump(model, path)
    return path


@pytest.fixture(scope="module")
def forest_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = _frame(300, 1)[["age", "income"]]
    frame.loc[::7, "age"] = np.nan  # scikit-learn's forests route missing values
    y = np.where(frame["income"] > 2.2e4, "hi", "lo")
    model = RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0).fit(frame, y)
    path = tmp_path_factory.mktemp("forest") / "forest.pkl"
    joblib.dump(model, path)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _data(model_path: Path, tmp_path: Path, seed: int = 2) -> tuple[Path, list[dict[str, Any]], list[str]]:
    """A data CSV (columns shuffled, an ignored extra column, a key) and its typed rows."""
    model = lower(model_path)
    frame = _frame(ROWS, seed)
    rows: list[dict[str, Any]] = []
    for i in range(ROWS):
        row: dict[str, Any] = {}
        for field in model.inputs:
            value = frame[field.name].iloc[i]
            row[field.name] = value if field.dtype is STRING else float(value)
        if "owner" not in row and i % 5 == 0:
            row["age"] = None  # the forest takes missing values; the logistic pipeline rejects them
        rows.append(row)
    keys = [f'k{i},"{i}"' for i in range(ROWS)]
    header = ["ignored", KEY, *reversed([f.name for f in model.inputs])]

    def text(value: Any) -> str:
        return "" if value is None else value if isinstance(value, str) else repr(value)

    lines = [["x", keys[i], *(text(rows[i][name]) for name in header[2:])] for i in range(ROWS)]
    return _write_csv(tmp_path / "data.csv", header, lines), rows, keys


def _bits(value: Any) -> Any:
    return struct.pack("<d", value) if isinstance(value, float) else value


def _expected(model_path: Path, rows: list[dict[str, Any]], keys: list[str]) -> list[tuple[Any, ...]]:
    model = lower(model_path)
    result = []
    for key, row in zip(keys, rows):
        scored = evaluate(model, {n: (math.nan if v is None else v) for n, v in row.items()})
        result.append((key, *(_bits(scored[o.name]) for o in model.outputs)))
    return result


def _read_csv_output(text: str, model_path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    kinds = {o.name: o.kind for o in lower(model_path).outputs}
    records = list(csv.reader(io.StringIO(text, newline="")))
    header = records[0]
    rows = [
        tuple(v if kinds.get(n, "label") == "label" else _bits(float(v)) for n, v in zip(header, record))
        for record in records[1:]
    ]
    return header, rows


def _to_parquet(csv_path: Path, model_path: Path, target: Path) -> Path:
    model = lower(model_path)
    types = {f.name: "VARCHAR" if f.dtype is STRING else "DOUBLE" for f in model.inputs}
    with csv_path.open(encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream))
    columns = ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': '{types.get(n, 'VARCHAR')}'" for n in header)
    duckdb.sql(
        f"COPY (SELECT * FROM read_csv('{csv_path}', header = true, auto_detect = false, quote = '\"', "
        f"escape = '\"', columns = {{{columns}}})) TO '{target}' (FORMAT parquet)"
    )
    return target


@pytest.mark.parametrize("which", ["pipeline", "forest"])
@pytest.mark.parametrize("in_format", ["csv", "parquet"])
@pytest.mark.parametrize("out_format", ["stdout", "csv", "parquet"])
def test_score_equals_the_ir_evaluator_bit_for_bit(
    which: str, in_format: str, out_format: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    model_path = request.getfixturevalue(f"{which}_model")
    data, rows, keys = _data(model_path, tmp_path)
    if in_format == "parquet":
        data = _to_parquet(data, model_path, tmp_path / "data.parquet")
    expected = _expected(model_path, rows, keys)
    names = [KEY, *(o.name for o in lower(model_path).outputs)]
    args = ["score", str(model_path), str(data), "--key", KEY, "--chunk-rows", "10"]
    if out_format != "stdout":
        args += ["-o", str(tmp_path / f"out.{out_format}")]
    code, out, err = run(*args)
    assert code == 0, err
    if out_format == "stdout":
        header, actual = _read_csv_output(out, model_path)
    elif out_format == "csv":
        header, actual = _read_csv_output((tmp_path / "out.csv").read_text(encoding="utf-8"), model_path)
    else:
        relation = duckdb.sql(f"SELECT * FROM read_parquet('{tmp_path / 'out.parquet'}')")
        header = relation.columns
        actual = [tuple(_bits(v) for v in row) for row in relation.fetchall()]
    assert header == names
    assert len(actual) == ROWS
    assert actual == expected


def test_rows_keep_input_order_across_chunks(forest_model: Path, tmp_path: Path) -> None:
    data, _, keys = _data(forest_model, tmp_path)
    for chunk in ("1", "4", "53", "1000"):
        code, out, err = run("score", str(forest_model), str(data), "--key", KEY, "--chunk-rows", chunk)
        assert code == 0, err
        assert [r[0] for r in list(csv.reader(io.StringIO(out)))[1:]] == keys


def test_without_key_only_outputs_are_written(forest_model: Path, tmp_path: Path) -> None:
    data, _, _ = _data(forest_model, tmp_path)
    code, out, err = run("score", str(forest_model), str(data))
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(o.name for o in lower(forest_model).outputs)


@pytest.mark.parametrize("bad", ["abc", " 1", "1.", "0x10", "1e", "--1", "infinit"])
def test_a_non_numeric_value_names_row_and_column(pipeline_model: Path, tmp_path: Path, bad: str) -> None:
    data = _write_csv(tmp_path / "bad.csv", ["age", "income", "owner"], [["1", "2", "yes"], ["3", bad, "no"]])
    code, _, err = run("score", str(pipeline_model), str(data))
    assert code == 1
    assert f"row 2: column 'income': {bad!r} is not a number" in err
    assert "Traceback" not in err


def test_number_grammar_accepts_the_protocols_forms(forest_model: Path, tmp_path: Path) -> None:
    # (infinities are forms of the grammar too, but scikit-learn's forests refuse them)
    texts = ["+.5", "-0", "1E5", "NaN", "-nan", "1e-400", "4.9e-324", "0001.25", "2.5e+1", ""]
    data = _write_csv(tmp_path / "ok.csv", ["age", "income"], [[t, "30000"] for t in texts])
    code, out, err = run("score", str(forest_model), str(data))
    assert code == 0, err
    model = lower(forest_model)
    _, actual = _read_csv_output(out, forest_model)
    for text, got in zip(texts, actual):
        age = math.nan if text == "" else float(text)
        want = evaluate(model, {"age": age, "income": 30000.0})
        assert got == tuple(_bits(want[o.name]) for o in model.outputs), text


def test_a_missing_column_is_exit_1(pipeline_model: Path, tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "miss.csv", ["age", "owner"], [["1", "yes"]])
    code, _, err = run("score", str(pipeline_model), str(data))
    assert code == 1
    assert "no column for input(s) 'income'" in err
    code, _, err = run("score", str(pipeline_model), str(data), "--key", "nope")
    assert code == 1


def test_a_missing_key_column_is_exit_1(forest_model: Path, tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "d.csv", ["age", "income"], [["1", "2"]])
    code, _, err = run("score", str(forest_model), str(data), "--key", "id")
    assert code == 1
    assert "--key column(s) 'id'" in err


@pytest.mark.parametrize("chunk", ["1", "3", "100"])
def test_a_rejected_row_stops_with_its_row_number(pipeline_model: Path, tmp_path: Path, chunk: str) -> None:
    good = [["1", "2", "yes"], ["3", "4", "no"]]
    data = _write_csv(tmp_path / "rej.csv", ["age", "income", "owner"], [*good, *good, ["5", "6", "purple"], *good])
    code, _, err = run("score", str(pipeline_model), str(data), "--chunk-rows", chunk)
    assert code == 1
    assert "row 5: " in err and "purple" not in err.split("row 5: ", 1)[0]
    # a missing numeric input: the logistic regression rejects it too
    data = _write_csv(tmp_path / "rej2.csv", ["age", "income", "owner"], [*good, ["", "4", "no"], ["7", "", "no"]])
    code, _, err = run("score", str(pipeline_model), str(data), "--chunk-rows", chunk)
    assert code == 1
    assert "row 3: " in err


def test_parquet_numeric_input_must_not_be_boolean(forest_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "b.parquet"
    duckdb.sql(f"COPY (SELECT true AS age, 1.5 AS income) TO '{target}' (FORMAT parquet)")
    code, _, err = run("score", str(forest_model), str(target))
    assert code == 1
    assert "'age' is numeric but the column is BOOLEAN" in err


def test_unknown_extensions_are_usage_errors(forest_model: Path, tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "d.csv", ["age", "income"], [["1", "2"]])
    code, _, _ = run("score", str(forest_model), str(data), "-o", str(tmp_path / "out.json"))
    assert code == 2
    other = _write_csv(tmp_path / "d.txt", ["age", "income"], [["1", "2"]])
    code, _, _ = run("score", str(forest_model), str(other))
    assert code == 2


def test_progress_bar_goes_to_stderr_only_when_asked(forest_model: Path, tmp_path: Path) -> None:
    data, _, _ = _data(forest_model, tmp_path)
    code, out, err = run("score", str(forest_model), str(data), "--progress", "--chunk-rows", "10")
    assert code == 0
    assert "scoring" in err and "scoring" not in out
    code, _, err = run("score", str(forest_model), str(data))
    assert code == 0 and "scoring" not in err


def test_format_double_round_trips() -> None:
    rng = np.random.default_rng(3)
    values = [float(v) for v in rng.integers(0, 2**64, 2000, dtype=np.uint64).view(np.float64)]
    for value in [*values, 0.0, -0.0, math.inf, -math.inf, 5e-324]:
        text = format_double(value)
        back = float(text)
        assert _bits(back) == _bits(value) or (math.isnan(value) and math.isnan(back) and text == "NaN")
