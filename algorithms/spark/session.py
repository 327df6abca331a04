"""The Spark session of the detection job.

One session per process (Spark allows one SparkContext): :func:`spark_session` builds it on first
use with the job's settings and returns the same one afterwards. Defaults suit one machine —
``local[2]``, 4 shuffle partitions (Spark's 200 would turn every small join into 200 tasks), the
web UI off, Arrow for pandas transfers; on a cluster ``spark-submit`` sets master and memory and
these defaults yield to it (``docs/operations.md``).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

_LOCK = threading.Lock()


def spark_session(master: str | None = None, *, shuffle_partitions: int = 4,
                  driver_memory: str | None = None) -> SparkSession:
    """The process's Spark session (created on first call; later calls return it unchanged)."""
    with _LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        # Under spark-submit (which starts the JVM and hands its port to Python) the launcher's
        # settings — master, memory, partitions — are in the JVM's SparkConf: the defaults below
        # only fill what it left unset; a master passed here wins. Elsewhere nothing is set yet.
        if "PYSPARK_GATEWAY_PORT" in os.environ:
            SparkContext._ensure_initialized()
        given = SparkConf()
        builder: Any = SparkSession.builder.appName("medfraud-detect")
        if master or not given.contains("spark.master"):
            builder = builder.master(master or "local[2]")
        conf = {
            "spark.sql.shuffle.partitions": str(shuffle_partitions),
            "spark.default.parallelism": str(shuffle_partitions),
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
            # DuckDB's semantics where Spark's defaults differ: NULL for a bad cast, not an error
            # under ANSI mode; the detectors' casts are of clean, validated columns anyway.
            "spark.sql.ansi.enabled": "false",
            "spark.sql.adaptive.enabled": "true",
        }
        if driver_memory:
            conf["spark.driver.memory"] = driver_memory
        for key, value in conf.items():
            if not given.contains(key):
                builder = builder.config(key, value)
        session: SparkSession = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session
