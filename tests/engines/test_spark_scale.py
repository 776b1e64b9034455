"""Spark at scale: long sums as ``aggregate`` folds (a 1,000-tree ensemble plans and runs), run
for real in local mode and compared with the IR interpreter bit for bit."""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emitters"))

from helpers_sql import compile_query, mismatches

from emitters.sql import spark_dialect
from emitters.sql.spark_dialect import MAX_LAYERS
from modelgen.errors import ModelgenError
from modelgen.ir import DOUBLE, Binary, Const, Input, InputField, Model, Node, OutputField, Sum

BIG = 1.7976931348623157e308


def _sum_model(n_inputs: int) -> Model:
    inputs = tuple(InputField(f"t{i}", DOUBLE) for i in range(n_inputs))
    terms = tuple(Input(f.name, DOUBLE) for f in inputs)
    # the same terms in two orders: a left fold in any other order gives other bits on these rows
    outputs = (
        OutputField("forward", "value", Sum(terms)),
        OutputField("backward", "value", Sum(tuple(reversed(terms)))),
        OutputField("pair", "value", Sum(terms[:2])),
    )
    return Model(inputs, outputs)


def test_fold_sum_is_the_left_fold_bit_for_bit(spark: Any, ansi: str) -> None:
    # overflow mid-sum (inf, never an error under ANSI), inf + -inf, NaN and missing terms, -0.0
    # sums, and cancellations that any reassociation would change
    cases = [
        [BIG, BIG, -BIG, -BIG, 1.0],
        [1e16, 1.0, 1.0, -1e16, 0.5],
        [-0.0, -0.0, -0.0, -0.0, -0.0],
        [-0.0, 0.0, -0.0, -0.0, -0.0],
        [math.inf, 1.0, -math.inf, 2.0, 3.0],
        [None, 1.0, 2.0, 3.0, 4.0],
        [1.0, 2.0, math.nan, -math.inf, 0.0],
        [5e-324, 5e-324, -5e-324, 1e-308, -1e-308],
        [0.1, 0.2, 0.3, -0.6, 1e-17],
        [BIG, -BIG, BIG, BIG, -BIG],
    ]
    rng = random.Random(5)
    cases += [[rng.choice([1.0, -1.0]) * rng.uniform(0, 1) * 10.0 ** rng.randint(-20, 20) for _ in range(5)]
              for _ in range(40)]
    rows = [{f"t{i}": value for i, value in enumerate(case)} for case in cases]
    model = _sum_model(5)
    assert mismatches(model, "spark", rows) == []
    query = compile_query(model, "spark")
    assert query.count("AGGREGATE(") == 2  # the 2-term sum stays a plain `+`


def test_long_plain_sum_runs(spark: Any) -> None:
    # before the fold: Spark's CollapseProject merged the 25-term sum layers into one 1,000-deep
    # chain of additions and code generation died with a StackOverflowError (measured; rf1000 and
    # gb1000 ensembles died the same way: benchmarks/results/sql-scale-spark-*)
    inputs = (InputField("x", DOUBLE),)
    x = Input("x", DOUBLE)
    terms = tuple(Binary("mul", x, Const(1.0 + k / 1024)) for k in range(1000))
    model = Model(inputs, (OutputField("s", "value", Sum(terms)),))
    rows = [{"x": v} for v in (0.1, -0.0, 1e305, -3.5, None, math.inf, 5e-324)]
    assert mismatches(model, "spark", rows) == []


def _chain(length: int) -> Model:
    # tests/emitters/test_sql_emitter.py's chain: every layer holds a few IR levels
    x = Input("x", DOUBLE)
    node: Node = x
    ops = ["add", "mul", "div", "max", "sub", "min"]
    for i in range(length):
        node = Binary(ops[i % len(ops)], node, Const(1.0 + (i % 7) * 0.125))
    return Model((InputField("x", DOUBLE),), (OutputField("y", "value", node),))


def _layers(query: str) -> int:
    return len(set(re.findall(r"`__mg_layer(\d+)` AS", query)))


CHAIN_ROWS = [{"x": 0.3}, {"x": None}, {"x": -2.0}, {"x": -0.0}, {"x": math.inf}]


def test_ten_thousand_node_chain_is_refused_at_compile_time_naming_the_limit() -> None:
    with pytest.raises(ModelgenError) as raised:
        compile_query(_chain(10_000), "spark")
    message = str(raised.value)
    assert "2000 nested layers" in message and f"the {MAX_LAYERS} that" in message
    assert "spark.sql.analyzer.maxIterations of at least 2010" in message


def test_chain_just_under_the_layer_limit_runs(spark: Any) -> None:
    model = _chain(5 * MAX_LAYERS)
    assert _layers(compile_query(model, "spark")) == MAX_LAYERS
    assert mismatches(model, "spark", CHAIN_ROWS) == []


def test_deeper_chain_runs_with_the_setting_the_error_names(spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_dialect, "MAX_LAYERS", 10_000)
    model = _chain(5 * 101)
    assert _layers(compile_query(model, "spark")) == 101
    spark.conf.set("spark.sql.analyzer.maxIterations", "111")
    try:
        assert mismatches(model, "spark", CHAIN_ROWS) == []
    finally:
        spark.conf.unset("spark.sql.analyzer.maxIterations")


ADVERSARIAL = ['a"b', "c`d", "e]f[", "g'h", "i j", "é ü", "naïve_日本", "semi;--", "back\\slash", "tab\there",
               "``", "probability_", "😀 emoji", "ß"]


def _named_model(names: list[str]) -> Model:
    x = Input("x", DOUBLE)
    outputs = tuple(OutputField(n, "value", Binary("add", x, Const(float(i)))) for i, n in enumerate(names))
    return Model((InputField("x", DOUBLE),), outputs)


def test_adversarial_names_come_back_byte_for_byte(spark: Any) -> None:
    query = compile_query(_named_model(ADVERSARIAL), "spark", keys=())
    spark.sql("CREATE OR REPLACE TEMP VIEW `input` AS SELECT 1.0D AS `x`")
    try:
        assert spark.sql(query).columns == ADVERSARIAL
        # and through a view, as a user would deploy it
        spark.sql("CREATE OR REPLACE TEMP VIEW `mg_names` AS " + query)
        row = spark.sql("SELECT * FROM `mg_names`").collect()[0]
        assert list(row.asDict()) == ADVERSARIAL and list(row) == [1.0 + i for i in range(len(ADVERSARIAL))]
    finally:
        spark.catalog.dropTempView("mg_names")
        spark.catalog.dropTempView("input")


def test_names_equal_up_to_case_are_one_column_in_spark_and_refused(spark: Any) -> None:
    # measured: a view cannot hold both (spark.sql.caseSensitive=false by default)
    with pytest.raises(Exception, match=r"(?i)duplicate|already exists"):
        spark.sql("CREATE OR REPLACE TEMP VIEW `mg_case` AS SELECT 1.0D AS `Label`, 2.0D AS `label`")
    for names in (["Label", "label"], ["Ä", "ä"]):
        with pytest.raises(ModelgenError, match="same column"):
            compile_query(_named_model(names), "spark", keys=())
