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
- Statements come from :mod:`graph.neo4j_statements`; only model labels, types and property names
  are interpolated, values never.
- Analyst Cypher (:meth:`Neo4jStore.read_query`) is planned with ``EXPLAIN`` first and refused
  unless Neo4j classifies it as read-only (``summary.query_type == "r"``); it then runs in a READ
  transaction, which the server also refuses to let write.

Driver errors become :mod:`graph.errors`: unreachable server or rejected credentials ->
``StoreUnavailable``; transaction timed out -> ``QueryTimeout``; a write attempted in a read
transaction -> ``WriteRefused``; a bad analyst query -> ``InvalidRequest``; anything else ->
``StoreError``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

import neo4j
import pandas as pd
import pyarrow as pa
from neo4j import Driver, GraphDatabase, ManagedTransaction, Query, Record, RoutingControl
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph import model
from graph import neo4j_statements as cy
from graph.errors import (
    ConfigError,
    InvalidRequest,
    QueryTimeout,
    SchemaError,
    StoreError,
    StoreUnavailable,
    WriteRefused,
)
from graph.model import NODE_TYPES, REL_TYPES, Edge, Node, NodeRef, node_type, rel_type
from graph.neo4j_bulk import ColumnBatch, node_column_batches, relationship_column_batches, unique_keys
from graph.neo4j_guard import check_analyst_plan
from graph.neo4j_values import (
    arrow_batch,
    arrow_column,
    arrow_type,
    from_neo4j,
    props_from_neo4j,
)
from graph.neo4j_writes import node_batches, relationship_batches, replace_batches
from graph.port import DerivedData, Direction, Expansion, GraphStore, QueryResult, Rows
from graph.settings import Settings

_TIMEOUT_MARK = "TransactionTimedOut"  # ...TransactionTimedOut and ...TransactionTimedOutClientConfiguration
_WRITE_REFUSED_CODES = frozenset({
    "Neo.ClientError.Statement.AccessMode",
    "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase",
})
# Keyed paging on the key index: pages small enough to stay well inside the transaction timeout
# (100,000 claims of 13 columns take about half a second) and few enough round trips.
_STREAM_PAGE = 100_000
# Node batches with distinct keys written at once: one transaction runs on the server while the
# client builds and packs the next (a 2-core machine has no use for more).
_WRITERS = 2
T = TypeVar("T")


def _records(result: neo4j.Result) -> list[Record]:
    return list(result)


