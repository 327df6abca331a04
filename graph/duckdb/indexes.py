"""The ART indexes of the DuckDB tables: built when a read first needs them, dropped for bulk loads.

Maintaining an index during a bulk load costs as much as building it afterwards, so a large batch
(``BULK_ROWS`` rows or more) drops the indexes of the table it writes, and the first read that needs
a table's indexes builds them — after re-ordering a bulk-loaded relationship table by its shared end
(``schema.clustered_by_dst``), which makes the index scans of a hub read neighbouring rows.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import duckdb

from graph.duckdb.schema import (
    all_indexes,
    cluster_sql,
    clustered_by_dst,
    indexes_of,
    node_table,
    quote,
    rel_table,
)
from graph.model import NODE_TYPES, REL_TYPES

BULK_ROWS = 100_000


class TableIndexes:
    """Which tables have their indexes now; one per store, its work under the store's write lock."""

    def __init__(self, con: duckdb.DuckDBPyConnection, write_lock: threading.RLock, *,
                 read_only: bool) -> None:
        self._con, self._write_lock, self._read_only = con, write_lock, read_only
        self._indexed: set[str] = set()

    def existing(self, cur: duckdb.DuckDBPyConnection) -> set[str]:
        return {r[0] for r in cur.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}

    def ensure(self, tables: Sequence[str] | None = None) -> None:
        """Build the missing indexes of ``tables`` (default: every table) — one-off after a bulk load."""
        wanted = [t for t in (tables if tables is not None else
                              [*(node_table(n.label) for n in NODE_TYPES),
                               *(rel_table(r.type) for r in REL_TYPES)])
                  if t not in self._indexed]
        if not wanted or self._read_only:
            return
        with self._write_lock:
            cur = self._con.cursor()
            try:
                have = self.existing(cur)
                for table in wanted:
                    missing = [s for s in indexes_of(table) if s.name not in have]
                    if missing:
                        self.cluster(cur, table)
                    for spec in indexes_of(table):
                        if spec.name not in have:
                            cur.execute(spec.create_sql())
                    self._indexed.add(table)
            finally:
                cur.close()

    def cluster(self, cur: duckdb.DuckDBPyConnection, table: str) -> None:
        """Re-order a bulk-loaded relationship table by its shared end (see ``clustered_by_dst``)."""
        rt = next((r for r in REL_TYPES if rel_table(r.type) == table), None)
        if rt is None or not clustered_by_dst(rt):
            return
        rows = cur.execute(f"SELECT count(*) FROM {quote(table)}").fetchall()[0][0]
        if rows < BULK_ROWS:
            return
        cur.begin()
        try:
            for stmt in cluster_sql(rt):
                cur.execute(stmt)
            cur.commit()
        except BaseException:
            cur.rollback()
            raise

    def drop(self, cur: duckdb.DuckDBPyConnection, table: str) -> None:
        have = self.existing(cur)
        for spec in indexes_of(table):
            if spec.name in have:
                cur.execute(f"DROP INDEX {quote(spec.name)}")
        self._indexed.discard(table)

    def names(self, cur: duckdb.DuckDBPyConnection) -> list[str]:
        """Indexes present now (for tests and the bench)."""
        present = self.existing(cur)
        return [s.name for s in all_indexes() if s.name in present]
