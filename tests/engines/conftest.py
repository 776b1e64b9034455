"""A PostgreSQL cluster for the whole session: started once, stopped and deleted at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# golden_cases.py and the emitter helpers live in tests/
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelgen.engines import pg_cluster, spark_engine


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_cluster.PgCluster]:
    """The shared cluster (missing binaries fail the test with the error's message, never skip)."""
    cluster = pg_cluster.get_cluster()
    yield cluster
    pg_cluster.stop_cluster()


@pytest.fixture(scope="module")
def spark() -> Any:
    """The process's Spark session (a missing pyspark/java fails the test with the message, never skips)."""
    return spark_engine.get_session()


@pytest.fixture(params=["ansi", "no-ansi"])
def ansi(request: pytest.FixtureRequest, spark: Any) -> Iterator[str]:
    """Run a test under Spark 4's default (ANSI on: x/0 and element_at out of range raise) and
    again with ANSI off."""
    spark.conf.set("spark.sql.ansi.enabled", "true" if request.param == "ansi" else "false")
    yield request.param
    spark.conf.unset("spark.sql.ansi.enabled")
