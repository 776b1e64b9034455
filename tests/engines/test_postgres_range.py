"""PostgreSQL's guarded ``+ - * /`` (``emitters/sql/postgres_range.py``) against numpy, bit for bit.

Without the guards every underflowing/overflowing row below raises "value out of range"; with
them each result must be numpy's IEEE double exactly (signed zeros, infinities, NaN-ness)."""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Callable

import numpy as np
import psycopg
import pytest
from sqlglot import exp

from emitters.sql import postgres_range
from emitters.sql.dialects import PostgresDialect
from modelgen.engines import pg_cluster

DBL_MAX = 1.7976931348623157e308
OPS: dict[str, tuple[Callable[[exp.Expression, exp.Expression], exp.Expression], np.ufunc]] = {
    "mul": (postgres_range.mul, np.multiply),
    "div": (postgres_range.div, np.divide),
    "add": (postgres_range.add, np.add),
    "sub": (postgres_range.sub, np.subtract),
}


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _double(pattern: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", pattern))[0]


def _edge_values(rng: random.Random) -> list[float]:
    base = [0.0, 5e-324, 1e-323, 2.2250738585072009e-308, 2.2250738585072014e-308, DBL_MAX, math.inf, math.nan]
    base += [1.0, 0.5, 0.5 + 2**-53, 1 - 2**-53, 2.0, 3.0, 0.1, 1 / 3, 1.5, (2**52 + 1) / 2**52, (2**53 - 1) / 2**52]
    base += [2.0**e for e in (-1022, -538, -537, -512, -511, 511, 512, 969, 970, 1022, 1023)]
    base += [2.0**-1074 * 3, 2.0**-1074 * (2**52 - 1)]
    base += [_double(rng.getrandbits(52)) for _ in range(12)]  # subnormals
    base += [_double(rng.getrandbits(63)) for _ in range(12)]  # any finite or not
    base += [rng.uniform(0.5, 2) * 2.0 ** rng.randint(-1080, 1030) for _ in range(16)]
    by_bits = {_bits(v): v for v in base + [-v for v in base]}
    return [by_bits[k] for k in sorted(by_bits)]


def _pairs() -> list[tuple[float, float]]:
    rng = random.Random(20261121)
    values = _edge_values(rng)
    pairs = [(a, b) for a in values for b in values]
    # products and quotients whose exact value is near 2**-1075 (rounds to 0 at or below it, ties
    # to even), 2**-1074 and the overflow edge (2**1024 - 2**970): both neighbours of each target
    targets = (2.0**-1075, 2.0**-1074, 1.5 * 2.0**-1074, DBL_MAX, 2.0**1023 * 1.999)
    for _ in range(500):
        a = rng.uniform(1, 2) * 2.0 ** rng.randint(-1074, 0)
        sign = rng.choice((1.0, -1.0))
        for target in targets:
            b = target / a
            if 0 < b < math.inf:
                for c in (b, float(np.nextafter(b, 0)), float(np.nextafter(b, math.inf))):
                    pairs += [(sign * a, c), (c, -sign * a), (target * sign, c), (c * a, sign * a)]
    # sums at the overflow edge: a + b within an ulp of DBL_MAX + half an ulp
    for _ in range(300):
        a = rng.uniform(1, 2) * 2.0 ** rng.randint(1015, 1023)
        b = DBL_MAX - a + 2.0**970
        if b < math.inf:
            sign = rng.choice((1.0, -1.0))
            for c in (b, float(np.nextafter(b, 0)), float(np.nextafter(b, math.inf))):
                pairs += [(sign * a, sign * c), (sign * a, -sign * c)]
    return pairs


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or _bits(a) == _bits(b)


@pytest.mark.parametrize("op", sorted(OPS))
def test_guarded_arithmetic_is_ieee_on_edge_grids(postgres: pg_cluster.PgCluster, op: str) -> None:
    build, reference = OPS[op]
    pairs = _pairs()
    dialect = PostgresDialect()
    constants = [5e-324, -2.0**-600, 0.1, -3.0, 2.0**600, DBL_MAX]
    with psycopg.connect(postgres.conninfo, autocommit=True) as connection:
        connection.execute("CREATE TEMPORARY TABLE pairs (i BIGINT, a DOUBLE PRECISION, b DOUBLE PRECISION)")
        with connection.cursor().copy("COPY pairs FROM STDIN") as copy:
            for i, (a, b) in enumerate(pairs):
                copy.write_row((i, a, b))
        # column op column, column op constant, constant op column (constants' bits are inlined)
        columns = [build(exp.column("a"), exp.column("b"))]
        columns += [build(exp.column("a"), dialect.double(c)) for c in constants]
        columns += [build(dialect.double(c), exp.column("b")) for c in constants]
        select = ", ".join(c.sql(dialect="postgres") for c in columns)
        where = " WHERE b <> 0" if op == "div" else ""  # zero divisors: _pg_div's own arms
        with connection.cursor(binary=True) as cursor:
            cursor.execute(f"SELECT i, {select} FROM pairs{where} ORDER BY i")  # type: ignore[arg-type]
            rows = cursor.fetchall()
    assert len(rows) > 25_000
    wrong: list[str] = []
    zeros = infinities = 0
    with np.errstate(all="ignore"):
        for row in rows:
            a, b = pairs[row[0]]
            operands = [(a, b)] + [(a, c) for c in constants] + [(c, b) for c in constants]
            for got, (x, y) in zip(row[1:], operands):
                if op == "div" and y == 0:
                    continue
                want = float(reference(np.float64(x), np.float64(y)))
                zeros += want == 0 and x != 0 and (op in ("add", "sub") or y != 0)
                infinities += math.isinf(want) and math.isfinite(x) and math.isfinite(y)
                if not _same(got, want):
                    wrong.append(f"{x.hex()} {op} {y.hex()}: {got!r}, numpy {want!r}")
    assert not wrong, f"{len(wrong)} differ, e.g. {wrong[:5]}"
    # the grid really reaches the cases PostgreSQL would raise on
    assert infinities > 1000
    if op in ("mul", "div"):
        assert zeros > 1000
