"""Value conversion between model property types, Python, Neo4j and Arrow.

The model's property types decide the conversion, never the value found: a ``date`` column
becomes a Neo4j ``Date`` whether it arrived as ``datetime.date``, a pandas ``Timestamp`` or the
text ``"2025-03-01"``; ``json`` properties are stored as text (Neo4j has no map-typed property);
``str_list`` as a list of strings. Missing values (None, NaN, NaT, pandas NA) become ``None``,
which ``SET n += row`` turns into "property absent".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from neo4j.graph import Node as Neo4jNode
from neo4j.graph import Path as Neo4jPath
from neo4j.graph import Relationship as Neo4jRelationship
from neo4j.time import Date as Neo4jDate
from neo4j.time import DateTime as Neo4jDateTime
from neo4j.time import Duration as Neo4jDuration
from neo4j.time import Time as Neo4jTime

from graph.errors import SchemaError
from graph.model import Prop, PropType
from graph.port import Rows
from graph.records import boolean, str_list


def is_missing(value: object) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, Neo4jDate):
        return value.to_native()
    if isinstance(value, str):
        return date.fromisoformat(value.strip()[:10])
    raise ValueError(f"not a date: {value!r}")


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime):
        return value
    if isinstance(value, Neo4jDateTime):
        return value.to_native()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        return datetime.fromisoformat(value.strip())
    raise ValueError(f"not a datetime: {value!r}")


def _to_json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


_TO_NEO4J: dict[PropType, Callable[[Any], Any]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "json": _to_json_text,
    "str_list": str_list,
}


def to_neo4j(prop: Prop, value: Any) -> Any:
    """A Python/pandas value as the Neo4j value stored for this property."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()  # str_list cells read from Parquet
    if not isinstance(value, list | tuple) and is_missing(value):
        return None
    try:
        return _TO_NEO4J[prop.type](value)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"property {prop.name} ({prop.type}): cannot store {value!r}: {exc}") from exc


def rows_as_columns(rows: Rows) -> tuple[list[str], dict[str, list[Any]]]:
    """Column names and plain Python values per column of a DataFrame or Arrow table."""
    if isinstance(rows, pa.Table):
        return list(rows.column_names), {c: rows.column(c).to_pylist() for c in rows.column_names}
    cols = [str(c) for c in rows.columns]
    return cols, {str(c): rows[c].astype(object).tolist() for c in rows.columns}


def from_neo4j(value: Any) -> Any:
    """A value read from Neo4j as plain Python (temporal types native, graph types as maps)."""
    if isinstance(value, Neo4jDate | Neo4jDateTime | Neo4jTime):
        return value.to_native()
    if isinstance(value, Neo4jDuration):
        return str(value)
    if isinstance(value, Neo4jNode):
        return {
            "labels": sorted(value.labels),
            "properties": {k: from_neo4j(v) for k, v in value.items()},
        }
    if isinstance(value, Neo4jRelationship):
        return {
            "type": value.type,
            "start": from_neo4j(value.start_node) if value.start_node is not None else None,
            "end": from_neo4j(value.end_node) if value.end_node is not None else None,
            "properties": {k: from_neo4j(v) for k, v in value.items()},
        }
    if isinstance(value, Neo4jPath):
        return {
            "nodes": [from_neo4j(n) for n in value.nodes],
            "relationships": [from_neo4j(r) for r in value.relationships],
        }
    if isinstance(value, list):
        return [from_neo4j(v) for v in value]
    if isinstance(value, dict):
        return {k: from_neo4j(v) for k, v in value.items()}
    return value


def props_from_neo4j(props: dict[str, Any]) -> dict[str, Any]:
    """Node/relationship properties as Python values; JSON text stays text (as in both stores)."""
    return {name: from_neo4j(value) for name, value in props.items()}


_ARROW_TYPES: dict[PropType, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),  # naive UTC, as the embedded store's TIMESTAMP columns
    "json": pa.string(),
    "str_list": pa.list_(pa.string()),
}


def arrow_type(prop: Prop) -> pa.DataType:
    return _ARROW_TYPES[prop.type]


def _arrow_value(prop: Prop, value: Any) -> Any:
    value = from_neo4j(value)
    if value is None:
        return None
    if prop.type == "datetime":
        dt = _to_datetime(value)
        return dt if dt.tzinfo is None else dt.astimezone(UTC).replace(tzinfo=None)
    if prop.type == "json":
        return _to_json_text(value)
    return value


def arrow_column(prop: Prop, values: Sequence[Any]) -> pa.Array:
    """One streamed column as Arrow; dates arrive as ISO text (see ``stream_nodes_page``)."""
    if prop.type == "date":
        return pa.array(values, type=pa.string()).cast(pa.date32())
    if prop.type in ("str", "int", "float", "bool", "json"):
        try:
            return pa.array(values, type=_ARROW_TYPES[prop.type])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass  # a value of another type written by hand: convert one by one below
    return pa.array([_arrow_value(prop, v) for v in values], type=arrow_type(prop))


def arrow_batch(columns: Sequence[tuple[str, pa.DataType, Prop | None]],
                values: dict[str, Iterable[Any]]) -> pa.RecordBatch:
    """A record batch with the model's types (a column without a model prop is text)."""
    arrays = []
    for name, typ, prop in columns:
        vals = values[name]
        cells = [_arrow_value(prop, v) for v in vals] if prop is not None else list(vals)
        arrays.append(pa.array(cells, type=typ))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([(n, t) for n, t, _ in columns]))
