"""A PostgreSQL cluster for the whole session: started once, stopped and deleted at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# golden_cases.py and the emitter helpers live in tests/
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelgen.engines import pg_cluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_cluster.PgCluster]:
    """The shared cluster (missing binaries fail the test with the error's message, never skip)."""
    cluster = pg_cluster.get_cluster()
    yield cluster
    pg_cluster.stop_cluster()
