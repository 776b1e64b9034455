"""PostgreSQL 15 for real: the throwaway cluster, exact literals, and every guarded IEEE edge case."""

from __future__ import annotations

import math
import random
import struct
import time

import psycopg
import pytest
from sqlglot import exp

from emitters.sql.dialects import PostgresDialect, postgres_double_text
from modelgen.engines import pg_cluster, postgres_engine, run_query
from modelgen.ir import DOUBLE, INT, STRING, evaluate
from modelgen.ir.types import DType

DIALECT = PostgresDialect()


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or _bits(a) == _bits(b)


def _select(cluster: pg_cluster.PgCluster, expressions: list[str]) -> list[float]:
    with psycopg.connect(cluster.conninfo, autocommit=True) as connection, connection.cursor(binary=True) as cursor:
        cursor.execute("SELECT " + ", ".join(expressions))  # type: ignore[arg-type]
        row = cursor.fetchone()
        assert row is not None
        return list(row)


def _random_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    values = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(count)]
    # subnormals, their edges, signed zeros, infinities, NaN, decimals that are not exact
    values += [5e-324, -5e-324, 2.2250738585072009e-308, 2.2250738585072014e-308, 1.7976931348623157e308]
    values += [0.0, -0.0, math.inf, -math.inf, math.nan, 0.1, 1 / 3, -2.5e-310]
    values += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(52)))[0] for _ in range(200)]  # subnormals
    return values


def test_cluster_starts_fast_and_is_deleted_on_stop() -> None:
    started = time.perf_counter()
    cluster = pg_cluster.start_cluster()
    elapsed = time.perf_counter() - started
    try:
        assert _select(cluster, ["CAST('1.5' AS DOUBLE PRECISION)"]) == [1.5]
        with psycopg.connect(cluster.conninfo) as connection:
            version = connection.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) // 10000 == 15
    finally:
        pg_cluster.stop(cluster)
    assert elapsed < 15, f"cluster start-up took {elapsed:.1f} s"
    assert not cluster.root.exists()


def test_missing_binaries_fail_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(pg_cluster, "SEARCH_DIRS", ("/nonexistent",))
    with pytest.raises(pg_cluster.ModelgenError, match=r"initdb.*not found.*PostgreSQL 15"):
        pg_cluster.start_cluster()


def test_literals_round_trip_on_random_bit_patterns(postgres: pg_cluster.PgCluster) -> None:
    values = _random_doubles(3000, seed=4)
    got: list[float] = []
    for start in range(0, len(values), 500):
        got += _select(postgres, [postgres_double_text(v) for v in values[start : start + 500]])
    bad = [(v, g) for v, g in zip(values, got) if not _same(v, g)]
    assert not bad, bad[:5]
    assert all(isinstance(g, float) for g in got)  # never NUMERIC


def test_double_text_is_what_sqlglot_prints() -> None:
    for value in _random_doubles(300, seed=5):
        assert DIALECT.double(value).sql(dialect="postgres") == DIALECT.double_text(value)


def test_engine_loads_doubles_exactly_and_reads_missing_as_null(postgres: pg_cluster.PgCluster) -> None:
    values = _random_doubles(1000, seed=6)
    rows = [{"x": v, "s": None if i % 7 == 0 else f"s{i}'\""} for i, v in enumerate(values)]
    query = 'SELECT "__modelgen_row", "x", "s", "x" IS NULL AS "missing" FROM "input"'
    result = run_query("postgres", query, "input", [("x", DOUBLE), ("s", STRING)], rows)
    assert len(result) == len(rows)
    for row, out in zip(rows, result):
        if math.isnan(row["x"]):
            assert out["x"] is None and out["missing"] is True  # NaN inputs arrive as NULL (missing)
        else:
            assert _same(out["x"], row["x"]) and out["missing"] is False
        assert out["s"] == row["s"]


def test_engine_returns_nan_results_as_nan(postgres: pg_cluster.PgCluster) -> None:
    result = postgres_engine.run(
        "SELECT \"x\" * CAST('NaN' AS DOUBLE PRECISION) AS \"y\" FROM \"t\"", "t", [("x", "DOUBLE")], [[1.0]]
    )
    assert math.isnan(result[0]["y"])


def _unary(op: str, x: float) -> str:
    built = PostgresDialect.UNARY_OVERRIDES[op](DIALECT, DIALECT.double(x))
    return built.sql(dialect="postgres")


