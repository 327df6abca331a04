"""The Spark session of the detection job.

One session per process (Spark allows one SparkContext): :func:`spark_session` builds it on first
use with the job's settings and returns the same one afterwards. Defaults suit one machine —
``local[2]``, 4 shuffle partitions (Spark's 200 would turn every small join into 200 tasks), the
web UI off, Arrow for pandas transfers; on a cluster ``spark-submit`` sets master and memory and
these defaults yield to it (``docs/operations.md``).
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Any

from pyspark.sql import SparkSession

_LOCK = threading.Lock()


def spark_session(master: str | None = None, *, shuffle_partitions: int = 4,
                  driver_memory: str | None = None) -> SparkSession:
    """The process's Spark session (created on first call; later calls return it unchanged)."""
    with _LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        builder: Any = SparkSession.builder.appName("medfraud-detect")
        if master or not os.environ.get("SPARK_MASTER"):
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
            "spark.local.dir": os.environ.get("MEDFRAUD_SPARK_LOCAL_DIR", tempfile.gettempdir()),
        }
        if driver_memory:
            conf["spark.driver.memory"] = driver_memory
        for key, value in conf.items():
            builder = builder.config(key, value)
        session: SparkSession = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session
