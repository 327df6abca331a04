"""The embedded store: one DuckDB file holding the property graph in typed tables.

Concurrency model (see docs/operations.md): one process owns the file read-write — the API server,
which also runs scheduled detection in-process, or a CLI command when no server runs. DuckDB's
file lock refuses a second writer; we turn that into :class:`StoreUnavailable` saying what to do.
Inside the process one ``DuckDBStore`` is shared by all threads: reads use a cursor per thread;
writes go through :mod:`graph.duckdb.transactions` (one writer at a time, a whole ingest one
transaction). Indexes are plain ART indexes on node keys and relationship ends, dropped for bulk
loads and built when first needed (:mod:`graph.duckdb.indexes`). Nothing here caches for the API:
that is :mod:`graph.serving`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from graph.duckdb import indexes as table_indexes
from graph.duckdb import listing as listing_sql
from graph.duckdb import reads, writes
from graph.duckdb.indexes import TableIndexes
from graph.duckdb.readquery import ANALYST_CATALOG, AnalystView, run_read_query
from graph.duckdb.schema import (
    missing_columns_ddl,
    node_table,
    quote,
    rel_table,
    schema_ddl,
)
from graph.duckdb.streams import SnapshotCursor, nodes_sql, relationships_sql, stream
from graph.duckdb.transactions import Transactions
from graph.errors import MedfraudError, StoreUnavailable
from graph.listing import Listing, Page, check_listing, page_of
from graph.model import NODE_TYPES, REL_TYPES, Node, NodeRef, node_type, rel_type
from graph.port import Direction, Expansion, GraphStore, QueryResult, Rows, SnapshotReader
from graph.settings import Settings
from graph.writesteps import (
    ReplaceRelationships,
    UpsertNodes,
    UpsertRelationships,
    WriteStep,
    check_steps,
)

log = logging.getLogger("medfraud.store")

# below this many rows a table is scanned rather than probed with a long IN-list (see duckdb_reads)
SMALL_TABLE_ROWS = 50_000

_SINGLE_OWNER = (
    "medfraud lets one process own the DuckDB file: the API server owns it and runs detection "
    "in-process. Stop the server before running this command, or ask the server to do the work "
    "(e.g. the API's runDetection) instead."
)


class DuckDBStore(GraphStore):
    kind = "duckdb"
    query_language = "sql"
    atomic_loads = True

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False,
                 memory_limit: str | None = None, threads: int = 0,
                 query_timeout_s: float = 30.0, read_query_row_limit: int = 1_000) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.query_timeout_s = query_timeout_s
        self.read_query_row_limit = read_query_row_limit
        config: dict[str, Any] = {"enable_external_access": False}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreUnavailable(
                    f"the store file {self.path} is in use by another process ({exc}). {_SINGLE_OWNER}"
                ) from exc
            raise StoreUnavailable(f"cannot open the store file {self.path}: {exc}") from exc
        except duckdb.Error as exc:
            raise StoreUnavailable(f"cannot open the store file {self.path}: {exc}") from exc
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._indexes = TableIndexes(self._con, self._write_lock, read_only=read_only)
        self._small: frozenset[str] | None = None
        self._closed = False
        self._tx = Transactions(self._con, self._write_lock, writable=not read_only, path=self.path,
                                on_end=self._forget_table_sizes)
        self._analyst_view = AnalystView(None if self.path == ":memory:" else self.path,
                                         memory_limit=memory_limit)

    @classmethod
    def from_settings(cls, settings: Settings, read_only: bool = False) -> DuckDBStore:
        return cls(settings.duckdb_path, read_only=read_only, memory_limit=settings.duckdb_memory_limit,
                   threads=settings.duckdb_threads, query_timeout_s=settings.query_timeout_s,
                   read_query_row_limit=settings.read_query_row_limit)

    # -- connections -----------------------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor: DuckDB connections are not safe to share between threads."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cur = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def load_transaction(self) -> contextlib.AbstractContextManager[None]:
        """This thread's writes until the block ends are one transaction (see the port).

        DuckDB keeps the uncommitted rows of a large load in its own storage (spilling to disk
        under its memory limit), so a whole city fits one transaction; an out-of-memory error
        anywhere, or any exception, rolls all of it back.
        """
        return self._tx.load()

    def revisions(self) -> dict[str, str]:
        return self._tx.revisions()

    def _forget_table_sizes(self) -> None:
        self._small = None

    def _small_tables(self) -> frozenset[str]:
        small = self._small
        if small is None:
            rows = self._cursor().execute(
                "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main'"
            ).fetchall()
            small = frozenset(t for t, n in rows if n is not None and n < SMALL_TABLE_ROWS)
            self._small = small
        return small

    # -- schema and indexes ----------------------------------------------------------------
    def apply_schema(self) -> None:
        self._tx.check_writable()
        with self._write_lock:
            cur = self._cursor()
            for stmt in schema_ddl():
                cur.execute(stmt)
            existing: dict[str, set[str]] = {}
            for table, column in cur.execute(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'"
            ).fetchall():
                existing.setdefault(table, set()).add(column)
            for stmt in missing_columns_ddl(existing):
                cur.execute(stmt)

    def ensure_indexes(self, tables: Sequence[str] | None = None) -> None:
        """Build the missing indexes of ``tables`` (default: every table) — one-off after a bulk load."""
        self._indexes.ensure(tables)

    def index_names(self) -> list[str]:
        """Indexes present now (for tests and the bench)."""
        return self._indexes.names(self._cursor())

    # -- writes ----------------------------------------------------------------------------
    def upsert_nodes(self, label: str, rows: Rows, *, batch_size: int | None = None) -> int:
        nt = node_type(label)
        table = writes.to_arrow(rows, nt.props, f"{label} rows")
        writes.check_node_columns(nt, table.column_names)
        total = 0
        for batch in writes.batches(table, batch_size):
            total += self._tx.run(self._upsert_nodes_tx, nt.label, batch)
        return total

    def _upsert_nodes_tx(self, cur: duckdb.DuckDBPyConnection, label: str, table: pa.Table) -> int:
        self._tx.touched(label)
        if table.num_rows >= table_indexes.BULK_ROWS:
            self._indexes.drop(cur, node_table(label))
        return writes.upsert_nodes_batch(cur, node_type(label), table)

    def upsert_relationships(self, rel_type_: str, rows: Rows, *, batch_size: int | None = None) -> int:
        rt = rel_type(rel_type_)
        table = writes.to_arrow(rows, rt.props, f"{rt.type} rows")
        writes.check_rel_columns(rt, table.column_names)
        total = 0
        for batch in writes.batches(table, batch_size):
            total += self._tx.run(self._upsert_rels_tx, rt.type, batch)
        return total

    def _upsert_rels_tx(self, cur: duckdb.DuckDBPyConnection, type_: str, table: pa.Table) -> int:
        if table.num_rows >= table_indexes.BULK_ROWS:
            self._indexes.drop(cur, rel_table(type_))
        self._tx.touched(type_)
        return writes.upsert_relationships_batch(cur, rel_type(type_), table)

    def replace_relationships(self, rel_type_: str, sources: Sequence[str] | pa.Array | pa.ChunkedArray,
                              rows: Rows) -> int:
        rt = rel_type(rel_type_)
        starts = writes.source_keys(rt, sources)
        table = writes.to_arrow(rows, rt.props, f"{rt.type} rows")
        if table.num_columns:
            writes.check_rel_columns(rt, table.column_names)
        return int(self._tx.run(self._replace_rels_tx, rt.type, starts, table))

    def _replace_rels_tx(self, cur: duckdb.DuckDBPyConnection, type_: str, starts: pa.Table,
                         table: pa.Table) -> int:
        rt = rel_type(type_)
        if writes.delete_unnamed_relationships(cur, rt, starts, table):
            self._tx.touched(type_)
        return self._upsert_rels_tx(cur, type_, table) if table.num_rows else 0

    def delete_nodes(self, label: str, keys: Sequence[str]) -> int:
        nt = node_type(label)
        key_table = pa.table({"k": pa.array([str(k) for k in keys], pa.string())})
        if key_table.num_rows == 0:
            return 0
        return int(self._tx.run(self._delete_nodes_tx, nt.label, key_table))

    def _delete_nodes_tx(self, cur: duckdb.DuckDBPyConnection, label: str, key_table: pa.Table) -> int:
        nt = node_type(label)
        self._tx.touched(label)
        view = "__delete_keys"
        cur.register(view, key_table)
        try:
            for rt in REL_TYPES:
                for end, allowed in (("src", rt.start), ("dst", rt.end)):
                    if label in allowed:
                        cur.execute(
                            f"DELETE FROM {quote(rel_table(rt.type))} WHERE {end}_label = ? "
                            f"AND {end} IN (SELECT k FROM {view})", [label])
            rows = cur.execute(
                f"DELETE FROM {quote(node_table(label))} WHERE {quote(nt.key)} IN (SELECT k FROM {view})"
            ).fetchall()
            return int(rows[0][0]) if rows else 0
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.unregister(view)

    def _delete_all_of_label(self, cur: duckdb.DuckDBPyConnection, label: str) -> None:
        self._tx.touched(label)
        for rt in REL_TYPES:
            for end, allowed in (("src", rt.start), ("dst", rt.end)):
                if label in allowed:
                    cur.execute(f"DELETE FROM {quote(rel_table(rt.type))} WHERE {end}_label = ?", [label])
        cur.execute(f"DELETE FROM {quote(node_table(label))}")

    def write_steps(self, steps: Sequence[WriteStep]) -> None:
        check_steps(steps)
        # to Arrow with the model's types before the write lock is taken
        prepared = [writes.prepared_step(step) for step in steps]
        self._tx.run(self._write_steps_tx, prepared)

    def _write_steps_tx(self, cur: duckdb.DuckDBPyConnection, steps: list[WriteStep]) -> None:
        for step in steps:
            if isinstance(step, UpsertNodes):
                self._upsert_nodes_tx(cur, step.label, step.rows)
            elif isinstance(step, UpsertRelationships):
                self._upsert_rels_tx(cur, step.rel_type, step.rows)
            elif isinstance(step, ReplaceRelationships):
                starts = writes.source_keys(rel_type(step.rel_type), step.sources)
                self._replace_rels_tx(cur, step.rel_type, starts, step.rows)
            else:
                self._delete_all_of_label(cur, step.label)

    # -- reads -----------------------------------------------------------------------------
    def _read(self, work: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return work(self._cursor(), *args, **kwargs)
        except MedfraudError:
            raise
        except duckdb.Error as exc:
            raise StoreUnavailable(f"the store failed to answer: {exc}") from exc

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]:
        node_type(label)
        self.ensure_indexes([node_table(label)])
        result: list[Node] = self._read(reads.get_nodes, label, keys, self._small_tables())
        return result

    def list_nodes(self, listing: Listing) -> Page:
        check_listing(listing)
        nodes, total = self._read(listing_sql.list_nodes, listing)
        return page_of(listing, nodes, total)

    def neighbours(
        self,
        seeds: Sequence[NodeRef],
        *,
        rel_types: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
        cap: int = 100,
        direction: Direction = "both",
    ) -> Expansion:
        if not seeds:
            return Expansion()
        tables = reads.tables_for(seeds, rel_types)
        self.ensure_indexes([*tables, *(node_table(n.label) for n in NODE_TYPES)])
        result: Expansion = self._read(reads.neighbours, seeds, rel_types=rel_types, labels=labels,
                                       since=since, until=until, cap=cap, direction=direction,
                                       small=self._small_tables())
        return result

    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]:
        self.ensure_indexes(reads.tables_for(refs, rel_types))
        result: dict[NodeRef, int] = self._read(reads.degrees, refs, rel_types, self._small_tables())
        return result

    def search(self, text: str, *, labels: Sequence[str] | None = None, limit: int = 20) -> list[Node]:
        result: list[Node] = self._read(reads.search, text, labels, limit, self._small_tables())
        return result

    @property
    def location(self) -> str:
        return self.path

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[SnapshotReader]:
        """Streams read in one transaction: every table as of the same commit."""
        cur = self._con.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            yield SnapshotCursor(cur)
        except duckdb.Error as exc:
            raise StoreUnavailable(f"the store failed while reading a snapshot: {exc}") from exc
        finally:
            with contextlib.suppress(duckdb.Error):  # read only: nothing to keep
                cur.execute("ROLLBACK")
            cur.close()

    def _stream(self, sql: str, batch_size: int) -> Iterator[pa.RecordBatch]:
        # a private cursor: the caller may run other queries while it consumes the stream
        cur = self._con.cursor()
        try:
            yield from stream(cur, sql, batch_size)
        finally:
            cur.close()

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self._stream(nodes_sql(label, columns), batch_size)

    def stream_relationships(self, rel_type_: str, columns: Sequence[str] | None = None, *,
                             batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self._stream(relationships_sql(rel_type_, columns), batch_size)

    def _counts(self, tables: dict[str, str]) -> dict[str, int]:
        counts = dict.fromkeys(tables, 0)
        # a file opened read-only may predate a table of the model: it simply has none of those
        present = {r[0] for r in self._read(lambda cur: cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall())}
        parts = [f"SELECT '{name}' AS name, count(*) AS n FROM {quote(table)}"
                 for name, table in tables.items() if table in present]
        if not parts:
            return counts
        sql = " UNION ALL ".join(parts)
        rows = self._read(lambda cur: cur.execute(sql).fetchall())
        counts.update({str(name): int(n) for name, n in rows})
        return counts

    def count_nodes(self) -> dict[str, int]:
        return self._counts({n.label: node_table(n.label) for n in NODE_TYPES})

    def count_relationships(self) -> dict[str, int]:
        return self._counts({r.type: rel_table(r.type) for r in REL_TYPES})

    def read_query(self, text: str, params: dict[str, Any] | None = None, *,
                   limit: int | None = None, timeout_s: float | None = None) -> QueryResult:
        if self._closed:
            raise StoreUnavailable("the store is closed")
        return run_read_query(
            self._con, text, params,
            self.read_query_row_limit if limit is None else limit,
            self.query_timeout_s if timeout_s is None else timeout_s)

    def analyst_query(self, text: str, params: dict[str, Any] | None = None, *, key: str,
                      limit: int | None = None, timeout_s: float | None = None) -> QueryResult:
        if self._closed:
            raise StoreUnavailable("the store is closed")
        wait = self.query_timeout_s if timeout_s is None else timeout_s
        view = self._analyst_view.connection(self._con, self._tx.data_version, key, wait)
        return run_read_query(view, text, params, self.read_query_row_limit if limit is None else limit,
                              wait, catalog=ANALYST_CATALOG)

    def ping(self) -> None:
        try:
            self._cursor().execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            raise StoreUnavailable(f"the store does not answer: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._analyst_view.close()
        with self._write_lock:
            try:
                if not self.read_only:
                    # fold the WAL into the file now, so a restart reads one consistent file
                    self._con.execute("CHECKPOINT")
            finally:
                self._closed = True
                with self._cursors_lock:
                    for cur in self._cursors:
                        with contextlib.suppress(duckdb.Error):
                            cur.close()
                    self._cursors.clear()
                self._con.close()
