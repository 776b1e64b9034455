"""Generation-only SQL dialects (``emitters/sql/generation_dialects.py``): no engine runs them
here, so every golden case must compile and parse back with sqlglot in its dialect (or be
refused at compile time, the refusals listed below so a change is noticed), and every double
literal must read back to the same bits."""

from __future__ import annotations

import logging
import math
import random
import struct

import pytest
import sqlglot
from helpers_sql import compile_query, is_float32, is_log1p_or_expm1, without_outputs
from ir_samples import arithmetic_model, categorical_model
from sqlglot import exp

from emitters.sql.dialects import DIALECTS, get_dialect
from emitters.sql.generation_dialects import GENERATION_DIALECTS
from modelgen.compiler import lower
from modelgen.errors import ModelgenError, TargetCannotExpressError
from modelgen.ir.types import DOUBLE, STRING

GENERATED = tuple(GENERATION_DIALECTS)
NO_INFINITY = ("tsql", "mysql", "redshift")

# Comparisons against +-inf (input range checks `abs(x) < inf`, `x <= inf` tree splits, the
# `x == inf` arms of log1p/expm1) are rewritten without an infinity on these three
# (emitters/sql/infinities.py), so only a model needing an infinite *value* is refused:
# isolation forest's score is 2 ** -(path / c), a pow with a variable exponent, which IEEE makes
# infinite for 0 ** negative (and 2 ** y overflows for y > 1024): not expressible with a constant
# exponent check, so refused rather than guarded per row.
_NEGATIVE_POWER = frozenset({"isolation_forest"})


def _expected_refusal(case: str, dialect: str) -> str | None:
    if dialect not in NO_INFINITY:
        return None
    if case in _NEGATIVE_POWER:
        return "pow needs a constant exponent >= 0"
    return None


TSQL_CASE_LIMIT = 10
"""SQL Server error 125: "Case expressions may only be nested to level 10"."""


