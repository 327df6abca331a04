"""Column-wise parameters for the Neo4j adapter's bulk upserts, one bounded batch at a time.

The row form (``UNWIND $rows AS row``, :mod:`graph.neo4j.writes`) sends one map per row: every
property name travels once per row, the driver packs and the server decodes a map per row, and
``SET n += row`` resolves each property name per row. Here a batch is a handful of lists of the
same length (``$keys``/``$src``/``$dst`` and ``$c0``, ``$c1``, ... per property) and the statement
indexes them (``UNWIND range(0, size($keys) - 1) AS i ... SET n.name = $c0[i]``). Measured on
120,000 claims (13 properties): client CPU 1.14 s -> 0.71 s, and less for the server to decode.
``SET n.p = null`` removes ``p`` exactly as ``SET n += {p: null}`` does, so both forms write the
same graph.

Values: an Arrow column whose type already is the property's (strings, integers, floats, booleans,
dates) becomes Python values in one ``to_pylist``; anything else goes value by value through
:func:`graph.neo4j.values.to_neo4j`, as in the row form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from graph.model import Prop, node_type, rel_type
from graph.neo4j import statements as cy
from graph.neo4j.values import to_neo4j
from graph.neo4j.writes import check_node_rows, check_relationship_rows


@dataclass(frozen=True)
class ColumnBatch:
    """One write: its statement, the column lists it indexes, and how many rows they hold."""

    statement: str
    params: dict[str, list[Any]]
    size: int


_NATIVE: dict[str, Callable[[pa.DataType], bool]] = {
    "str": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "int": pa.types.is_integer,
    "float": pa.types.is_floating,
    "bool": pa.types.is_boolean,
    "date": pa.types.is_date32,
}


def column_values(prop: Prop, column: pa.Array | pa.ChunkedArray) -> list[Any]:
    """The Neo4j values of one column (nulls -> None, which removes the property)."""
    native = _NATIVE.get(prop.type)
    if native is not None and native(column.type):
        if prop.type == "float" and column.null_count < len(column):
            # NaN is "missing" in the row form too (to_neo4j): send null, not NaN
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        values: list[Any] = column.to_pylist()
        return values
    return [to_neo4j(prop, v) for v in column.to_pylist()]


def _text(column: pa.Array | pa.ChunkedArray) -> list[Any]:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values: list[Any] = column.to_pylist()
        return values
    return [str(v) for v in column.to_pylist()]


def node_column_batches(label: str, table: pa.Table, size: int) -> Iterator[ColumnBatch]:
    """``MERGE`` batches of ``size`` nodes; the table is checked whole before the first is built."""
    nt = node_type(label)
    columns = check_node_rows(label, table)
    props = [c for c in columns if c != nt.key]
    statement = cy.upsert_node_columns(label, props)
    for start in range(0, table.num_rows, size):
        part = table.slice(start, size)
        params = {"keys": column_values(nt.prop(nt.key), part.column(nt.key))}
        for i, name in enumerate(props):
            params[f"c{i}"] = column_values(nt.prop(name), part.column(name))
        yield ColumnBatch(statement, params, part.num_rows)


def unique_keys(label: str, table: pa.Table) -> bool:
    """Whether no key repeats (batches may then be written concurrently, in any order)."""
    column = table.column(node_type(label).key)
    return int(pc.count_distinct(column, mode="all").as_py()) == len(column)


def relationship_column_batches(rel: str, table: pa.Table, size: int) -> Iterator[ColumnBatch]:
    """``MERGE`` batches of ``size`` relationships, per pair of end labels."""
    rt = rel_type(rel)
    props = check_relationship_rows(rel, table)
    by_name = {p.name: p for p in rt.props}
    for start in rt.start:
        for end in rt.end:
            masks = [pc.equal(pc.cast(table.column(column), pa.string()), label)
                     for column, label in (("src_label", start), ("dst_label", end))
                     if column in table.column_names]
            part_table = table
            if masks:
                mask = masks[0] if len(masks) == 1 else pc.and_(masks[0], masks[1])
                part_table = table.filter(mask.fill_null(False))
            statement = cy.upsert_relationship_columns(rel, start, end, props)
            for offset in range(0, part_table.num_rows, size):
                part = part_table.slice(offset, size)
                params = {"src": _text(part.column("src")), "dst": _text(part.column("dst"))}
                for i, name in enumerate(props):
                    params[f"c{i}"] = column_values(by_name[name], part.column(name))
                yield ColumnBatch(statement, params, part.num_rows)
