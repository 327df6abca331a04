"""``ServingStore``: any adapter, plus the in-memory copies that make interactive reads fast.

Every read the API makes and every write it makes pass through one ``ServingStore``. It owns:

- the **data version**, bumped whenever the store's revision tokens (:meth:`GraphStore.revisions`)
  show a change — a write through this wrapper, a write through the bare adapter in this process,
  or, on Neo4j, another process's write (``medfraud ingest``, another API worker);
- the **read index** (:mod:`graph.serving.adjacency`): one-hop expansions and nodes by key from
  memory, rebuilt in the background when a data label or relationship type changes;
- the **node cache** (:mod:`graph.serving.node_cache`) for labels the index does not hold;
- the **listing cache** (:mod:`graph.serving.listing_cache`): pages of the ring, finding and case
  lists;
- the **ring-membership index** (:mod:`graph.serving.ring_index`), reloaded when rings change;
- the **response cache** (:mod:`graph.serving.response_cache`), keyed by the data version;
- the **prepared ring pictures** (:mod:`graph.serving.ring_pictures`), assembled in the background
  (:mod:`graph.serving.warmup`) at start and after every change to what they show.

They are dropped in one place, :meth:`ServingStore._changed`, by name: a case note drops cached
cases, not the read index. Revisions are read before reads at most every ``check_s`` seconds (0:
before every read, which costs nothing on the embedded store, whose tokens live in memory); a
write through the wrapper reads them at once, so a worker always sees its own writes. Another
process's write is seen within ``check_s`` (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from graph.arguments import check_cap, check_direction
from graph.errors import MedfraudError
from graph.expansion import assemble_expansion
from graph.listing import Listing, Page
from graph.model import REL_TYPES, Node, NodeRef, node_type, rel_type
from graph.port import (
    Direction,
    Expansion,
    GraphStore,
    QueryResult,
    Rows,
    SnapshotReader,
)
from graph.serving import pictures as sg
from graph.serving.adjacency import AdjacencyIndex, IndexUnusable, indexable
from graph.serving.listing_cache import ListingCache
from graph.serving.node_cache import NodeCache
from graph.serving.response_cache import ResponseCache
from graph.serving.ring_index import RingIndex, load_ring_index
from graph.serving.ring_pictures import PICTURE_DATA_NAMES, PreparedPictures, Stamp
from graph.serving.warmup import Warmup
from graph.writesteps import WriteStep

log = logging.getLogger("medfraud.serving")

# the relationships the read index holds, and the labels at their ends (their rows are held too)
INDEXED_TYPES = tuple(rt for rt in REL_TYPES if indexable(rt))
INDEXED_LABELS = frozenset(lab for rt in INDEXED_TYPES for lab in (*rt.start, *rt.end))
INDEXED_NAMES = frozenset({*INDEXED_LABELS, *(rt.type for rt in INDEXED_TYPES)})
# what ring membership is made of
RING_NAMES = frozenset({"Ring", "HAS_MEMBER", "DetectionRun"})
# what a ring's picture is made of: the data it reaches and ring membership
PICTURE_NAMES = tuple(sorted(PICTURE_DATA_NAMES | RING_NAMES))


@dataclass(frozen=True)
class ServingOptions:
    """How much the serving layer keeps in memory, and how fresh it stays."""

    read_index: bool = True
    node_cache: int = 100_000
    response_cache: int = 0
    # pages of rings, findings and cases lists (shared by callers who may see the same)
    listing_cache: int = 1_000
    # seconds between two readings of the store's revisions (0: before every read)
    check_s: float = 0.0
    # ring pictures prepared after start-up and after each detection run, and their hub cap
    warm_rings: int = 0
    hub_cap: int = 50


@dataclass(frozen=True)
class ServingHealth:
    """What ``/healthz`` reports: ``ready``/``building``/``off``/``not requested``, and
    ``preparing``/``ready``."""

    read_index: str
    ring_pictures: str


@dataclass(frozen=True)
class ServingStats:
    """What ``/metrics`` reports."""

    data_version: int
    node_cache_hits: int
    node_cache_misses: int
    response_cache_hits: int
    response_cache_misses: int
    listing_cache_hits: int
    listing_cache_misses: int
    read_index_bytes: int
    read_index_builds: int
    # prepared ring pictures, and the nodes they draw in all (what they hold in memory)
    ring_pictures: int = 0
    ring_picture_nodes: int = 0


def _type_names(rel_types: Sequence[str] | None) -> list[str]:
    return [rel_type(t).type for t in rel_types] if rel_types is not None else [r.type for r in REL_TYPES]


class _Stopped(Exception):
    """A read-index build interrupted because the store is closing."""


class _StoppableReader:
    """A snapshot reader that gives up between two batches once ``stop`` is set."""

    def __init__(self, inner: SnapshotReader, stop: threading.Event) -> None:
        self._inner, self._stop = inner, stop

    def _checked(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if self._stop.is_set():
                raise _Stopped
            yield batch

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self._checked(self._inner.stream_nodes(label, columns, batch_size=batch_size))

    def stream_relationships(self, rel_type: str, columns: Sequence[str] | None = None, *,
                             batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self._checked(self._inner.stream_relationships(rel_type, columns, batch_size=batch_size))


class ServingStore(GraphStore):
    """A store wrapper for the API server (see the module docstring)."""

    def __init__(self, inner: GraphStore, options: ServingOptions | None = None, *,
                 owns_inner: bool = True) -> None:
        self.inner = inner
        self.options = options or ServingOptions()
        self.kind = inner.kind
        self.query_language = inner.query_language
        self.atomic_loads = inner.atomic_loads
        self._owns_inner = owns_inner
        self._lock = threading.RLock()
        self._seen = inner.revisions()
        self._checked = time.monotonic()
        self._version = 0
        self._node_cache = NodeCache(self.options.node_cache)
        self._listings = ListingCache(self.options.listing_cache)
        self.answers = ResponseCache(self.options.response_cache)
        # ring membership and the revisions it was loaded at
        self._rings: RingIndex | None = None
        self._rings_at: tuple[str | None, ...] | None = None
        self._rings_lock = threading.Lock()
        self._pictures = PreparedPictures()
        # the read index: built on request, dropped by a change to what it holds, then rebuilt
        self._index_enabled = self.options.read_index
        self._index_wanted = False
        self._index: AdjacencyIndex | None = None
        self._index_gen = 0
        self._index_builds = 0
        self._index_lock = threading.Lock()
        self._index_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.started = False
        self.warmup = Warmup(self)

    @property
    def warm_rings(self) -> int:
        return self.options.warm_rings

    @property
    def hub_cap(self) -> int:
        return self.options.hub_cap

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Build the read index and prepare ring pictures, both in the background."""
        self.started = True
        self.build_read_index()
        self.warmup.start()

    def stop(self) -> None:
        """Stop the background work (a build under way gives up at its next batch)."""
        self._stop.set()
        self.warmup.stop()
        with self._index_lock:
            self._index_wanted = False
            thread = self._index_thread
        if thread is not None:
            thread.join(timeout=60)

    def close(self) -> None:
        self.stop()
        if self._owns_inner:
            self.inner.close()

    def health(self) -> ServingHealth:
        return ServingHealth(self.read_index_state, self.warmup.state)

    def stats(self) -> ServingStats:
        index = self._index
        pictures, picture_nodes = self._pictures.counts()
        return ServingStats(self.data_version, self._node_cache.hits, self._node_cache.misses,
                            self.answers.hits, self.answers.misses, self._listings.hits,
                            self._listings.misses,
                            index.nbytes if index is not None else 0, self._index_builds,
                            pictures, picture_nodes)

    # -- change tracking ----------------------------------------------------------------------
    @property
    def data_version(self) -> int:
        """Equal versions mean equal data, as far as the revisions read so far tell."""
        self.refresh()
        return self._version

    def refresh(self, *, force: bool = False) -> None:
        """Read the store's revisions (at most every ``check_s`` unless forced) and drop what changed."""
        now = time.monotonic()
        if not force and self.options.check_s > 0 and now - self._checked < self.options.check_s:
            return
        revisions = self.inner.revisions()
        with self._lock:
            self._checked = now
            seen = self._seen
            changed = {n for n in (*seen, *revisions) if seen.get(n) != revisions.get(n)}
            if not changed:
                return
            self._seen = revisions
            self._version += 1
        self._changed(changed)

    def _changed(self, names: set[str]) -> None:
        """The one place where in-memory copies are dropped: by the labels and types changed."""
        self._node_cache.invalidate(names)
        self._listings.invalidate(names)
        if names & INDEXED_NAMES:
            self._invalidate_read_index()
        if names.intersection(PICTURE_NAMES):
            self._pictures.clear()
            self.warmup.start()

    def revisions(self) -> dict[str, str]:
        return self.inner.revisions()

    def snapshot(self) -> contextlib.AbstractContextManager[SnapshotReader]:
        return self.inner.snapshot()

    @property
    def location(self) -> str:
        return self.inner.location

    def adapter(self) -> GraphStore:
        return self.inner.adapter()

    # -- writes: the adapter's, then the changes read at once ---------------------------------
    def apply_schema(self) -> None:
        self.inner.apply_schema()
        self.refresh(force=True)

    def upsert_nodes(self, label: str, rows: Rows, *, batch_size: int | None = None) -> int:
        try:
            return self.inner.upsert_nodes(label, rows, batch_size=batch_size)
        finally:
            self.refresh(force=True)

    def upsert_relationships(self, rel_type: str, rows: Rows, *, batch_size: int | None = None) -> int:
        try:
            return self.inner.upsert_relationships(rel_type, rows, batch_size=batch_size)
        finally:
            self.refresh(force=True)

    def replace_relationships(self, rel_type: str, sources: Sequence[str] | pa.Array | pa.ChunkedArray,
                              rows: Rows) -> int:
        try:
            return self.inner.replace_relationships(rel_type, sources, rows)
        finally:
            self.refresh(force=True)

    def delete_nodes(self, label: str, keys: Sequence[str]) -> int:
        try:
            return self.inner.delete_nodes(label, keys)
        finally:
            self.refresh(force=True)

    def write_steps(self, steps: Sequence[WriteStep]) -> None:
        try:
            self.inner.write_steps(steps)
        finally:
            self.refresh(force=True)

    @contextlib.contextmanager
    def load_transaction(self) -> Iterator[None]:
        try:
            with self.inner.load_transaction():
                yield
        finally:
            self.refresh(force=True)

    # -- reads --------------------------------------------------------------------------------
    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]:
        node_type(label)
        self.refresh()
        index = self._index
        held = index.get_nodes(label, keys) if index is not None else None
        if held is not None:
            return held
        return self._node_cache.get_nodes(label, keys, self.inner.get_nodes)

    def neighbours(self, seeds: Sequence[NodeRef], *, rel_types: Sequence[str] | None = None,
                   labels: Sequence[str] | None = None, since: date | None = None,
                   until: date | None = None, cap: int = 100, direction: Direction = "both") -> Expansion:
        check_cap(cap)
        check_direction(direction)
        types = _type_names(rel_types)
        wanted = {node_type(lab).label for lab in labels} if labels is not None else None
        self.refresh()
        index = self._index
        if not seeds:
            return Expansion()
        if index is None or not index.covers(types):
            return self.inner.neighbours(seeds, rel_types=rel_types, labels=labels, since=since, until=until,
                                         cap=cap, direction=direction)
        rows, totals = index.expand(seeds, rel_types=types, labels=wanted, since=since, until=until, cap=cap,
                                    outgoing=direction in ("out", "both"),
                                    incoming=direction in ("in", "both"))
        hops = [(*r[:6], r[7], {"date": r[6]} if r[6] is not None else {}) for r in rows]
        return assemble_expansion(seeds, hops, cap, totals if cap == 0 else {}, self.get_nodes)

    def degrees(self, refs: Sequence[NodeRef], rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]:
        types = _type_names(rel_types)
        self.refresh()
        index = self._index
        if index is None or not index.covers(types):
            return self.inner.degrees(refs, rel_types)
        return index.degrees(list(dict.fromkeys(refs)), types)

    def search(self, text: str, *, labels: Sequence[str] | None = None, limit: int = 20) -> list[Node]:
        return self.inner.search(text, labels=labels, limit=limit)

    def list_nodes(self, listing: Listing) -> Page:
        self.refresh()
        return self._listings.get(listing, self.inner.list_nodes)

    def stream_nodes(self, label: str, columns: Sequence[str] | None = None, *,
                     batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self.inner.stream_nodes(label, columns, batch_size=batch_size)

    def stream_relationships(self, rel_type: str, columns: Sequence[str] | None = None, *,
                             batch_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        return self.inner.stream_relationships(rel_type, columns, batch_size=batch_size)

    def count_nodes(self) -> dict[str, int]:
        return self.inner.count_nodes()

    def count_relationships(self) -> dict[str, int]:
        return self.inner.count_relationships()

    def read_query(self, text: str, params: dict[str, Any] | None = None, *, limit: int | None = None,
                   timeout_s: float | None = None) -> QueryResult:
        return self.inner.read_query(text, params, limit=limit, timeout_s=timeout_s)

    def analyst_query(self, text: str, params: dict[str, Any] | None = None, *, key: str,
                      limit: int | None = None, timeout_s: float | None = None) -> QueryResult:
        return self.inner.analyst_query(text, params, key=key, limit=limit, timeout_s=timeout_s)

    def ping(self) -> None:
        self.inner.ping()

    # -- ring membership ----------------------------------------------------------------------
    def ring_index(self) -> RingIndex:
        """Which rings each node belongs to, and each ring's members (reloaded when rings change)."""
        self.refresh()
        with self._rings_lock:
            at = tuple(self._seen.get(n) for n in sorted(RING_NAMES))
            if self._rings is None or at != self._rings_at:
                self._rings = load_ring_index(self.inner)
                self._rings_at = at
            return self._rings

    # -- prepared ring pictures ---------------------------------------------------------------
    def picture_stamp(self) -> Stamp:
        """The revisions of what a ring's picture shows, as of now."""
        self.refresh()
        with self._lock:
            return tuple(self._seen.get(n) for n in PICTURE_NAMES)

    def ring_picture(self, ring_id: str, hops: int, max_nodes: int, cap: int) -> sg.Assembled | None:
        """The ring's prepared picture of this shape, if one is held for the data as it is now.

        Unscoped: :meth:`api.security.scope.ScopedStore.ring_picture` decides who may be given it.
        """
        return self._pictures.get(ring_id, self.picture_stamp(), (hops, max_nodes, cap))

    def keep_ring_picture(self, ring_id: str, stamp: Stamp, hops: int, max_nodes: int, cap: int,
                          picture: sg.Assembled) -> None:
        """Hold a picture assembled from the data as of ``stamp`` (read before assembling it)."""
        if stamp == self.picture_stamp():  # else the data moved meanwhile: it may be older
            self._pictures.put(ring_id, stamp, (hops, max_nodes, cap), picture)

    # -- the read index -----------------------------------------------------------------------
    @property
    def read_index_state(self) -> str:
        """``ready``, ``building``, ``off`` (disabled or unusable) or ``not requested``."""
        if self._index is not None:
            return "ready"
        if not self._index_enabled:
            return "off"
        return "building" if self._index_wanted else "not requested"

    def build_read_index(self, *, wait: bool = False) -> None:
        """Build the read index in the background (``wait``: and block until it is ready).

        Until it is ready, and while it is rebuilt after a write, reads go to the store, with the
        same results. Does nothing when turned off (``MEDFRAUD_READ_INDEX=false``).
        """
        if not self._index_enabled or self._stop.is_set():
            return
        with self._index_lock:
            self._index_wanted = True
            thread = self._index_thread
            if self._index is None and (thread is None or not thread.is_alive()):
                thread = threading.Thread(target=self._build_read_index, name="medfraud-read-index",
                                          daemon=True)
                self._index_thread = thread
                thread.start()
        if wait and thread is not None:
            thread.join()

    def _build_read_index(self) -> None:
        while not self._stop.is_set():
            with self._index_lock:
                gen = self._index_gen
            started = time.perf_counter()
            before = self.inner.revisions()
            try:
                with self.inner.snapshot() as reader:
                    index = AdjacencyIndex.build(_StoppableReader(reader, self._stop), INDEXED_TYPES,
                                                 row_labels=sorted(INDEXED_LABELS))
            except _Stopped:
                return
            except (IndexUnusable, MedfraudError, MemoryError) as exc:
                if not self._stop.is_set():
                    # say so once and serve from the store rather than retry forever
                    log.warning("read index disabled, reads go to the store: %s", exc)
                    self._index_enabled = False
                return
            after = self.inner.revisions()
            moved = {n for n in INDEXED_NAMES if before.get(n) != after.get(n)}
            with self._index_lock:
                if self._stop.is_set():
                    return
                if gen == self._index_gen and not moved:
                    self._index = index
                    self._index_builds += 1
                    log.info("read index ready: %d nodes, %.0f MB, %.1f s", int(index.starts[-1]),
                             index.nbytes / 1e6, time.perf_counter() - started)
                    return
            # what it holds changed while it was being built: build it again
            self.refresh(force=True)

    def _invalidate_read_index(self) -> None:
        with self._index_lock:
            self._index_gen += 1
            self._index = None
            wanted = self._index_wanted
        if wanted:
            self.build_read_index()
