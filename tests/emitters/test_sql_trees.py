"""TreeLeaf on DuckDB and SQLite: every split test, missing routing both ways, +-inf and -0.0
thresholds, category sets with a nasty string, shared routings, deep paths and 1,000-tree sums,
each compared bit for bit with the IR interpreter (``modelgen.ir.evaluate``)."""

from __future__ import annotations

import math
import random
import re
import sqlite3
import struct

import pytest
from helpers_sql import (
    compile_query,
    ensemble,
    mismatches,
    neighbours,
    random_rows,
    random_tree,
    sqlite_storable,
    threshold_stump,
)
from ir_samples import NASTY
from sqlglot import exp

from emitters.base import EmitOptions
from emitters.sql import SqlEmitter, literals, ops
from emitters.sql.dialects import DuckDBDialect, SqlDialect, SQLiteDialect, get_dialect
from emitters.sql.trees import CONJUNCTION_WIDTH, NestedPlan, _needs_guard, conjunction, nested_plan
from modelgen.ir import (
    DOUBLE,
    FLOAT32,
    STRING,
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


@pytest.fixture(params=["duckdb", "duckdb:case", "sqlite"])
def dialect(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every tree routing: DuckDB's node tables (its default), DuckDB's nested CASE, SQLite's."""
    name, _, mode = request.param.partition(":")
    if mode == "case":
        monkeypatch.setattr(DuckDBDialect, "table_trees", False)
    return name


@pytest.fixture(params=["duckdb", "sqlite"])
def case_dialect(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The dialects printing trees as nested CASEs (DuckDB with its node tables off)."""
    monkeypatch.setattr(DuckDBDialect, "table_trees", False)
    return request.param
X, Y, S = Input("x", DOUBLE), Input("y", DOUBLE), Input("s", STRING)
INPUTS = (InputField("x", DOUBLE), InputField("y", DOUBLE), InputField("s", STRING))
THRESHOLDS = [0.5, -0.0, 0.0, math.inf, -math.inf, 1e-300]


def _rows(dialect: str, rows: list[dict]) -> list[dict]:
    return sqlite_storable(rows) if dialect == "sqlite" else rows


def _stump_model() -> Model:
    """One output per (test, threshold, missing direction): a two-level tree whose leaves all differ."""
    outputs = []
    for test in ("le", "lt"):
        for t_index, threshold in enumerate(THRESHOLDS):
            for missing_left in (True, False):
                tree = threshold_stump(X, Y, test, threshold, missing_left)
                name = f"{test}_{t_index}_{'L' if missing_left else 'R'}"
                outputs.append(OutputField(name, "value", Lookup(tree, (1.0, 2.0, 3.0, -0.0), DOUBLE)))
    return Model(INPUTS, tuple(outputs))


def test_threshold_tests_and_missing_routing(dialect: str) -> None:
    values = neighbours([t for t in THRESHOLDS if math.isfinite(t)])
    rows = [{"x": a, "y": b, "s": None} for a in values for b in (None, 0.5, 0.6)]
    assert mismatches(_stump_model(), dialect, _rows(dialect, rows)) == []


def _set_model() -> Model:
    """Category sets on strings (with the nasty category) and on doubles (with -0.0), in/notin,
    missing either way; leaf index and leaf value both output."""
    outputs = []
    for test in ("in", "notin"):
        for missing_left in (True, False):
            strings = TreeLeaf(
                (S, X),
                (
                    Split(0, test, ("a", NASTY), missing_left, leaf_ref(0), 1),
                    Split(1, test, (-0.0, 2.5, math.inf), not missing_left, leaf_ref(1), leaf_ref(2)),
                ),
            )
            tag = f"{test}_{'L' if missing_left else 'R'}"
            outputs.append(OutputField(f"leaf_{tag}", "value", Cast(strings, DOUBLE)))
            outputs.append(OutputField(f"value_{tag}", "value", Lookup(strings, (0.25, -1.5, 7.0), DOUBLE)))
    return Model(INPUTS, tuple(outputs))


def test_category_sets_with_nasty_strings(dialect: str) -> None:
    categories = [None, "a", "b", NASTY, NASTY[:-1], "A", ""]
    numbers = [None, 0.0, -0.0, 2.5, math.nextafter(2.5, 3.0), math.inf, -math.inf]
    rows = [{"x": v, "y": 0.0, "s": c} for c in categories for v in numbers]
    assert mismatches(_set_model(), dialect, _rows(dialect, rows)) == []


def _shared_model() -> Model:
    """Per-class values of one tree (routed once per class, values folded in), a single-leaf
    tree read both by a Lookup and as a raw leaf index, and a 2-class tree also read as its raw
    leaf index (bound as a column, the lookups searching it)."""
    tree = TreeLeaf(
        (X, S),
        (
            Split(0, "le", 1.0, True, 1, leaf_ref(2)),
            Split(1, "notin", (NASTY,), False, leaf_ref(0), leaf_ref(1)),
        ),
    )
    single = TreeLeaf((X,), ())
    outputs = [OutputField(f"class{k}", "value", Lookup(tree, (k + 0.5, -k - 0.25, 0.1 * k), DOUBLE)) for k in range(3)]
    outputs.append(OutputField("single", "value", Lookup(single, (-0.0,), DOUBLE)))
    outputs.append(OutputField("single_leaf", "value", Cast(single, DOUBLE)))
    other = TreeLeaf((Y,), (Split(0, "lt", -0.0, False, leaf_ref(0), leaf_ref(1)),))
    outputs.append(OutputField("sum", "value", Sum((Lookup(other, (1e300, -1e-300), DOUBLE), Const(1.0)))))
    raw = TreeLeaf(
        (Y, X),
        (Split(0, "le", 0.0, False, 1, leaf_ref(2)), Split(1, "lt", 1.0, True, leaf_ref(0), leaf_ref(1))),
    )
    outputs += [OutputField(f"raw{k}", "value", Lookup(raw, (k - 0.0, 2.5 * k, -1e-320), DOUBLE)) for k in range(2)]
    outputs.append(OutputField("raw_leaf", "value", Cast(raw, DOUBLE)))
    return Model(INPUTS, tuple(outputs))


def test_shared_routing_and_single_leaf(dialect: str) -> None:
    rows = [
        {"x": x, "y": y, "s": s}
        for x in neighbours([1.0])
        for y in (None, 0.0, -0.0, -1e-320)
        for s in (None, NASTY, "b")
    ]
    model = _shared_model()
    assert mismatches(model, dialect, _rows(dialect, rows)) == []
    query = compile_query(model, dialect)
    if dialect == "sqlite" or not DuckDBDialect.table_trees:
        # per-class values folded into one CASE per class (O(depth) a row): no `CASE leaf WHEN`
        # search (O(leaves) a row) but for the tree whose raw leaf index is an output too
        assert len(re.findall(r'CASE "__mg_t\d+"', query)) == 2, query


def _deep_path_tree(depth: int) -> TreeLeaf:
    """A path ``depth`` splits deep: thresholds narrow on x and y, string sets on s (never merged)."""
    splits = []
    for level in range(depth):
        child = level + 1 if level + 1 < depth else leaf_ref(depth)
        kind = level % 3
        if kind == 0:
            splits.append(Split(0, "le", 100.0 - level, level % 2 == 0, child, leaf_ref(level)))
        elif kind == 1:
            splits.append(Split(1, "lt", -100.0 + level, level % 4 == 1, leaf_ref(level), child))
        else:
            splits.append(Split(2, "notin", (f"c{level}",), level % 5 == 0, child, leaf_ref(level)))
    return TreeLeaf((X, Y, S), tuple(splits))


def test_deep_path_tree(dialect: str) -> None:
    depth = 200
    tree = _deep_path_tree(depth)
    model = Model(INPUTS, (OutputField("leaf", "value", Cast(tree, DOUBLE)),))
    rows = [{"x": 100.0 - k, "y": -100.0 + k, "s": f"c{k}"} for k in range(0, depth + 2, 7)]
    rows += [{"x": -1e9, "y": 1e9, "s": "other"}, {"x": None, "y": None, "s": None}, {"x": 0.0, "y": None, "s": "z"}]
    rows += [{"x": math.nextafter(100.0 - k, 1e9), "y": -100.0 + k, "s": "q"} for k in range(0, depth, 11)]
    assert mismatches(model, dialect, _rows(dialect, rows)) == []


def test_long_conjunctions_are_grouped_for_sqlite() -> None:
    # SQLite counts a left-nested AND chain against its 1,000-deep expression limit: the plain
    # chain fails, the grouped one runs (so the grouping is needed, and enough)
    terms = [ops.compare(exp.GTE, exp.column("v"), exp.Literal.number(str(-i))) for i in range(1200)]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (v REAL)")
    connection.execute("INSERT INTO t VALUES (1.0)")

    def run(condition: exp.Expression) -> list:
        return connection.execute(f"SELECT CASE WHEN {condition.sql('sqlite')} THEN 7 END FROM t").fetchall()

    with pytest.raises(sqlite3.OperationalError, match=r"too large|depth"):
        run(ops.and_([t.copy() for t in terms]))
    assert run(conjunction([t.copy() for t in terms])) == [(7,)]
    assert CONJUNCTION_WIDTH * 3 < 1000


def test_thousand_tree_forest_keeps_the_sum_order(dialect: str) -> None:
    # 1,000 small trees (the engines' time grows with the leaves, see benchmarks/sql_trees.py):
    # the sum is laid out 25 trees a layer with a running total, compared bit for bit
    model = ensemble(1000, 2, 20, seed=11, split_probability=1.0, boosting=False)
    rows = random_rows(random.Random(5), 20, 100)
    assert mismatches(model, dialect, _rows(dialect, rows)) == []
    query = compile_query(model, dialect)
    assert query.count('"__mg_layer') < 3 * 60  # ~42 layers (each named ~3 times)


def test_boosting_with_deeper_trees(dialect: str) -> None:
    model = ensemble(40, 6, 20, seed=12, split_probability=0.8, boosting=True)
    rows = random_rows(random.Random(6), 20, 200)
    assert mismatches(model, dialect, _rows(dialect, rows)) == []


def test_emitting_trees_twice_is_byte_identical(dialect: str) -> None:
    model = _shared_model()
    first = SqlEmitter().emit(model, EmitOptions(dialect=dialect))
    second = SqlEmitter().emit(_shared_model(), EmitOptions(dialect=dialect))
    assert first == second



# --- nested CASE routing (emitters/sql/trees.py): shape, nesting bound, fallback, literals ---


def _full_tree(depth: int) -> TreeLeaf:
    """A full tree on x/y: nesting exactly ``depth`` (both sides of every split equally deep)."""
    rng = random.Random(depth)
    return random_tree(rng, (X, Y), depth)


def test_nesting_is_the_strahler_number_not_the_depth(case_dialect: str) -> None:
    chosen = get_dialect(case_dialect)
    assert nested_plan(_deep_path_tree(60), chosen).nesting <= 2
    for depth in (1, 3, 6):
        assert nested_plan(_full_tree(depth), chosen).nesting == depth


def test_sixty_level_path_tree_is_nested_once_per_split(case_dialect: str) -> None:
    depth = 60
    tree = _deep_path_tree(depth)
    values = tuple(k / 7 for k in range(depth + 1))
    model = Model(INPUTS, (OutputField("value", "value", Lookup(tree, values, DOUBLE)),))
    rows = [{"x": 100.0 - k, "y": -100.0 + k, "s": f"c{k}"} for k in range(0, depth + 2, 3)]
    rows += [
        {"x": math.nextafter(100.0 - k, -1e9), "y": math.nextafter(-100.0 + k, 1e9), "s": "q"} for k in range(depth)
    ]
    rows += [{"x": None, "y": None, "s": None}, {"x": -math.inf, "y": math.inf, "s": NASTY}]
    assert mismatches(model, case_dialect, _rows(case_dialect, rows)) == []
    query = compile_query(model, case_dialect)
    tree_line = max(query.splitlines(), key=lambda line: line.count("WHEN "))
    assert tree_line.count("WHEN ") == depth  # each split once (flat paths would repeat them)


def _random_deep_model(seed: int, depth: int, n_trees: int) -> Model:
    rng = random.Random(seed)
    inputs = (InputField("x", DOUBLE), InputField("y", DOUBLE))
    terms = []
    for _ in range(n_trees):
        tree = random_tree(rng, (X, Y), depth, split_probability=0.7)
        terms.append(Lookup(tree, tuple(rng.uniform(-1e3, 1e3) for _ in range(tree.n_leaves)), DOUBLE))
    return Model(inputs, (OutputField("p", "value", Sum(tuple(terms))),))


def _grid_rows(seed: int, count: int) -> list[dict]:
    rows = random_rows(random.Random(seed), 2, count)
    return [{"x": r["x0"], "y": r["x1"]} for r in rows]


def test_random_deep_trees_nested_and_flat_fallback_agree(case_dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _random_deep_model(21, 12, 6)
    rows = _rows(case_dialect, _grid_rows(9, 300))
    assert mismatches(model, case_dialect, rows) == []
    nested = compile_query(model, case_dialect)
    # force every tree through the flat leaf paths (what trees above the bound get)
    monkeypatch.setattr(type(get_dialect(case_dialect)), "max_case_nesting", 1)
    assert mismatches(model, case_dialect, rows) == []
    flat = compile_query(model, case_dialect)
    assert flat != nested and len(flat) > len(nested)


def _chain(depth: int) -> TreeLeaf:
    splits = []
    for i in range(depth):
        child = i + 1 if i + 1 < depth else leaf_ref(depth)
        splits.append(Split(i % 2, "le", 0.1 * i + 0.05, True, leaf_ref(i), child))
    return TreeLeaf((X, Y), tuple(splits))


def _forced_nesting(node: TreeLeaf, dialect: SqlDialect) -> NestedPlan:
    # every deeper subtree in THEN: the nesting is the depth (the worst case for the parser)
    n = len(node.splits)
    return NestedPlan([False] * n, [_needs_guard(s, False, DOUBLE, dialect) for s in node.splits], n)


def test_sqlite_case_nesting_bound_is_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    # the measurement behind SQLiteDialect.max_case_nesting: a sum of trees divided by a constant
    # (a forest) parses with 15 nested THEN levels and overflows SQLite's parser stack at 16+
    import emitters.sql.trees as trees_module

    bound = SQLiteDialect.max_case_nesting
    monkeypatch.setattr(trees_module, "nested_plan", _forced_nesting)
    monkeypatch.setattr(SQLiteDialect, "max_case_nesting", 1000)
    inputs = (InputField("x", DOUBLE), InputField("y", DOUBLE))

    def forest(depth: int) -> Model:
        first = Lookup(_chain(depth), tuple(0.1 * k + 1e-3 for k in range(depth + 1)), DOUBLE)
        second = Lookup(_chain(3), (1.5, 2.5, 3.5, 4.5), DOUBLE)
        return Model(inputs, (OutputField("p", "value", Binary("div", Sum((Const(0.5), first, second)), Const(3.0))),))

    rows = [{"x": 0.05 * k, "y": 0.05 * k} for k in range(0, 60, 3)] + [{"x": None, "y": None}]
    assert mismatches(forest(bound + 5), "sqlite", rows) == []
    with pytest.raises(sqlite3.OperationalError, match="parser stack overflow"):
        mismatches(forest(bound + 6), "sqlite", rows)


def test_sqlite_tree_literals_are_not_constants() -> None:
    # SQLite hoists constant operands into a list it searches linearly (O(n^2) to prepare):
    # every threshold and leaf value is COALESCE(<exact literal>, <column>)
    model = _random_deep_model(5, 5, 3)
    query = compile_query(model, "sqlite")
    tree_lines = [line for line in query.splitlines() if "CASE WHEN" in line]
    assert tree_lines
    for line in tree_lines:
        for match in re.finditer(r"(<=|<|>=|>|THEN|ELSE) ([^ ]+)", line):
            operand = match.group(2)
            assert operand.startswith(("COALESCE(", '"', "CASE", "9e999", "-9e999")), line


def test_tree_literal_texts_are_what_sqlglot_prints_and_read_back_exactly() -> None:
    rng = random.Random(4)
    special = [0.5, -0.5, 3.0, -3.0, -0.0, 0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 2.0**53, 2.0**60,
               1.7976931348623157e308, 1e-300, 0.1]
    values = special + [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    connection = sqlite3.connect(":memory:")
    connection.execute('CREATE TABLE t ("x" REAL)')
    connection.execute("INSERT INTO t VALUES (1.0)")
    for value in values:
        assert literals.duckdb_double_text(value) == literals.duckdb_double(value).sql("duckdb")
        printed = re.sub(r" /\* [^*]* \*/", "", literals.sqlite_double(value).sql("sqlite"))
        assert literals.sqlite_double_text(value) == printed
        text = literals.sqlite_unfactored_double_text(value, '"x"')
        (got,) = connection.execute(f"SELECT {text} FROM t").fetchone()
        if math.isnan(value):
            assert got is None
        else:
            assert struct.pack("<d", got) == struct.pack("<d", value), (value, text)


# --- DuckDB node tables (emitters/sql/tables.py): arrays, slots, steps, several forests ---

SPECIAL_VALUES = [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, -5e-324, 1.7976931348623157e308, 0.1, 1e-300]


def _random_bits(rng: random.Random, count: int) -> list[float]:
    return [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(count)]


def _threshold_tree(features: tuple, missing_left: bool) -> TreeLeaf:
    # every threshold test of THRESHOLDS (-inf and +inf included, `lt -inf` too) on one path
    splits = []
    tests = [(test, t) for t in THRESHOLDS for test in ("le", "lt")]
    for level, (test, threshold) in enumerate(tests):
        child = level + 1 if level + 1 < len(tests) else leaf_ref(len(tests))
        go_left = level % 2 == 0
        left, right = (leaf_ref(level), child) if go_left else (child, leaf_ref(level))
        splits.append(Split(level % len(features), test, threshold, missing_left != (level % 3 == 0), left, right))
    return TreeLeaf(features, tuple(splits))


def _table_model() -> Model:
    """Numeric trees only (DuckDB routes them all through node tables): per-class values (the
    ``val`` arrays) with NaN/inf/-0.0/subnormal/random-bit leaf values, a leaf number output (the
    ``leaf`` array), computed and float32 features, a single-leaf tree, and a second forest (other
    features) reading the first forest's sum (stacking), all in one ordered Sum."""
    rng = random.Random(8)
    computed = (Binary("mul", X, Const(3.0)), Cast(Y, FLOAT32))
    a = _threshold_tree((X, Y), True)
    b = _threshold_tree((X, Y), False)
    c = random_tree(rng, computed, 5)
    outputs = []
    for k in range(3):
        values = tuple(SPECIAL_VALUES + _random_bits(rng, a.n_leaves))[k : k + a.n_leaves]
        outputs.append(OutputField(f"class{k}", "value", Lookup(a, values, DOUBLE)))
    outputs.append(OutputField("leaf_a", "value", Cast(a, DOUBLE)))
    terms = [Const(0.25)]
    for tree in (b, c, TreeLeaf((X,), ()), a):
        terms.append(Lookup(tree, tuple(rng.uniform(-2.0, 2.0) for _ in range(tree.n_leaves)), DOUBLE))
    total = Sum(tuple(terms))
    outputs.append(OutputField("sum", "value", total))
    stacked = random_tree(rng, (total, X), 4)
    outputs.append(OutputField("stacked", "value", Lookup(stacked, tuple(_random_bits(rng, stacked.n_leaves)), DOUBLE)))
    return Model(INPUTS[:2], tuple(outputs))


def test_duckdb_node_tables_route_bit_for_bit() -> None:
    model = _table_model()
    values = neighbours([t for t in THRESHOLDS if math.isfinite(t)])
    rows = [{"x": a, "y": b} for a in values for b in values[::2]]
    assert mismatches(model, "duckdb", rows) == []
    query = compile_query(model, "duckdb")
    for part in ("thr", "feat", "kid", "val1", "val2", "leaf"):
        assert f'"__mg_forest0_{part}"' in query
    # trees on other (computed, float32) features share forest 0; the stacked tree reads it: forest 1
    assert '"__mg_forest1_route0"' in query and '"__mg_forest2' not in query
    # no tree CASE: only the float32 rounding and the feature lists' NaN slots (~70 splits here)
    assert query.count("WHEN ") <= 8


def test_duckdb_node_tables_depth_and_size() -> None:
    # one routing step per level of the deepest tree, arrays as one string constant each: the
    # query grows with the nodes (~40 bytes each), the expression with the depth only
    model = ensemble(300, 6, 20, seed=3, split_probability=0.9, boosting=True)
    query = compile_query(model, "duckdb")
    assert query.count("LIST_TRANSFORM(") == 6
    assert query.count("AS DOUBLE[])") == 1 and query.count("AS INTEGER[])") == 3  # thr; feat, kid, roots
    nodes = sum(2 * len(n.index.splits) + 1 for n in model.outputs[0].expr.children if isinstance(n, Lookup))
    assert len(query) < 60 * nodes
    rows = random_rows(random.Random(4), 20, 150)
    assert mismatches(model, "duckdb", rows) == []


def test_duckdb_deep_numeric_path_continues_in_more_route_columns() -> None:
    from emitters.sql.tables import STEPS_PER_COLUMN

    depth = 2 * STEPS_PER_COLUMN + 10
    splits = []
    for level in range(depth):
        child = level + 1 if level + 1 < depth else leaf_ref(depth)
        test = "le" if level % 3 else "lt"
        splits.append(Split(level % 2, test, 100.0 - level, level % 4 == 1, child, leaf_ref(level)))
    tree = TreeLeaf((X, Y), tuple(splits))
    values = tuple(k / 7 for k in range(depth + 1))
    model = Model(INPUTS[:2], (OutputField("v", "value", Lookup(tree, values, DOUBLE)),))
    rows = [{"x": 100.0 - k, "y": 100.0 - k} for k in range(0, depth + 2, 5)]
    rows += [{"x": math.nextafter(100.0 - k, -1e9), "y": 100.0 - k - 1} for k in range(0, depth, 7)]
    rows += [{"x": None, "y": None}, {"x": -math.inf, "y": math.inf}, {"x": 0.0, "y": None}]
    assert mismatches(model, "duckdb", rows) == []
    query = compile_query(model, "duckdb")
    assert '"__mg_forest0_route2"' in query and '"__mg_forest0_route3"' not in query


def test_duckdb_reads_double_list_strings_exactly() -> None:
    # the node arrays are CAST('[...]' AS DOUBLE[]) of Python's repr: DuckDB must read back every bit
    import duckdb

    from emitters.sql.tables import _list_cast

    values = SPECIAL_VALUES + _random_bits(random.Random(6), 5000)
    text = _list_cast(list(map(repr, values)), "DOUBLE[]").sql("duckdb")
    (got,) = duckdb.connect().execute(f"SELECT {text}").fetchone()
    for value, read in zip(values, got, strict=True):
        if math.isnan(value):
            assert math.isnan(read)
        else:
            assert struct.pack("<d", read) == struct.pack("<d", value), value
