"""The store port: the few primitives everything above ``graph/`` needs, and nothing more.

Two adapters implement it: ``graph.duckdb.store.DuckDBStore`` (embedded, the default) and
``graph.neo4j.store.Neo4jStore``. Business logic — subgraph assembly, ring scoring, access rules —
lives above this port and is written once. ``tests/integration/test_store_contract.py`` runs the
same known-answer suite against every adapter.

Row formats
- Node rows: a DataFrame/Arrow table whose columns are properties of the label (the key column
  required). Upsert sets the given columns and leaves the others of an existing node as they were.
- Relationship rows: columns ``src`` and ``dst`` (node keys), ``src_label`` / ``dst_label`` when the
  relationship type allows more than one label at that end (optional otherwise), plus the type's
  properties. A relationship is identified by (type, start node, end node).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, TypeAlias

import pandas as pd
import pyarrow as pa

from graph.derived import DerivedData, derived_steps
from graph.errors import AccessDenied
from graph.listing import Listing, Page
from graph.model import Edge, Node, NodeRef
from graph.writesteps import WriteStep

Rows: TypeAlias = "pd.DataFrame | pa.Table"
Direction = Literal["out", "in", "both"]


@dataclass
class Expansion:
    """One hop around a set of seed nodes.

    ``cut`` maps a seed to the number of its relationships that matched the filters but were
    left out because of the per-node cap (hub control); seeds that lost none are absent.
    ``nodes`` holds the neighbour nodes (not the seeds themselves) with their properties.
    """

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    cut: dict[NodeRef, int] = field(default_factory=dict)


# The analyst view's pseudonyms, the same in every adapter: the API turns a masked key an analyst
# was shown into the pseudonym a query on the view will find. The same person is the same
# pseudonym in every table (Patient.person_id, Claim.person_id, HAS_CLAIM.src ...), so joins work.
PSEUDONYM_PREFIX = "psn_"
KEY_NAMESPACE = {"Patient": "person", "Phone": "phone", "BankAccount": "account", "Address": "address"}


def pseudonym(key: str, namespace: str, value: str) -> str:
    """``psn_`` + the first 20 hex digits of SHA-256(``key:namespace:value``)."""
    return PSEUDONYM_PREFIX + hashlib.sha256(f"{key}:{namespace}:{value}".encode()).hexdigest()[:20]


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False


class SnapshotReader(Protocol):
    """The streams of :meth:`GraphStore.snapshot`."""

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]: ...

    def stream_relationships(self, rel_type: str, columns: Sequence[str] | None = None, *,
                             batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]: ...


class GraphStore(ABC):
    """Port to a property-graph store."""

    kind: str  # "duckdb" or "neo4j"
    query_language: str  # "sql" or "cypher"

    # -- schema and writes -------------------------------------------------------------------
    @abstractmethod
    def apply_schema(self) -> None:
        """Create tables/constraints/indexes from ``graph.model`` (idempotent)."""

    @abstractmethod
    def upsert_nodes(self, label: str, rows: Rows, *, batch_size: int | None = None) -> int:
        """Insert or update nodes by key; returns the number of rows written.

        Each batch is atomic: a failure leaves no half-written batch behind.
        """

    @abstractmethod
    def upsert_relationships(self, rel_type: str, rows: Rows, *, batch_size: int | None = None) -> int:
        """Insert or update relationships (MERGE on type + endpoints); returns rows written.

        Endpoints that do not exist are not created; such rows are skipped and not counted.
        """

    @abstractmethod
    def replace_relationships(
        self, rel_type: str, sources: Sequence[str] | pa.Array | pa.ChunkedArray, rows: Rows
    ) -> int:
        """Make ``rows`` the only relationships of ``rel_type`` leaving the start nodes ``sources``.

        The type must have one start label; ``sources`` are keys of that label. Their other
        relationships of the type are deleted, then ``rows`` (whose ``src`` must be among
        ``sources``) are upserted as by :meth:`upsert_relationships`; a source without rows
        loses them all. Atomic per source: no source is left half-replaced. Returns rows written.
        Ingest uses it so that a person whose phone, account, address or employer changed no
        longer shares the old one.
        """

    @abstractmethod
    def delete_nodes(self, label: str, keys: Sequence[str]) -> int:
        """Delete nodes and their relationships; returns the number of nodes deleted."""

    def replace_derived(self, data: DerivedData) -> None:
        """Write one detection run atomically.

        Upserts the run node and the given rings; for each given ring its ``HAS_MEMBER`` set is
        replaced by ``ring_members``; all existing ``Finding`` nodes (and their relationships)
        are replaced by ``findings``. Rings not given are left untouched, so a vanished ring
        keeps the cases and reviews attached to it. The sequence is written once, in
        :func:`graph.derived.derived_steps`; adapters only apply its steps (:meth:`write_steps`).
        """
        self.write_steps(derived_steps(data))

    @abstractmethod
    def write_steps(self, steps: Sequence[WriteStep]) -> None:
        """Apply ``steps`` (:mod:`graph.writesteps`) in order as one transaction: all or nothing.

        Each step means what the port method of the same name means (``UpsertNodes`` as
        :meth:`upsert_nodes`, ``ReplaceRelationships`` as :meth:`replace_relationships` ...).
        """

    # -- reads -----------------------------------------------------------------------------
    @abstractmethod
    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]:
        """Nodes of a label by key, in the order asked; unknown keys are omitted."""

    @abstractmethod
    def list_nodes(self, listing: Listing) -> Page:
        """One page of the nodes a :class:`graph.listing.Listing` describes, filtered and ordered by
        the store itself (never a whole label read into memory); props typed as by ``get_nodes``.

        Bad arguments follow :mod:`graph.arguments`: names outside the model ``SchemaError``, a bad
        page size, cursor or filter ``InvalidRequest``.
        """

    @abstractmethod
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
        """One hop from the seeds.

        Filters: relationship types, neighbour labels, and a date window applied to dated
        relationships (undated ones always pass). At most ``cap`` relationships per seed are
        returned — most recent first, then by neighbour key — and the number left out is
        reported in ``Expansion.cut``.
        """

    @abstractmethod
    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]:
        """Number of relationships (both directions) of each node."""

    @abstractmethod
    def search(self, text: str, *, labels: Sequence[str] | None = None, limit: int = 20) -> list[Node]:
        """Nodes whose key starts with ``text`` or whose searchable name contains it."""

    @abstractmethod
    def stream_nodes(
        self, label: str, columns: Sequence[str] | None = None, *, batch_size: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """All nodes of a label as Arrow batches (the columns asked for, default all)."""

    @abstractmethod
    def stream_relationships(
        self, rel_type: str, columns: Sequence[str] | None = None, *, batch_size: int = 1_000_000
    ) -> Iterator[pa.RecordBatch]:
        """All relationships of a type as Arrow batches: src, dst, src_label, dst_label, props."""

    @abstractmethod
    def count_nodes(self) -> dict[str, int]:
        """Node count per label (every model label, zeros included)."""

    @abstractmethod
    def count_relationships(self) -> dict[str, int]:
        """Relationship count per type (every model type, zeros included)."""

    @abstractmethod
    def read_query(
        self,
        text: str,
        params: dict[str, Any] | None = None,
        *,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        """Run the store's own language read-only; writes raise ``WriteRefused``.

        At most ``limit`` rows come back (``truncated`` says whether more were there); a query
        running past ``timeout_s`` raises ``QueryTimeout``.
        """

    def analyst_query(
        self,
        text: str,
        params: dict[str, Any] | None = None,
        *,
        key: str,
        limit: int | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        """Like :meth:`read_query`, but against the pseudonymised analyst view of the graph.

        The view holds no raw personal value: personal keys are replaced by :func:`pseudonym`
        under ``key`` (the same value gives the same pseudonym in every table and every query),
        names and free text are absent, birth dates are reduced to the year, and cases and notes
        are not there at all (docs/api.md, "Threat model"). A store without such a view refuses,
        so analysts never fall back to the raw data.
        """
        raise AccessDenied(f"the {self.kind} store has no pseudonymised analyst view: analysts cannot run "
                           "free-form queries on it")

    # -- change tracking and snapshots ------------------------------------------------------
    @abstractmethod
    def revisions(self) -> dict[str, str]:
        """A token per label and relationship type, changed by every committed write to it.

        Seen by every process that reads the store (Neo4j keeps them in the database; the embedded
        store has one owning process, so it keeps them in memory). Labels and types never written
        since the store was created may be absent. :mod:`graph.serving` compares two readings to
        know which of its in-memory copies a write, its own or another process's, made stale.
        """

    def snapshot(self) -> AbstractContextManager[SnapshotReader]:
        """A reader whose streams all see the same committed state, for building in-memory copies.

        This default gives the store itself, which promises no more than each stream's own
        consistency: callers compare :meth:`revisions` before and after and build again when they
        differ (``graph.serving`` does). Adapters that can read in one transaction override it.
        """
        return nullcontext(self)

    def adapter(self) -> GraphStore:
        """The adapter itself, beneath any wrapper (the GDS engine shares the Neo4j driver)."""
        return self

    @property
    def location(self) -> str:
        """Where the data lives (a file path, a server URI and database): names locks and logs."""
        return self.kind

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the store cannot answer a trivial query."""

    @abstractmethod
    def close(self) -> None:
        """Release connections/drivers."""

    # -- loads -------------------------------------------------------------------------------
    # Whether :meth:`load_transaction` makes a whole load atomic in this adapter.
    atomic_loads: bool = False

    def load_transaction(self) -> AbstractContextManager[None]:
        """Make every write of the calling thread, until the block ends, one all-or-nothing load.

        On a clean exit everything is committed at once; on an exception (out of memory
        included) nothing of it stays. Other threads' writes wait until the block ends.
        Adapters that can do so set :attr:`atomic_loads`; this default keeps each write call's
        own transaction (per batch), so a failed load may leave earlier batches behind.
        """
        return nullcontext()

    # -- conveniences built on the primitives ----------------------------------------------
    def nodes_frame(self, label: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        batches = list(self.stream_nodes(label, columns))
        if not batches:
            from graph.model import node_type

            cols = list(columns) if columns else list(node_type(label).prop_names)
            return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        frame: pd.DataFrame = pa.Table.from_batches(batches).to_pandas()
        return frame

    def relationships_frame(self, rel_type: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        batches = list(self.stream_relationships(rel_type, columns))
        if not batches:
            from graph.model import rel_type as rt

            cols = list(columns) if columns else ["src", "dst", "src_label", "dst_label",
                                                  *rt(rel_type).prop_names]
            return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
        frame: pd.DataFrame = pa.Table.from_batches(batches).to_pandas()
        return frame

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