def _binary(op: str, a: float, b: float) -> str:
    builder = PostgresDialect.BINARY_OVERRIDES[op]
    # a column-like operand so no constant shortcut skips the guards
    wrap = lambda v: exp.Paren(this=DIALECT.double(v))  # noqa: E731
    return builder(DIALECT, wrap(a), wrap(b)).sql(dialect="postgres")


EDGE = [0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 709.782712893384, 709.7827128933841,
        710.0, -745.1332191019412, -745.1332191019411, -746.0, -800.0, 1e308, -1e308, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("op", ["exp", "log", "sqrt"])
def test_unary_edge_cases_are_ieee(postgres: pg_cluster.PgCluster, op: str) -> None:
    got = _select(postgres, [_unary(op, x) for x in EDGE])
    want = [evaluate.UNARY[op](x) for x in EDGE]  # the IR's executable semantics
    bad = [(x, w, g) for x, w, g in zip(EDGE, want, got) if not _same(w, g)]
    assert not bad, bad


def test_expm1_edges_do_not_raise(postgres: pg_cluster.PgCluster) -> None:
    xs = [-800.0, -746.0, -40.0, 0.0, -0.0, 710.0, 800.0, math.inf, -math.inf, math.nan]
    got = _select(postgres, [_unary("expm1", x) for x in xs])
    want = [-1.0, -1.0, math.expm1(-40.0), 0.0, -0.0, math.inf, math.inf, math.inf, -1.0, math.nan]
    assert all(_same(w, g) for w, g in zip(want, got)), list(zip(xs, got))


@pytest.mark.parametrize("op", ["div", "pow", "max", "min"])
def test_binary_edge_cases_are_ieee(postgres: pg_cluster.PgCluster, op: str) -> None:
    operands = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 3.0, math.inf, -math.inf, math.nan]
    pairs = [(a, b) for a in operands for b in operands]
    got = _select(postgres, [_binary(op, a, b) for a, b in pairs])
    want = [evaluate.BINARY[op](a, b) for a, b in pairs]  # the IR's executable semantics (C pow, first on ties)
    bad = [(a, b, w, g) for (a, b), w, g in zip(pairs, want, got) if not _same(w, g)]
    assert not bad, bad


def test_float32_rounding_never_raises(postgres: pg_cluster.PgCluster) -> None:
    import numpy as np

    xs = [1e-50, -1e-50, 2.0**-150, -(2.0**-150), 2.0**-149, 1e-45, 0.1, -0.0, 3.4028235677973366e38,
          3.4028235677973362e38, 1e39, -1e39, math.inf, -math.inf, math.nan]
    got = _select(postgres, [DIALECT.round_float32(DIALECT.double(x)).sql(dialect="postgres") for x in xs])
    with np.errstate(all="ignore"):
        want = [float(np.float32(x)) for x in xs]
    bad = [(x, w, g) for x, w, g in zip(xs, want, got) if not _same(w, g)]
    assert not bad, bad


def test_reject_raises_only_when_evaluated(postgres: pg_cluster.PgCluster) -> None:
    rejecting = DIALECT.reject("x too big").sql(dialect="postgres")
    query = f'SELECT CASE WHEN "x" > 1 THEN {rejecting} ELSE "x" END AS "y" FROM "t"'
    assert postgres_engine.run(query, "t", [("x", "DOUBLE")], [[0.5]]) == [{"y": 0.5}]
    with pytest.raises(psycopg.Error, match="modelgen row rejected: x too big"):
        postgres_engine.run(query, "t", [("x", "DOUBLE")], [[0.5], [2.0]])


@pytest.mark.parametrize(("dtype", "value"), [(STRING, "'churn'"), (INT, "CAST(7 AS BIGINT)"), (DOUBLE, "1.5")])
def test_typed_reject_matches_the_guarded_value_and_raises_only_when_reached(
    postgres: pg_cluster.PgCluster, dtype: DType, value: str
) -> None:
    rejected = DIALECT.typed_reject("bad row", dtype).sql(dialect="postgres")
    guarded = f"CASE WHEN {{}} THEN {rejected} ELSE {value} END"
    # the untaken reject arm type-checks beside a text / bigint / double value
    assert _select(postgres, [guarded.format("FALSE")])[0] is not None
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="modelgen row rejected: bad row"):
        _select(postgres, [guarded.format("TRUE")])
