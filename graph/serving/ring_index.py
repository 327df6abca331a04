"""Ring membership held in memory: which rings each node belongs to, and each ring's members.

Membership changes only when a detection run writes its results, and every drawn node needs its
ring ids and risk score, so the server keeps the whole membership (rings x members, tens of
thousands of rows even for a large city); :class:`graph.serving.store.ServingStore` reloads it
when the revisions of ``Ring``, ``HAS_MEMBER`` or ``DetectionRun`` change.
"""

from __future__ import annotations

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