def _column_lists(result: neo4j.Result) -> list[list[Any]]:
    """The one record of a page returned as column lists (see ``cy.stream_nodes_page``)."""
    record = result.single()
    return list(record.values()) if record is not None else []


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
    ) -> None:
        if batch_size < 1:
            raise ConfigError("MEDFRAUD_NEO4J_BATCH_SIZE must be at least 1")
        self._driver = driver
        self._database = database
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
                settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
            )
        except (ConfigurationError, ValueError) as exc:
            raise ConfigError(f"MEDFRAUD_NEO4J_URI: {settings.neo4j_uri!r} is not usable: {exc}") from exc
        return cls(
            driver,
            database=settings.neo4j_database,
            batch_size=settings.neo4j_batch_size,
            timeout_s=settings.query_timeout_s,
            row_limit=settings.read_query_row_limit,
        )

    @property
    def driver(self) -> Driver:
        """The driver, shared with the GDS engine so both use one connection pool."""
        return self._driver

    @property
    def database(self) -> str:
        return self._database

    # -- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def _errors(self, action: str, *, analyst: bool = False) -> Iterator[None]:
        try:
            yield
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailable(f"Neo4j is unreachable while trying to {action}: {exc}") from exc
        except AuthError as exc:
            raise StoreUnavailable(
                "Neo4j refused the credentials (MEDFRAUD_NEO4J_USER / MEDFRAUD_NEO4J_PASSWORD): "
                f"{exc.message}"
            ) from exc
        except Neo4jError as exc:
            code = exc.code or ""
            if _TIMEOUT_MARK in code:
                raise QueryTimeout(
                    f"Neo4j stopped the query at the time limit while trying to {action}"
                ) from exc
            if code in _WRITE_REFUSED_CODES:
                raise WriteRefused(
                    f"this query would write; only read-only queries may run here ({code})"
                ) from exc
            if analyst and isinstance(exc, ClientError):
                raise InvalidRequest(f"Neo4j rejected the query: {exc.message}") from exc
            raise StoreError(f"Neo4j failed to {action}: {code}: {exc.message}") from exc
        except DriverError as exc:
            raise StoreError(f"Neo4j driver failed to {action}: {exc}") from exc

    def _read(self, statement: str, params: dict[str, Any], action: str) -> list[Record]:
        return self._read_as(statement, params, action, _records)

    def _read_as(self, statement: str, params: dict[str, Any], action: str,
                 take: Callable[[neo4j.Result], T]) -> T:
        """A READ-routed query with a timeout, its answer taken off the driver by ``take``."""
        with self._errors(action):
            answer: T = self._driver.execute_query(
                Query(statement, timeout=self._timeout_s),
                parameters_=params,
                routing_=RoutingControl.READ,
                database_=self._database,
                result_transformer_=take,
            )
        return answer

    def _write(self, work: Callable[[ManagedTransaction], int], action: str) -> int:
        with self._errors(action), self._driver.session(database=self._database) as session:
            return session.execute_write(work)

    def _size(self, batch_size: int | None) -> int:
        size = batch_size or self._batch_size
        if size < 1:
            raise InvalidRequest("batch_size must be at least 1")
        return size

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

        for statement in neo4j_schema_statements():
            with self._errors("apply the schema"):
                self._driver.execute_query(
                    statement,
                    parameters_={},
                    routing_=RoutingControl.WRITE,
                    database_=self._database,
                )

    def _write_batches(self, batches: Iterator[ColumnBatch], action: str, in_flight: int) -> int:
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
                pending.append(pool.submit(self._write, work, action))
            while pending:
                written += pending.popleft().result()
        return written

    def upsert_nodes(self, label: str, rows: Rows, *, batch_size: int | None = None) -> int:
        if isinstance(rows, pa.Table):
            # Distinct keys: no two transactions touch the same node, so two may run at once.
            in_flight = _WRITERS if unique_keys(label, rows) else 1
            return self._write_batches(node_column_batches(label, rows, self._size(batch_size)),
                                       f"upsert {label} nodes", in_flight)
        statement = cy.upsert_nodes(label)
        written = 0
        for batch in node_batches(label, rows, self._size(batch_size)):
            written += self._write(self._run_count(statement, {"rows": batch}, "written"),
                                   f"upsert {label} nodes")
        return written

    def upsert_relationships(self, rel_type: str, rows: Rows, *, batch_size: int | None = None) -> int:
        if isinstance(rows, pa.Table):
            # One transaction at a time: merging a relationship locks both ends, and every batch of
            # claims meets the same few institutions.
            return self._write_batches(relationship_column_batches(rel_type, rows, self._size(batch_size)),
                                       f"upsert {rel_type} relationships", 1)
        written = 0
        for batch in relationship_batches(rel_type, rows, self._size(batch_size)):
            statement = cy.upsert_relationships(rel_type, batch.src_label, batch.dst_label)
            written += self._write(self._run_count(statement, {"rows": batch.rows}, "written"),
                                   f"upsert {rel_type} relationships")
        return written

    def replace_relationships(
        self, rel_type: str, sources: Sequence[str] | pa.Array | pa.ChunkedArray, rows: Rows
    ) -> int:
        rt = model.rel_type(rel_type)
        if len(rt.start) != 1:
            raise SchemaError(f"{rel_type} starts at {' or '.join(rt.start)}: replacing its relationships "
                              "needs a relationship type with one start label")
        start = rt.start[0]
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
        for batch in replace_batches(rel_type, sources, rows, self._batch_size):
            steps: list[tuple[str, dict[str, Any]]] = []
            for end in rt.end:
                links = [r for b in batch.links if b.dst_label == end for r in b.rows]
                if batch.sources and replacing:
                    kept: dict[str, list[str]] = {k: [] for k in batch.sources}
                    for r in links:
                        if r["src"] in kept:
                            kept[r["src"]].append(r["dst"])
                    keep = [{"src": k, "keep": v} for k, v in kept.items()]
                    steps.append((cy.delete_unkept_relationships(rel_type, start, end), {"rows": keep}))
                if links:
                    steps.append((cy.upsert_relationships(rel_type, start, end), {"rows": links}))
            if steps:
                written += self._write(self._run_steps(steps), f"replace {rel_type} relationships")
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
        for batch in self._batches(unique, None):
            deleted += self._write(self._run_count(statement, {"keys": list(batch)}, "deleted"),
                                   f"delete {label} nodes")
        return deleted

    def delete_everything(self) -> int:
        """Remove every node and relationship, a bounded slice per transaction (test helper)."""
        total = 0
        while True:
            deleted = self._write(
                self._run_count(cy.delete_some_nodes(), {"limit": self._batch_size}, "deleted"),
                "delete everything",
            )
            total += deleted
            if deleted == 0:
                return total

    def replace_derived(self, data: DerivedData) -> None:
        steps: list[tuple[str, dict[str, Any]]] = []

        def node_steps(label: str, frame: pd.DataFrame) -> None:
            if not frame.empty:
                steps.extend((cy.upsert_nodes(label), {"rows": batch})
                             for batch in node_batches(label, frame, self._batch_size))

        def rel_steps(rel: str, frame: pd.DataFrame) -> None:
            if not frame.empty:
                steps.extend((cy.upsert_relationships(rel, b.src_label, b.dst_label), {"rows": b.rows})
                             for b in relationship_batches(rel, frame, self._batch_size))

        node_steps("DetectionRun", data.run)
        node_steps("Ring", data.rings)
        if not data.rings.empty:
            ring_ids = [str(r) for r in data.rings["ring_id"].tolist()]
            for batch in self._batches(ring_ids, None):
                steps.append((cy.clear_ring_members(), {"ring_ids": list(batch)}))
        rel_steps("HAS_MEMBER", data.ring_members)
        steps.append((cy.delete_all_findings(), {}))
        node_steps("Finding", data.findings)
        rel_steps("INVOLVES", data.finding_claims)
        rel_steps("CONCERNS", data.finding_persons)

        def work(tx: ManagedTransaction) -> int:
            # Re-run from the top on a retry: every step is an idempotent MERGE/DELETE.
            for statement, params in steps:
                tx.run(statement, params).consume()
            return len(steps)

        self._write(work, "write detection results")

    # -- reads -------------------------------------------------------------------------------
    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]:
        wanted = [str(k) for k in keys]
        found: dict[str, Node] = {}
        statement = cy.get_nodes(label)
        for batch in self._batches(list(dict.fromkeys(wanted)), None):
            for record in self._read(statement, {"keys": list(batch)}, f"read {label} nodes"):
                key = str(record["key"])
                found[key] = Node(label, key, props_from_neo4j(dict(record["props"])))
        return [found[k] for k in wanted if k in found]

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
        if cap < 0:
            raise InvalidRequest("cap must be zero or more")
        if direction not in ("out", "in", "both"):
            raise InvalidRequest(f"direction must be out, in or both, not {direction!r}")
        types = [rel_type(t).type for t in rel_types] if rel_types is not None else None
        label_filter = [node_type(lb).label for lb in labels] if labels is not None else None
        by_label: dict[str, list[str]] = defaultdict(list)
        for ref in dict.fromkeys(seeds):
            by_label[ref.label].append(ref.key)
        seed_set = set(seeds)
        expansion = Expansion()
        seen_nodes: set[NodeRef] = set()
        seen_edges: set[tuple[str, NodeRef, NodeRef]] = set()
        for label, keys in by_label.items():
            if not cy.can_connect(label, direction, types):
                continue
            params = {"keys": keys, "outgoing": {"out": True, "in": False, "both": None}[direction],
                      "types": types, "labels": label_filter, "since": since, "until": until, "cap": cap,
                      "key_props": cy.key_properties()}
            for record in self._read(cy.neighbours(label), params, "expand neighbours"):
                seed = NodeRef(label, str(record["seed"]))
                kept = list(record["kept"])
                if int(record["total"]) > len(kept):
                    expansion.cut[seed] = int(record["total"]) - len(kept)
                for hit in kept:
                    other = NodeRef(str(hit["label"]), str(hit["key"]))
                    if other not in seed_set and other not in seen_nodes:
                        seen_nodes.add(other)
                        props = props_from_neo4j(dict(hit["props"]))
                        expansion.nodes.append(Node(other.label, other.key, props))
                    src, dst = (seed, other) if hit["outgoing"] else (other, seed)
                    edge_id = (str(hit["type"]), src, dst)
                    if edge_id not in seen_edges:
                        seen_edges.add(edge_id)
                        rel_props = props_from_neo4j(dict(hit["rel_props"]))
                        expansion.edges.append(Edge(edge_id[0], src, dst, rel_props))
        return expansion

    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]:
        types = [rel_type(t).type for t in rel_types] if rel_types is not None else None
        result = {ref: 0 for ref in refs}
        by_label: dict[str, list[str]] = defaultdict(list)
        for ref in dict.fromkeys(refs):
            by_label[ref.label].append(ref.key)
        for label, keys in by_label.items():
            if not cy.can_connect(label, "both", types):
                continue
            for batch in self._batches(keys, None):
                params = {"keys": list(batch), "types": types}
                for record in self._read(cy.degrees(label), params, "count degrees"):
                    result[NodeRef(label, str(record["key"]))] = int(record["degree"])
        return result

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
                             Node(label, key, props_from_neo4j(dict(record["props"])))))
        # the same order as the embedded store: exact key, key prefix, name; then model label order
        hits.sort(key=lambda h: (h[0], h[1], h[2]))
        return [h[3] for h in hits[:limit]]

    def stream_nodes(
        self, label: str, columns: Sequence[str] | None = None, *, batch_size: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        nt = node_type(label)
        wanted = tuple(columns) if columns is not None else nt.prop_names
        for c in wanted:
            nt.prop(c)
        page = max(1, min(batch_size, _STREAM_PAGE))
        ranges: list[tuple[str, str | None]] = [("", None)]  # "" is before every key
        counted = self._read(cy.count_label(label), {}, f"count {label} nodes")
        total = int(counted[0]["nodes"]) if counted else 0
        if total > 2 * page:
            # Two parts of the key range on two connections: the server reads one part while the
            # other's pages travel and are converted (a part's pages still come in key order).
            found = self._read(cy.key_at(label), {"last": "", "skip": total // 2}, f"split {label} keys")
            if found and found[0]["split"] is not None:
                split = str(found[0]["split"])
                ranges = [("", split), (split, None)]
        if len(ranges) == 1:
            yield from self._stream_range(label, wanted, page, *ranges[0])
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="neo4j-stream") as pool:
            later = pool.submit(lambda: list(self._stream_range(label, wanted, page, *ranges[1])))
            yield from self._stream_range(label, wanted, page, *ranges[0])
            yield from later.result()

    def _stream_range(self, label: str, wanted: tuple[str, ...], page: int, after: str,
                      upto: str | None) -> Iterator[pa.RecordBatch]:
        """Pages of nodes with ``after < key (<= upto)``, in key order."""
        nt = node_type(label)
        statement = cy.stream_nodes_page(label, wanted, bounded=upto is not None)
        last = after
        while True:
            params: dict[str, Any] = {"last": last, "limit": page}
            if upto is not None:
                params["upto"] = upto
            lists = self._read_as(statement, params, f"stream {label} nodes", _column_lists)
            keys = lists[0] if lists else []
            if not keys:
                return
            yield pa.RecordBatch.from_arrays(
                [arrow_column(nt.prop(c), lists[i + 1]) for i, c in enumerate(wanted)],
                names=list(wanted),
            )
            if len(keys) < page:
                return
            last = str(keys[-1])

    def stream_relationships(
        self, rel_type: str, columns: Sequence[str] | None = None, *, batch_size: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        rt = model.rel_type(rel_type)
        endpoint_cols = ("src", "dst", "src_label", "dst_label")
        wanted = tuple(columns) if columns is not None else (*endpoint_cols, *rt.prop_names)
        props = {p.name: p for p in rt.props}
        unknown = [c for c in wanted if c not in endpoint_cols and c not in props]
        if unknown:
            raise SchemaError(f"relationship {rel_type} has no columns {', '.join(map(repr, unknown))}")
        layout = [(c, arrow_type(props[c]) if c in props else pa.string(), props.get(c)) for c in wanted]
        page = max(1, min(batch_size, _STREAM_PAGE))
        for src_label, dst_label in itertools.product(rt.start, rt.end):
            statement = cy.stream_relationships_page(rel_type, src_label, dst_label)
            last = ""
            while True:
                records = self._read(statement, {"last": last, "limit": page}, f"stream {rel_type}")
                if not records:
                    break
                rows = [r for r in records if r["dst"] is not None]
                if rows:
                    values: dict[str, list[Any]] = {
                        "src": [str(r["src"]) for r in rows],
                        "dst": [str(r["dst"]) for r in rows],
                        "src_label": [src_label] * len(rows),
                        "dst_label": [dst_label] * len(rows),
                    }
                    rel_props = [dict(r["props"] or {}) for r in rows]
                    for name in props:
                        values[name] = [p.get(name) for p in rel_props]
                    yield arrow_batch(layout, {c: values[c] for c in wanted})
                if len({r["src"] for r in records}) < page:
                    break
                last = str(records[-1]["src"])

    def count_nodes(self) -> dict[str, int]:
        found = {r["name"]: int(r["count"]) for r in self._read(cy.count_nodes(), {}, "count nodes")}
        return {n.label: found.get(n.label, 0) for n in NODE_TYPES}

    def count_relationships(self) -> dict[str, int]:
        records = self._read(cy.count_relationships(), {}, "count relationships")
        found = {r["name"]: int(r["count"]) for r in records}
        return {r.type: found.get(r.type, 0) for r in REL_TYPES}

    def read_query(
        self,
        text: str,
        params: dict[str, Any] | None = None,
        *,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        limit = self._row_limit if limit is None else limit
        if limit < 0:
            raise InvalidRequest("limit must be zero or more")
        timeout = self._timeout_s if timeout_s is None else timeout_s
        parameters = dict(params or {})
        if cy.names_a_database(text):
            # Analysts query the configured database only (USE system could list users).
            raise InvalidRequest("remove the USE clause: queries run against the configured database only")
        with self._errors("plan the query", analyst=True):
            _, summary, _ = self._driver.execute_query(
                Query(cy.explain(text), timeout=timeout),
                parameters_=parameters,
                routing_=RoutingControl.READ,
                database_=self._database,
            )
        check_analyst_plan(summary.query_type, summary.plan, self._database)

        def take(result: neo4j.Result) -> tuple[list[str], list[list[Any]]]:
            keys = list(result.keys())
            head = itertools.islice(result, limit + 1)
            rows = [[from_neo4j(v) for v in record.values()] for record in head]
            return keys, rows

        with self._errors("run the query", analyst=True):
            keys, rows = self._driver.execute_query(
                Query(text, timeout=timeout),
                parameters_=parameters,
                routing_=RoutingControl.READ,
                database_=self._database,
                result_transformer_=take,
            )
        return QueryResult(columns=keys, rows=rows[:limit], truncated=len(rows) > limit)

    def ping(self) -> None:
        try:
            self._read(cy.ping(), {}, "answer a ping")
        except StoreError as exc:
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._driver.close()
