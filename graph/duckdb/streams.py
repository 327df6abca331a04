"""Whole labels and relationship types as Arrow batches: the SQL, and the reader of a snapshot."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import duckdb
import pyarrow as pa

from graph.duckdb import writes
from graph.duckdb.schema import REL_ENDPOINT_COLUMNS, node_table, quote, rel_table
from graph.errors import StoreUnavailable
from graph.model import node_type, rel_type


def nodes_sql(label: str, columns: Sequence[str] | None) -> str:
    nt = node_type(label)
    cols = list(columns) if columns else list(nt.prop_names)
    for c in cols:
        nt.prop(c)
    return f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(node_table(label))}"


def relationships_sql(rel_type_: str, columns: Sequence[str] | None) -> str:
    rt = rel_type(rel_type_)
    cols = list(columns) if columns else [*REL_ENDPOINT_COLUMNS, *rt.prop_names]
    writes.check_rel_columns(rt, [*cols, *(c for c in ("src", "dst") if c not in cols)])
    return f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(rel_table(rt.type))}"


class SnapshotCursor:
    """The streams of one open read transaction (see :meth:`DuckDBStore.snapshot`)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self._cur = cur

    def _stream(self, sql: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        return stream(self._cur, sql, batch_size)

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self._stream(nodes_sql(label, columns), batch_size)

    def stream_relationships(self, rel_type: str, columns: Sequence[str] | None = None, *,
                             batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self._stream(relationships_sql(rel_type, columns), batch_size)


def stream(cur: duckdb.DuckDBPyConnection, sql: str, batch_size: int) -> Iterator[pa.RecordBatch]:
    """The answer of ``sql`` batch by batch, DuckDB's errors as the store's."""
    try:
        yield from cur.sql(sql).to_arrow_reader(batch_size)
    except duckdb.Error as exc:
        raise StoreUnavailable(f"the store failed while streaming: {exc}") from exc
