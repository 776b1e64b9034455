"""Spark's threshold trees through node arrays (``emitters/sql/tables.py``, ``SPARK_ARRAYS``), run
for real in local mode and compared with the IR interpreter bit for bit."""

from __future__ import annotations

import math
import random
import re
import struct
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emitters"))

from helpers_sql import compile_query, ensemble, mismatches, neighbours, random_rows, threshold_stump

from emitters.sql.tables import SPARK_ARRAYS
from modelgen.ir import (
    DOUBLE,
    Binary,
    Cast,
    Const,
    Input,
    InputField,
    Lookup,
    Model,
    OutputField,
    Split,
    Sum,
    TreeLeaf,
    leaf_ref,
)

X, Y = Input("x", DOUBLE), Input("y", DOUBLE)
INPUTS = (InputField("x", DOUBLE), InputField("y", DOUBLE))
THRESHOLDS = [0.5, -0.0, 0.0, math.inf, -math.inf, 1e-300, 5e-324]
SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
           -1.7976931348623157e308, math.inf, -math.inf, math.nan, 0.1, 1e23, 9007199254740993.0, 1e16, 1e-5]


def _random_bits(rng: random.Random, count: int) -> list[float]:
    return [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(count)]


def test_spark_reads_json_double_arrays_exactly(spark: Any) -> None:
    # the node arrays are from_json('[...]', 'array<double>') of Python's repr (NaN/Infinity words)
    values = SPECIAL + _random_bits(random.Random(6), 5000)
    (got,) = spark.sql(f"SELECT {SPARK_ARRAYS.constant(values, True)} AS a").collect()[0]
    assert len(got) == len(values)
    for value, read in zip(values, got, strict=True):
        if math.isnan(value):
            assert math.isnan(read)
        else:
            assert struct.pack("<d", read) == struct.pack("<d", value), value
    ints = [0, 1, 2**31 - 1, 7]
    assert list(spark.sql(f"SELECT {SPARK_ARRAYS.constant(ints, False)} AS a").collect()[0][0]) == ints


def _routing_model() -> Model:
    """Every (test, threshold, missing side); per-tree lookups with NaN/inf/-0.0 values (thr, val1,
    val2), a leaf number read as such, and a tree stacked on a forest's sum (a second forest)."""
    outputs = []
    terms = []
    for test in ("le", "lt"):
        for t_index, threshold in enumerate(THRESHOLDS):
            for missing_left in (True, False):
                tree = threshold_stump(X, Y, test, threshold, missing_left)
                name = f"{test}_{t_index}_{'L' if missing_left else 'R'}"
                value = Lookup(tree, (1.0, 2.0, 3.0, -0.0), DOUBLE)
                outputs.append(OutputField(name, "value", value))
                terms.append(value)
                if t_index == 0:
                    first = Lookup(tree, (math.nan, -math.inf, 5e-324, 0.1), DOUBLE)
                    outputs.append(OutputField(f"{name}_c1", "value", first))
                    second = Lookup(tree, (math.inf, -0.0, 1e300, -2.5), DOUBLE)
                    outputs.append(OutputField(f"{name}_c2", "value", second))
                    outputs.append(OutputField(f"{name}_leaf", "value", Cast(tree, DOUBLE)))
    total = Sum(tuple(terms))
    splits = (Split(0, "le", 40.0, True, 1, leaf_ref(2)), Split(1, "lt", 0.5, False, leaf_ref(0), leaf_ref(1)))
    stacked = TreeLeaf((total, X), splits)
    outputs.append(OutputField("stacked", "value", Lookup(stacked, (-1.0, 0.25, 8.0), DOUBLE)))
    return Model(INPUTS, tuple(outputs))


def test_spark_node_arrays_route_bit_for_bit(spark: Any, ansi: str) -> None:
    model = _routing_model()
    values = neighbours([t for t in THRESHOLDS if math.isfinite(t)])
    rows = [{"x": a, "y": b} for a in values for b in (None, 0.5, 0.6, math.nan)]
    assert mismatches(model, "spark", rows) == []
    query = compile_query(model, "spark")
    assert "`__mg_forest1_route0`" in query and "`__mg_forest2" not in query
    assert query.count("WHEN ") < 20  # no tree CASE: only feature-list NaN slots


def test_spark_arrays_are_each_read_once_and_routing_is_one_expression() -> None:
    # Spark substitutes a constant column into every reader and folds each copy again: the walk
    # reads each array once (thr twice: the step and the leaf entries), whatever the tree count
    model = ensemble(300, 6, 20, seed=3, split_probability=0.9, boosting=True)
    query = compile_query(model, "spark")
    # (a column carried through later layers is a bare reference, not a read)
    parts = ("thr", "feat", "kid", "x")
    reads = {part: len(re.findall(rf"element_at\(`__mg_forest0_{part}`", query)) for part in parts}
    assert reads == {"thr": 2, "feat": 1, "kid": 1, "x": 1}, reads
    assert len(re.findall(r"ELEMENT_AT\(ELEMENT_AT\(`__mg_forest0_route0`, \d+\), 1\)", query)) == 300
    assert query.count("aggregate(") == 1 and query.count("from_json(") == 4  # thr, feat, kid, roots
    assert "transform(" in query and "CASE WHEN `" not in query.split("__mg_forest0_route0")[0][-2000:]


def test_spark_random_boosting_matches_interpreter(spark: Any) -> None:
    model = ensemble(120, 6, 8, seed=11, split_probability=0.85, boosting=True)
    assert mismatches(model, "spark", random_rows(random.Random(12), 8, 120)) == []


def test_spark_deep_path_tree_is_one_walk(spark: Any) -> None:
    # 150 levels: DuckDB continues in more route columns; Spark's aggregate walks any depth in one
    depth = 150
    splits = []
    for level in range(depth):
        child = level + 1 if level + 1 < depth else leaf_ref(depth)
        test = "le" if level % 3 else "lt"
        splits.append(Split(level % 2, test, 100.0 - level, level % 4 == 1, child, leaf_ref(level)))
    tree = TreeLeaf((X, Y), tuple(splits))
    values = tuple(k / 7 for k in range(depth + 1))
    model = Model(INPUTS, (OutputField("v", "value", Binary("add", Lookup(tree, values, DOUBLE), Const(0.5))),))
    rows = [{"x": 100.0 - k, "y": 100.0 - k} for k in range(0, depth + 2, 5)]
    rows += [{"x": math.nextafter(100.0 - k, -1e9), "y": 100.0 - k - 1} for k in range(0, depth, 7)]
    rows += [{"x": None, "y": None}, {"x": -math.inf, "y": math.inf}, {"x": 0.0, "y": None}]
    assert mismatches(model, "spark", rows) == []
    query = compile_query(model, "spark")
    assert f"sequence(1, {depth})" in query and "`__mg_forest0_route1`" not in query
