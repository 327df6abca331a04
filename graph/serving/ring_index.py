"""Ring membership held in memory: which rings each node belongs to, and each ring's members.

Membership changes only when a detection run writes its results (``replace_derived`` writes a
``DetectionRun`` node with them), and every drawn node needs its ring ids and risk score, so the
server keeps the whole membership (rings x members, tens of thousands of rows even for a large
city) and reloads it when the set of detection runs changes. The check costs one tiny read and is
done at most every ``check_s`` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pandas as pd

from graph.model import NodeRef
from graph.port import GraphStore


@dataclass(frozen=True)
class RingIndex:
    memberships: dict[NodeRef, list[tuple[str, float]]] = field(default_factory=dict)
    members: dict[str, list[tuple[NodeRef, str | None]]] = field(default_factory=dict)

    def rings_of(self, refs: list[NodeRef]) -> dict[NodeRef, list[tuple[str, float]]]:
        return {r: self.memberships[r] for r in refs if r in self.memberships}


def load_ring_index(store: GraphStore) -> RingIndex:
    rings = store.nodes_frame("Ring", ["ring_id", "score"])
    score_values = pd.to_numeric(rings["score"], errors="coerce").fillna(0.0)
    scores = dict(zip(rings["ring_id"].astype(str), score_values, strict=True))
    links = store.relationships_frame("HAS_MEMBER")
    memberships: dict[NodeRef, list[tuple[str, float]]] = {}
    members: dict[str, list[tuple[NodeRef, str | None]]] = {}
    roles = links["role"] if "role" in links.columns else pd.Series([None] * len(links))
    for ring_id, key, label, role in zip(links["src"].astype(str), links["dst"].astype(str),
                                         links["dst_label"].astype(str), roles, strict=True):
        ref = NodeRef(label, key)
        memberships.setdefault(ref, []).append((ring_id, float(scores.get(ring_id, 0.0))))
        members.setdefault(ring_id, []).append((ref, None if pd.isna(role) else str(role)))
    for rings_of in memberships.values():
        rings_of.sort(key=lambda r: (-r[1], r[0]))
    return RingIndex(memberships, members)


def _fingerprint(store: GraphStore) -> tuple[int, str]:
    runs = store.nodes_frame("DetectionRun", ["run_id"])["run_id"].astype(str)
    return len(runs), (max(runs) if len(runs) else "")


class RingIndexCache:
    def __init__(self, check_s: float = 2.0) -> None:
        self.check_s = check_s
        self._lock = threading.Lock()
        self._index: RingIndex | None = None
        self._fingerprint: tuple[int, str] | None = None
        self._checked = 0.0
        # bumped whenever the index is reloaded: answers built on an older index are not reused
        self.generation = 0

    def invalidate(self) -> None:
        with self._lock:
            self._fingerprint = None
            self._checked = 0.0

    def get(self, store: GraphStore) -> RingIndex:
        with self._lock:
            if self._index is not None and time.monotonic() - self._checked < self.check_s:
                return self._index
            fingerprint = _fingerprint(store)
            if self._index is None or fingerprint != self._fingerprint:
                self._index = load_ring_index(store)
                self._fingerprint = fingerprint
                self.generation += 1
            self._checked = time.monotonic()
            return self._index
