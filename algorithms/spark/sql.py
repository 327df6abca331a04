"""The detectors' SQL on Spark: :class:`SparkConnection`, an :class:`algorithms.sql_engine.SqlConnection`.

Each statement the detectors send (DuckDB SQL, ``$name`` parameters) is bound — parameters become
literals — and transpiled to Spark SQL with sqlglot. ``CREATE [OR REPLACE] TEMP TABLE x AS q``
becomes the DataFrame of ``q``, checkpointed (materialised, lineage cut: the collusion check
re-reads its tables in several passes) and bound to ``x`` as a temp view; ``CREATE TEMP VIEW``
stays lazy. Every connection works in its own Spark session (``newSession``: one SparkContext,
separate temp views), so two detectors' ``claims`` never meet.

Results reach the detectors' Python code as DuckDB hands them: dates as ``datetime64``, decimals
(Spark types literals like ``0.5`` as DECIMAL) as floats.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import DateType, DecimalType
from sqlglot import exp

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def literal(value: object) -> str:
    """A Python value as a SQL literal both dialects read the same way."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A double, not a DECIMAL: the projections multiply medians by these factors.
        return f"CAST({value!r} AS DOUBLE)"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for a parameter of type {type(value).__name__}")


def bind(query: str, parameters: object) -> str:
    """Replace ``$name`` parameters by literals (the detectors pass small scalars only)."""
    if parameters is None:
        return query
    if not isinstance(parameters, dict):
        raise TypeError("the Spark engine takes named ($name) parameters only")
    values: dict[str, object] = parameters

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise KeyError(f"parameter ${name} has no value")
        return literal(values[name])

    return _PARAM.sub(sub, query)


def _ordered_lists(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``list([DISTINCT] x [ORDER BY x])`` as Spark's ``[array_sort](collect_set|list(x))``.

    sqlglot drops the ORDER BY and keeps DISTINCT inside ``collect_list``, which Spark refuses. The
    detectors order a list by its element (or a struct's fields in order), ascending: exactly
    ``array_sort``; any other order is refused rather than silently changed.
    """
    if not isinstance(node, exp.ArrayAgg):
        return node
    inner = node.this
    order: exp.Order | None = None
    if isinstance(inner, exp.Order):
        order, inner = inner, inner.this
    distinct = isinstance(inner, exp.Distinct)
    value = inner.expressions[0] if isinstance(inner, exp.Distinct) else inner
    collected: exp.Expression = exp.Anonymous(
        this="COLLECT_SET" if distinct else "COLLECT_LIST", expressions=[value.copy()]
    )
    if order is not None:
        if any(o.args.get("desc") for o in order.expressions):
            raise ValueError(f"no Spark form for a descending list(): {node.sql('duckdb')}")
        collected = exp.Anonymous(this="ARRAY_SORT", expressions=[collected])
    return collected


def _row_values(value: Any) -> Any:
    """Spark's nested Rows as DuckDB hands structs and lists to Python: dicts and lists."""
    if isinstance(value, Row):
        return {k: _row_values(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_row_values(v) for v in value]
    return value


def to_spark_sql(query: str) -> str:
    """DuckDB SQL (parameters bound) as Spark SQL."""
    tree = sqlglot.parse_one(query, read="duckdb").transform(_ordered_lists)
    return tree.sql(dialect="spark")


class SparkResult:
    """A statement's result, computed when read."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame

    def df(self) -> pd.DataFrame:
        out = self.frame.toPandas()
        for field in self.frame.schema.fields:
            if isinstance(field.dataType, DateType):
                out[field.name] = pd.to_datetime(out[field.name])
            elif isinstance(field.dataType, DecimalType):
                out[field.name] = out[field.name].astype("float64")
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(_row_values(v) for v in row) for row in self.frame.collect()]


def _arrow(frame: object) -> pa.Table:
    if isinstance(frame, pa.Table):
        table = frame
    elif isinstance(frame, pd.DataFrame):
        table = pa.Table.from_pandas(frame, preserve_index=False)
    else:
        raise TypeError(f"cannot register a {type(frame).__name__} with Spark")
    # Spark has no null type nor large strings; an all-null optional column is a string column.
    fields = []
    for f in table.schema:
        if pa.types.is_null(f.type) or pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type):
            fields.append(pa.field(f.name, pa.string()))
        elif pa.types.is_dictionary(f.type):
            fields.append(pa.field(f.name, f.type.value_type))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields))


def spark_frame(spark: SparkSession, frame: object, folder: Path) -> DataFrame:
    """A pandas frame or Arrow table as a Spark DataFrame (a Spark DataFrame as it is).

    Written as Parquet into ``folder`` and read back: the Arrow types travel unchanged (pyspark
    3.5's pandas conversion does not read pandas 3's Arrow-backed columns), and a large input is
    not pushed through the driver's socket row by row.
    """
    if isinstance(frame, DataFrame):
        return frame
    table = _arrow(frame)
    if table.num_rows == 0:
        return spark.createDataFrame([], from_arrow_schema(table.schema))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.parquet"
    pq.write_table(table, path)
    return spark.read.parquet(str(path))


class SparkConnection:
    """The detectors' SQL connection over a Spark session (see the module docstring)."""

    def __init__(self, spark: SparkSession, scratch: Path | None = None) -> None:
        self.spark = spark.newSession()
        self._held: list[DataFrame] = []
        self._global: list[str] = []
        self._scratch = Path(tempfile.mkdtemp(prefix="medfraud-spark-", dir=scratch))

    def register(self, view_name: str, python_object: object) -> object:
        frame = spark_frame(self.spark, python_object, self._scratch)
        if frame.sparkSession is not self.spark:
            # A frame of another session (the job's inputs): temp views are per session, so it
            # reaches this one through a global temp view, dropped on close.
            shared = f"medfraud_{uuid.uuid4().hex}"
            frame.createGlobalTempView(shared)
            self._global.append(shared)
            frame = self.spark.table(f"global_temp.{shared}")
        frame.createOrReplaceTempView(view_name)
        return frame

    def table(self, table_name: str) -> object:
        return self.spark.table(table_name)

    def execute(self, query: str, parameters: object = None) -> SparkResult:
        bound = bind(query, parameters)
        tree = sqlglot.parse_one(bound, read="duckdb").transform(_ordered_lists)
        if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW"):
            name = tree.this.name
            body = tree.expression
            frame = self.spark.sql(body.sql(dialect="spark"))
            if tree.kind == "TABLE":
                frame = frame.localCheckpoint(eager=True)
                self._held.append(frame)
            frame.createOrReplaceTempView(name)
            return SparkResult(frame)
        return SparkResult(self.spark.sql(tree.sql(dialect="spark")))

    def close(self) -> None:
        for frame in self._held:
            frame.unpersist()
        self._held.clear()
        for t in self.spark.catalog.listTables():
            if t.isTemporary:
                self.spark.catalog.dropTempView(t.name)
        for shared in self._global:
            self.spark.catalog.dropGlobalTempView(shared)
        self._global.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)
