"""The Neo4j adapter of the store port (Neo4j 5, official Python driver).

How it talks to Neo4j
- Reads go through ``driver.execute_query(Query(text, timeout=...), parameters_=...,
  routing_=RoutingControl.READ, database_=...)``: routed to a reader in a cluster, retried by the
  driver on transient errors, bounded by a server-side transaction timeout. Parameters are always
  passed as ``parameters_=dict``: any other keyword of ``execute_query`` would silently become a
  Cypher parameter instead of a setting.
- Writes are batched ``UNWIND $rows AS row MERGE ... SET ... += row`` on uniquely-constrained keys,
  each batch in its own managed transaction (``session.execute_write``), so the driver retries a
  batch that hit a transient error (deadlock, leader switch) and a failed batch leaves nothing
  half-written.
- Statements come from :mod:`graph.neo4j.statements`; only model labels, types and property names
  are interpolated, values never.
- Analyst Cypher (:meth:`Neo4jStore.read_query`) is planned with ``EXPLAIN`` first and refused
  unless Neo4j classifies it as read-only (:mod:`graph.neo4j.analyst`).

Beside this module: driver errors become :mod:`graph.errors` in :mod:`graph.neo4j.failures`;
whole labels stream out in :mod:`graph.neo4j.streams`; listings are :mod:`graph.neo4j.listing`;
multi-step writes (a detection run, a replacement) are :mod:`graph.neo4j.steps`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit

import neo4j
import pyarrow as pa
from neo4j import (
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationDisabledClassification,
    Query,
    Record,
    RoutingControl,
)
from neo4j.exceptions import ConfigurationError

from graph.arguments import check_batch_size
from graph.errors import ConfigError, StoreError, StoreUnavailable
from graph.listing import Listing, Page, check_listing, page_of
from graph.model import NODE_TYPES, REL_TYPES, Node, NodeRef, node_type
from graph.neo4j import hops, revisions, streams
from graph.neo4j import listing as listing_cy
from graph.neo4j import statements as cy
from graph.neo4j.analyst import run_analyst_cypher
from graph.neo4j.bulk import ColumnBatch, node_column_batches, relationship_column_batches, unique_keys
from graph.neo4j.failures import neo4j_errors
from graph.neo4j.steps import node_rows, replace_groups, step_statements
from graph.neo4j.values import props_from_neo4j
from graph.neo4j.writes import relationship_batches
from graph.port import Direction, Expansion, GraphStore, QueryResult, Rows
from graph.records import typed_props
from graph.settings import Settings
from graph.writesteps import ReplaceRelationships, WriteStep, check_steps, touched_by

# Node batches with distinct keys written at once: one transaction runs on the server while the
# client builds and packs the next (a 2-core machine has no use for more).
_WRITERS = 2
T = TypeVar("T")


def _records(result: neo4j.Result) -> list[Record]:
    return list(result)


class Neo4jStore(GraphStore):
    """:class:`GraphStore` on Neo4j 5 (Community or Enterprise)."""

    kind = "neo4j"
    query_language = "cypher"

    def __init__(
        self,
        driver: Driver,
        *,
        database: str,
        batch_size: int = 10_000,
        timeout_s: float = 30.0,
        row_limit: int = 1_000,
        uri: str = "",
    ) -> None:
        if batch_size < 1:
            raise ConfigError("MEDFRAUD_NEO4J_BATCH_SIZE must be at least 1")
        self._driver = driver
        self._database = database
        # two servers are two graphs: the detection lock is per location
        parts = urlsplit(uri)
        self._server = f"{parts.scheme}://{parts.hostname}:{parts.port or 7687}" if uri else ""
        self._batch_size = batch_size
        self._timeout_s = timeout_s
        self._row_limit = row_limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Neo4jStore:
        """Build the driver from ``MEDFRAUD_NEO4J_*``; connecting happens on first use."""
        if not settings.neo4j_uri:
            raise ConfigError("MEDFRAUD_NEO4J_URI is required for the Neo4j store (e.g. bolt://localhost:7687)")
        if not settings.neo4j_password:
            raise ConfigError("MEDFRAUD_NEO4J_PASSWORD is required for the Neo4j store")
        try:
            driver = GraphDatabase.driver(
                settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
                # "property does not exist" on every read of an optional property the data has not
                # used yet (a review verdict before the first review): expected, and a log line per
                # query; deprecation, performance and other warnings still come through
                notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
            )
        except (ConfigurationError, ValueError) as exc:
            raise ConfigError(f"MEDFRAUD_NEO4J_URI: {settings.neo4j_uri!r} is not usable: {exc}") from exc
        return cls(
            driver,
            database=settings.neo4j_database,
            batch_size=settings.neo4j_batch_size,
            timeout_s=settings.query_timeout_s,
            row_limit=settings.read_query_row_limit,
            uri=settings.neo4j_uri,
        )

    @property
    def driver(self) -> Driver:
        """The driver, shared with the GDS engine so both use one connection pool."""
        return self._driver

    @property
    def database(self) -> str:
        return self._database

    # -- plumbing ----------------------------------------------------------------------------
    def _read(self, statement: str, params: dict[str, Any], action: str) -> list[Record]:
        return self._read_as(statement, params, action, _records)

    def _read_as(self, statement: str, params: dict[str, Any], action: str,
                 take: Callable[[neo4j.Result], T]) -> T:
        """A READ-routed query with a timeout, its answer taken off the driver by ``take``."""
        with neo4j_errors(action):
            answer: T = self._driver.execute_query(
                Query(statement, timeout=self._timeout_s),
                parameters_=params,
                routing_=RoutingControl.READ,
                database_=self._database,
                result_transformer_=take,
            )
        return answer

    def _write(self, work: Callable[[ManagedTransaction], int], action: str, touched: Iterable[str]) -> int:
        """One managed write transaction, then fresh revision tokens for what it touched."""
        with neo4j_errors(action), self._driver.session(database=self._database) as session:
            result = session.execute_write(work)
            # after the commit, never before: a reader that sees the new token sees the new data
            session.execute_write(self._bump, revisions.names(touched))
            return result

    @staticmethod
    def _bump(tx: ManagedTransaction, names: list[str]) -> None:
        tx.run(revisions.BUMP, {"names": names}).consume()

    def revisions(self) -> dict[str, str]:
        return {str(r["name"]): str(r["token"]) for r in self._read(revisions.READ, {}, "read revisions")}

    @property
    def location(self) -> str:
        return f"neo4j database {self._database}" + (f" at {self._server}" if self._server else "")

    def _size(self, batch_size: int | None) -> int:
        check_batch_size(batch_size)
        return batch_size or self._batch_size

    def _batches(self, items: Sequence[Any], batch_size: int | None) -> Iterator[Sequence[Any]]:
        size = self._size(batch_size)
        for start in range(0, len(items), size):
            yield items[start:start + size]

    @staticmethod
    def _run_count(
        statement: str, params: dict[str, Any], column: str
    ) -> Callable[[ManagedTransaction], int]:
        def work(tx: ManagedTransaction) -> int:
            record = tx.run(statement, params).single()
            return int(record[column]) if record is not None else 0

        return work

    # -- schema and writes -------------------------------------------------------------------
    def apply_schema(self) -> None:
        from graph.model import neo4j_schema_statements

        for statement in [*neo4j_schema_statements(), revisions.CONSTRAINT]:
            with neo4j_errors("apply the schema"):
                self._driver.execute_query(
                    statement,
                    parameters_={},
                    routing_=RoutingControl.WRITE,
                    database_=self._database,
                )

    def _write_batches(self, batches: Iterator[ColumnBatch], action: str, in_flight: int,
                       touched: Sequence[str]) -> int:
        """Write each batch in its own managed transaction, ``in_flight`` at a time.

        The next batch is built (and, with two in flight, packed and sent) while the server runs the
        one before: client and server work at the same time instead of taking turns.
        """
        written = 0
        with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="neo4j-write") as pool:
            pending: deque[Future[int]] = deque()
            for batch in batches:
                if len(pending) >= in_flight:
                    written += pending.popleft().result()
                work = self._run_count(batch.statement, batch.params, "written")
                pending.append(pool.submit(self._write, work, action, touched))
            while pending:
                written += pending.popleft().result()
        return written

    def upsert_nodes(self, label: str, rows: Rows, *, batch_size: int | None = None) -> int:
        if isinstance(rows, pa.Table):
            # Distinct keys: no two transactions touch the same node, so two may run at once.
            in_flight = _WRITERS if unique_keys(label, rows) else 1
            return self._write_batches(node_column_batches(label, rows, self._size(batch_size)),
                                       f"upsert {label} nodes", in_flight, [label])
        statement = cy.upsert_nodes(label)
        written = 0
        for batch in node_rows(label, rows, self._size(batch_size)):
            written += self._write(self._run_count(statement, {"rows": batch}, "written"),
                                   f"upsert {label} nodes", [label])
        return written

    def upsert_relationships(self, rel_type: str, rows: Rows, *, batch_size: int | None = None) -> int:
        if isinstance(rows, pa.Table):
            # One transaction at a time: merging a relationship locks both ends, and every batch of
            # claims meets the same few institutions.
            return self._write_batches(relationship_column_batches(rel_type, rows, self._size(batch_size)),
                                       f"upsert {rel_type} relationships", 1, [rel_type])
        written = 0
        for batch in relationship_batches(rel_type, rows, self._size(batch_size)):
            statement = cy.upsert_relationships(rel_type, batch.src_label, batch.dst_label)
            written += self._write(self._run_count(statement, {"rows": batch.rows}, "written"),
                                   f"upsert {rel_type} relationships", [rel_type])
        return written

    def replace_relationships(
        self, rel_type: str, sources: Sequence[str] | pa.Array | pa.ChunkedArray, rows: Rows
    ) -> int:
        check_steps([ReplaceRelationships(rel_type, (), rows)])
        listed = sources.to_pylist() if isinstance(sources, pa.Array | pa.ChunkedArray) else list(sources)
        written = 0
        # No relationship of the type yet (a first load): no source has a link to delete, so the
        # delete step is skipped. Besides its own cost, it is the statement that was planned while
        # the count store said "no such relationships" and then scanned the end label per row (one
        # batch of 10,000 persons' HAS_PHONE ran for more than 9 minutes on a freshly started server).
        # Sources are disjoint between batches, so links this call writes never need deleting by it.
        existing = self._read(cy.count_one_relationship_type(rel_type), {}, f"count {rel_type}")
        replacing = bool(existing) and int(existing[0]["existing"]) > 0
        if not replacing and isinstance(rows, pa.Table) and "src" in rows.column_names:
            return self.upsert_relationships(rel_type, rows)
        # One transaction per batch of sources: each source's links are replaced all at once.
        for group in replace_groups(rel_type, listed, rows, self._batch_size, replacing=replacing):
            written += self._write(self._run_steps(group), f"replace {rel_type} relationships",
                                   [rel_type])
        return written

    @staticmethod
    def _run_steps(steps: list[tuple[str, dict[str, Any]]]) -> Callable[[ManagedTransaction], int]:
        def work(tx: ManagedTransaction) -> int:
            # Re-run from the top on a retry: deleting the unkept links and merging are idempotent.
            written = 0
            for statement, params in steps:
                record = tx.run(statement, params).single()
                count = record.get("written") if record is not None else None  # deletes report none
                written += int(count) if count is not None else 0
            return written

        return work

    def delete_nodes(self, label: str, keys: Sequence[str]) -> int:
        statement = cy.delete_nodes(label)
        unique = list(dict.fromkeys(str(k) for k in keys))
        deleted = 0
        touched = [label, *(rt.type for rt in REL_TYPES if label in (*rt.start, *rt.end))]
        for batch in self._batches(unique, None):
            deleted += self._write(self._run_count(statement, {"keys": list(batch)}, "deleted"),
                                   f"delete {label} nodes", touched)
        return deleted

    def delete_everything(self) -> int:
        """Remove every node and relationship, a bounded slice per transaction (test helper)."""
        total = 0
        while True:
            deleted = self._write(
                self._run_count(cy.delete_some_nodes(), {"limit": self._batch_size}, "deleted"),
                "delete everything",
                [*(nt.label for nt in NODE_TYPES), *(rt.type for rt in REL_TYPES)],
            )
            total += deleted
            if deleted == 0:
                return total

    def write_steps(self, steps: Sequence[WriteStep]) -> None:
        check_steps(steps)
        statements = [st for step in steps for st in step_statements(step, self._batch_size)]
        self._write(self._run_steps(statements), "write detection results", touched_by(steps))

    # -- reads -------------------------------------------------------------------------------
    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]:
        wanted = [str(k) for k in keys]
        found: dict[str, Node] = {}
        statement = cy.get_nodes(label)
        for batch in self._batches(list(dict.fromkeys(wanted)), None):
            for record in self._read(statement, {"keys": list(batch)}, f"read {label} nodes"):
                key = str(record["key"])
                found[key] = Node(label, key, typed_props(label, props_from_neo4j(dict(record["props"]))))
        return [found[k] for k in wanted if k in found]

    def list_nodes(self, listing: Listing) -> Page:
        check_listing(listing)
        label = node_type(listing.label).label
        statement, params = listing_cy.count_statement(listing)
        [counted] = self._read(statement, params, f"count {label} nodes")
        total = int(counted["total"])
        if listing.first == 0 or listing.offset >= total:
            return page_of(listing, [], total)
        statement, params = listing_cy.page_statement(listing)
        records = self._read(statement, {**params, "skip": listing.offset, "limit": listing.first + 1},
                             f"list {label} nodes")
        nodes = [Node(label, str(r["key"]), typed_props(label, props_from_neo4j(dict(r["props"]))))
                 for r in records]
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
        return hops.neighbours(self._read, seeds, rel_types=rel_types, labels=labels, since=since,
                               until=until, cap=cap, direction=direction)

    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]:
        return hops.degrees(self._read, refs, rel_types, self._batch_size)

    def search(self, text: str, *, labels: Sequence[str] | None = None, limit: int = 20) -> list[Node]:
        text = text.strip()
        if not text or limit < 1:
            return []
        chosen = ([node_type(lb).label for lb in labels] if labels is not None
                  else [n.label for n in NODE_TYPES])
        order = {n.label: i for i, n in enumerate(NODE_TYPES)}
        hits: list[tuple[int, int, str, Node]] = []
        for label in chosen:
            for record in self._read(cy.search(label), {"text": text, "limit": limit}, "search"):
                key = str(record["key"])
                hits.append((int(record["rank"]), order[label], key,
                             Node(label, key, typed_props(label, props_from_neo4j(dict(record["props"]))))))
        # the same order as the embedded store: exact key, key prefix, name; then model label order
        hits.sort(key=lambda h: (h[0], h[1], h[2]))
        return [h[3] for h in hits[:limit]]

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return streams.stream_nodes(self._read_as, label, columns, batch_size)

    def stream_relationships(self, rel_type: str, columns: Sequence[str] | None = None, *,
                             batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return streams.stream_relationships(self._read_as, rel_type, columns, batch_size)

    def count_nodes(self) -> dict[str, int]:
        found = {r["name"]: int(r["count"]) for r in self._read(cy.count_nodes(), {}, "count nodes")}
        return {n.label: found.get(n.label, 0) for n in NODE_TYPES}

    def count_relationships(self) -> dict[str, int]:
        records = self._read(cy.count_relationships(), {}, "count relationships")
        found = {r["name"]: int(r["count"]) for r in records}
        return {r.type: found.get(r.type, 0) for r in REL_TYPES}

    def read_query(self, text: str, params: dict[str, Any] | None = None, *, limit: int | None = None,
                   timeout_s: float | None = None) -> QueryResult:
        return run_analyst_cypher(self._driver, self._database, text, params,
                                  limit=self._row_limit if limit is None else limit,
                                  timeout=self._timeout_s if timeout_s is None else timeout_s)

    def ping(self) -> None:
        try:
            self._read(cy.ping(), {}, "answer a ping")
        except StoreError as exc:
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._driver.close()