def _case_nesting(tree: exp.Expression) -> int:
    """The deepest CASE-inside-CASE chain of a parsed query (iterative walk)."""
    deepest = 0
    stack: list[tuple[exp.Expression, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, exp.Case):
            depth += 1
            deepest = max(deepest, depth)
        stack.extend((child, depth) for child in node.iter_expressions())
    return deepest


def test_case_nesting_is_counted() -> None:
    nested = sqlglot.parse_one("SELECT CASE WHEN a THEN CASE WHEN b THEN 1 END ELSE CASE WHEN c THEN 2 END END")
    assert _case_nesting(nested) == 2


def test_every_generation_dialect_is_registered() -> None:
    for name, dialect in GENERATION_DIALECTS.items():
        assert DIALECTS[name] is dialect
        assert get_dialect(name).name == name


@pytest.fixture(scope="module")
def lowered() -> dict[str, object]:
    from golden_cases import golden_cases  # tests/ is on sys.path once helpers_sql is imported

    return {case.name: lower(case.model_path) for case in golden_cases()}


@pytest.mark.parametrize("dialect", GENERATED)
def test_golden_cases_parse_back_or_are_refused(dialect: str, lowered: dict[str, object]) -> None:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    refused: dict[str, str] = {}
    for name, model in lowered.items():
        expected = _expected_refusal(name, dialect)
        try:
            sql = compile_query(model, dialect, keys=())  # type: ignore[arg-type]
        except TargetCannotExpressError as error:
            refused[name] = str(error)
            assert expected is not None and expected in str(error), (name, str(error))
            assert repr(dialect) in str(error)
            continue
        assert expected is None, f"{name} was expected to be refused on {dialect}"
        parsed = sqlglot.parse_one(sql, read=dialect)  # raises ParseError on a bad query
        assert isinstance(parsed, exp.Query), name
        if dialect == "tsql":
            assert _case_nesting(parsed) <= TSQL_CASE_LIMIT, name
    wanted = {name for name in lowered if _expected_refusal(name, dialect) is not None}
    assert set(refused) == wanted


def _literal_value(text: str, dialect: str) -> float:
    """The double a literal text stands for, read through sqlglot's parse of it."""
    tree = sqlglot.parse_one(f"SELECT {text}", read=dialect)
    node = tree.expressions[0]
    negative = isinstance(node, exp.Neg)
    if negative:
        node = node.this
    if isinstance(node, exp.Column):  # Oracle's named constants
        value = {"BINARY_DOUBLE_NAN": math.nan, "BINARY_DOUBLE_INFINITY": math.inf}[node.name]
    else:
        literal = node.find(exp.Literal)
        assert literal is not None, text
        value = float(literal.this)  # Python's float() is correctly rounded and reads nan/inf
        # typed as a double: a bare number only where the dialect reads an exponent as a double
        if isinstance(node, exp.Literal):
            assert dialect in NO_INFINITY and "e" in literal.this.lower(), text
        else:
            assert isinstance(node, (exp.Cast, exp.Anonymous, exp.TryCast)), text
    return -value if negative else value


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _doubles(count: int) -> list[float]:
    rng = random.Random(20261121)
    values = [0.0, -0.0, 0.1, -0.1, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e23]
    while len(values) < count:
        value = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(value):
            values.append(value)
    return values


@pytest.mark.parametrize("dialect", GENERATED)
def test_double_literals_round_trip_bit_for_bit(dialect: str) -> None:
    generator = get_dialect(dialect)
    specials = [math.nan] + ([] if dialect in NO_INFINITY else [math.inf, -math.inf])
    for value in _doubles(2_000) + specials:
        text = generator.double(value).sql(dialect=generator.sqlglot_name)
        assert generator.double_text(value) == text
        back = _literal_value(text, dialect) if not (math.isnan(value) and dialect in NO_INFINITY) else math.nan
        if math.isnan(value):
            assert math.isnan(back), text
            if dialect in NO_INFINITY:  # NaN is NULL there
                assert text == f"CAST(NULL AS {sqlglot.exp.DataType.build(generator.double_type).sql(dialect)})"
        else:
            assert _bits(back) == _bits(value), (value, text)


@pytest.mark.parametrize("dialect", NO_INFINITY)
def test_infinity_is_refused_where_it_cannot_be_written(dialect: str) -> None:
    with pytest.raises(TargetCannotExpressError, match=f"'{dialect}' has no infinity"):
        get_dialect(dialect).double(math.inf)


@pytest.mark.parametrize("dialect", GENERATED)
def test_float32_is_refused_at_compile_time(dialect: str) -> None:
    model = without_outputs(arithmetic_model(), is_log1p_or_expm1)
    with pytest.raises(TargetCannotExpressError, match=f"{dialect} has no float32"):
        compile_query(model, dialect)


@pytest.mark.parametrize("dialect", GENERATED)
def test_ir_samples_parse_back(dialect: str) -> None:
    for model in (without_outputs(arithmetic_model(), is_float32), categorical_model()):
        try:
            sql = compile_query(model, dialect, keys=())
        except TargetCannotExpressError as error:
            assert dialect in NO_INFINITY and "has no infinity" in str(error), str(error)
            continue
        except ModelgenError as error:
            # the categorical sample's class label O'Brien"; ... names an output these engines
            # would lower-case (Trino, Redshift) or refuse (BigQuery's punctuation): emitters/sql/names.py
            assert dialect in ("bigquery", "trino", "redshift") and "output name" in str(error), str(error)
            continue
        sqlglot.parse_one(sql, read=dialect)


def test_doubles_are_never_decimal_literals() -> None:
    # PostgreSQL-like engines read 0.1 as NUMERIC and Oracle's DOUBLE PRECISION is decimal:
    # each dialect's literal names its binary double type or is an exponent literal
    expected = {
        "bigquery": "CAST('0.1' AS FLOAT64)",
        "snowflake": "CAST('0.1' AS DOUBLE)",
        "tsql": "0.1e0",
        "mysql": "0.1e0",
        "trino": "CAST('0.1' AS DOUBLE)",
        "redshift": "CAST('0.1' AS DOUBLE PRECISION)",
        "oracle": "TO_BINARY_DOUBLE('0.1')",
    }
    assert {name: get_dialect(name).double_text(0.1) for name in GENERATED} == expected


@pytest.mark.parametrize("dialect", GENERATED)
def test_rejections_name_the_row_and_fit_beside_a_label(dialect: str) -> None:
    generator = get_dialect(dialect)
    for dtype in (DOUBLE, STRING):
        text = generator.typed_reject("bad row", dtype).sql(dialect=generator.sqlglot_name)
        assert "'modelgen row rejected: bad row'" in text
        outer = sqlglot.parse_one(f"SELECT {text}", read=dialect).expressions[0]
        if dtype is STRING and dialect in ("snowflake", "redshift", "tsql"):
            # a double-typed arm beside a label would convert the label (or fail to unify)
            assert isinstance(outer, exp.Cast) and outer.to.is_type(*exp.DataType.TEXT_TYPES), text
        if dtype is STRING and dialect == "oracle":
            assert isinstance(outer, exp.ToChar), text
