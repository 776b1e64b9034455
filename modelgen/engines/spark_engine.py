"""Apache Spark (pyspark, local mode): one SparkSession per process, a temporary view per call.

The session starts on first use (~10 s: a JVM), with Spark 4's defaults for SQL semantics
(ANSI mode on) and only the plumbing changed: ``local[2]``, no UI, 2 shuffle partitions, logging
off. Rows become a DataFrame with an explicit schema (DOUBLE, STRING, BIGINT): Python floats
travel pickled as their 8 bytes, so every bit (-0.0, subnormals, +-inf) arrives, and come back
the same way. Missing numbers are ``None`` (NULL).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import warnings
from typing import Any

from modelgen.errors import ModelgenError

_SESSION: Any = None
_LOCK = threading.Lock()

SPARK_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # its progress bar would garble verify's stderr
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    # local mode's default 1 GB heap runs out compiling a 1,000-tree ensemble (rf1000: 34 MB of
    # query, OutOfMemoryError in Janino); read only when the JVM starts
    "spark.driver.memory": "4g",
    # Spark generates code for a projection by recursing over its expression, and its optimizer
    # merges the query's layers back into one deep expression (a 485-node chain overflowed the
    # default thread stack about one run in three): deep stacks for the driver's threads
    "spark.driver.extraJavaOptions": "-Xss64m",
}
"""Local-mode plumbing only: nothing here changes what a query computes."""


def get_session() -> Any:
    """The process's SparkSession, started on first call; a ModelgenError when pyspark or java is missing."""
    global _SESSION
    with _LOCK:
        if _SESSION is None:
            _SESSION = _start()
        return _SESSION


def _start() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyspark warns about the pandas version on import
            from pyspark.sql import SparkSession
    except ImportError as error:
        raise ModelgenError(
            f"the Spark engine needs pyspark (pip install -e '.[test]' or pip install pyspark): {error}"
        ) from None
    if shutil.which("java") is None:
        raise ModelgenError(
            "the Spark engine needs a Java 17+ runtime on PATH (Debian: apt-get install default-jdk-headless)"
        )
    # the Python workers (run_each's row source) run this interpreter, not whatever python3 is
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master("local[2]").appName("modelgen")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: say so, not a py4j traceback
        raise ModelgenError(f"could not start a local Spark session: {type(error).__name__}: {error}") from None
    # ERROR would still print every failing query (row rejections are failing queries)
    session.sparkContext.setLogLevel("OFF")
    return session


def _spark_type(name: str) -> Any:
    from pyspark.sql import types

    spark_types = {"DOUBLE": types.DoubleType(), "STRING": types.StringType(), "BIGINT": types.LongType(),
                   "VARCHAR": types.StringType()}
    if name not in spark_types:
        raise ModelgenError(f"the Spark engine has no column type {name!r}")
    return spark_types[name]


def run(query: str, table: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Create temporary view ``table`` with ``columns`` (name, SQL type), holding ``rows``; return ``query``'s rows."""
    from pyspark.sql.types import StructField, StructType

    session = get_session()
    schema = StructType([StructField(name, _spark_type(kind), nullable=True) for name, kind in columns])
    frame = session.createDataFrame([tuple(row) for row in rows], schema=schema, verifySchema=True)
    frame.createOrReplaceTempView(table)
    try:
        result = session.sql(query)
        return [row.asDict() for row in result.collect()]
    finally:
        session.catalog.dropTempView(table)


def _read_rows_file(path: str) -> list[tuple[Any, ...]]:
    # runs in a Python worker each time the planned query executes: the rows of the current run
    import pickle

    with open(path, "rb") as handle:
        return list(pickle.load(handle))


def run_each(
    query: str, table: str, columns: list[tuple[str, str]], row_sets: list[list[list[Any]]]
) -> list[list[dict[str, Any]] | Exception]:
    """Run ``query`` once per row set, planning it only once: per set, its rows or the exception.

    Planning a large query (tree ensembles: ~0.5 MB of nested CASEs) costs Spark several seconds;
    checking rows one query each (refused rows) would plan it again for every row. Here ``table``
    is a view over rows read from a file at *execution* time, so one planned DataFrame is
    executed once per row set with that set's rows: each set is still its own query run.
    """
    import pickle
    import tempfile

    from pyspark.sql.types import StructField, StructType

    session = get_session()
    schema = StructType([StructField(name, _spark_type(kind), nullable=True) for name, kind in columns])
    results: list[list[dict[str, Any]] | Exception] = []
    with tempfile.TemporaryDirectory(prefix="modelgen-spark-") as directory:
        path = os.path.join(directory, "rows.pickle")
        source = session.sparkContext.parallelize([path], 1).flatMap(_read_rows_file)
        session.createDataFrame(source, schema=schema).createOrReplaceTempView(table)
        try:
            planned = session.sql(query)
            for rows in row_sets:
                with open(path, "wb") as handle:
                    pickle.dump([tuple(row) for row in rows], handle)
                try:
                    results.append([row.asDict() for row in planned.collect()])
                except Exception as error:  # a rejected row: the query failed
                    results.append(error)
        finally:
            session.catalog.dropTempView(table)
    return results
