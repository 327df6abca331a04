"""A bounded, thread-safe cache of nodes by reference, dropped per label when that label is written.

Why: fetching a node row from DuckDB by key costs tens of microseconds per key (an ART probe and a
row fetch per column), and a network picture draws up to 300 nodes, most of them claims the last
picture of the same ring already drew. Investigators open the same rings and people again and
again; the cache keeps their rows in memory up to a fixed number of nodes (least recently used out).

Entries are plain ``(label, key) -> properties`` pairs, not ``Node`` objects: tuples of strings
and dicts of scalars are not tracked by Python's garbage collector, so a full cache adds nothing
to the collector's pauses (a cache of 100,000 node objects made them 100 ms and more).

Consistency: a write invalidates every cached node of the labels it touched once it has committed,
and a read that raced with that write does not put its (possibly older) rows back, because it
checks the label's generation before storing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from graph.model import Node


class NodeCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._props: OrderedDict[tuple[str, str], dict[str, object]] = OrderedDict()
        self._generation: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def get_nodes(self, label: str, keys: Sequence[str],
                  fetch: Callable[[str, Sequence[str]], list[Node]]) -> list[Node]:
        """Nodes of ``label`` by key in the order asked (absent ones left out), via the cache."""
        if self.capacity <= 0:
            return fetch(label, keys)
        wanted = list(dict.fromkeys(str(k) for k in keys))
        found: dict[str, dict[str, object]] = {}
        with self._lock:
            generation = self._generation.get(label, 0)
            for key in wanted:
                props = self._props.get((label, key))
                if props is not None:
                    self._props.move_to_end((label, key))
                    found[key] = props
            self.hits += len(found)
            self.misses += len(wanted) - len(found)
        missing = [k for k in wanted if k not in found]
        if missing:
            fetched = fetch(label, missing)
            for node in fetched:
                found[node.key] = node.props
            self._store(label, generation, fetched)
        # copies: callers may build on a node's properties, the cached rows must stay as read
        return [Node(label, k, dict(found[k])) for k in wanted if k in found]

    def _store(self, label: str, generation: int, nodes: Iterable[Node]) -> None:
        with self._lock:
            if self._generation.get(label, 0) != generation:
                return  # the label was written meanwhile: these rows may predate the write
            for node in nodes:
                self._props[(node.label, node.key)] = dict(node.props)
                self._props.move_to_end((node.label, node.key))
            while len(self._props) > self.capacity:
                self._props.popitem(last=False)

    def invalidate(self, labels: Iterable[str]) -> None:
        labels = set(labels)
        if not labels:
            return
        with self._lock:
            for label in labels:
                self._generation[label] = self._generation.get(label, 0) + 1
            for entry in [e for e in self._props if e[0] in labels]:
                del self._props[entry]
