"""The store writes of an ingest: one background thread, in order, inside one load transaction."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from graph.port import GraphStore

Progress = Callable[[int], None]


@dataclass
class Write:
    """One upsert stream: a label or relationship type and a builder of its rows from a slice."""

    kind: str  # "node", "rel", or "replace" (the rows become the only ones leaving their sources)
    name: str
    build: Callable[[pa.Table], pa.Table]
    source: pa.Table
    weight: int = 0  # share of the table's file bytes, for the progress bar
    sources: str = ""  # for "replace": the column of ``source`` holding the start keys


def _slices(table: pa.Table, size: int) -> Iterator[pa.Table]:
    for offset in range(0, table.num_rows, size):
        yield table.slice(offset, size)


class Writer:
    """Runs the store writes on one background thread, in submission order.

    Store upserts spend their time inside DuckDB (which releases the GIL), so validating the
    next table while the previous one is written uses the second core. Writes stay strictly
    ordered (nodes before the relationships that need them), so the graph is the same as a
    sequential load; a failed write stops the pipeline and is raised in the caller's thread.
    """

    def __init__(self, store: GraphStore, size: int, bar: Progress | None, on_batch: Progress | None) -> None:
        self.store, self.size, self.bar, self.on_batch = store, size, bar, on_batch
        # Unbounded: an item only references rows already in memory, and a bound would stall
        # validation of the next table behind the writes of this one.
        self.queue: queue.Queue[tuple[str, Write] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.written: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.phases: dict[str, float] = {}
        # Nothing is written until every table has parsed: a file that breaks loads nothing at all.
        self.go = threading.Event()
        self.discard = False
        self.thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self.thread.start()

    def start(self) -> None:
        self.go.set()

    def submit(self, table: str, w: Write) -> None:
        if self.error is not None:
            self.close()
        self.queue.put((table, w))

    def _run(self) -> None:
        self.go.wait()
        try:
            # One transaction for the whole load where the store can: a failure anywhere (out of
            # memory included) leaves the store exactly as it was.
            with self.store.load_transaction():
                self._drain()
                if self.error is not None or self.discard:
                    raise _Abandon
        except _Abandon:
            pass
        except BaseException as exc:  # the commit itself failed; handed over by close()
            self.error = self.error or exc

    def _drain(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None or self.discard:
                continue  # drain after a failure (close() raises it) or an aborted ingest
            table, w = item
            started = time.perf_counter()
            try:
                for part in _slices(w.source, self.size):
                    rows = w.build(part)
                    if w.kind == "node":
                        n = self.store.upsert_nodes(w.name, rows)
                    elif w.kind == "replace":
                        n = self.store.replace_relationships(w.name, part.column(w.sources), rows)
                    else:
                        n = self.store.upsert_relationships(w.name, rows)
                    self.written[w.name] = self.written.get(w.name, 0) + n
                    if self.on_batch is not None:
                        self.on_batch(part.num_rows)
                if self.bar is not None:
                    self.bar(w.weight)
            except BaseException as exc:  # handed to the caller's thread by close()
                self.error = exc
            spent = time.perf_counter() - started
            self.seconds[table] = self.seconds.get(table, 0.0) + spent
            self.phases[f"write:{w.name}"] = self.phases.get(f"write:{w.name}", 0.0) + spent

    def close(self, *, discard: bool = False) -> None:
        """Wait for every submitted write and commit them all, or (``discard``) roll back; re-raise
        the first failure."""
        if discard:
            self.discard = True
        self.go.set()
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


class _Abandon(Exception):
    """Raised inside the load transaction to roll it back (an aborted or failed ingest)."""
