"""Stable ring identity across runs: a ring that persists keeps its id.

Investigators attach cases, notes and reviews to a ``Ring`` node, so a re-run must not rename the
rings it finds again. Each new ring is matched to a previous ring of the same kind by member
overlap (Jaccard of all member refs ``Label:key``); pairs are taken greedily, best overlap first,
each ring used once, and a match needs ``identity_min_jaccard``. Outcomes:

- matched: keeps the previous id; status ``grown`` / ``shrunk`` / ``stable`` by member count;
- unmatched new ring: a fresh id, status ``new``;
- unmatched previous ring (not already vanished): status ``vanished``; its node stays (with its
  last members) so cases attached to it still resolve.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel, Field

from algorithms.evidence import Evidence
from algorithms.results import Ring


class PreviousRing(BaseModel):
    """A ring as stored by an earlier run."""

    ring_id: str
    kind: str
    status: str
    members: set[str]  # "Label:key"
    score: float = 0.0
    score_history: list[dict[str, object]] = Field(default_factory=list)
    first_run_id: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    created_at: datetime | None = None


class Changes(BaseModel):
    new: list[str] = Field(default_factory=list)
    grown: list[str] = Field(default_factory=list)
    shrunk: list[str] = Field(default_factory=list)
    stable: list[str] = Field(default_factory=list)
    vanished: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.model_dump().items()}


def new_ring_id() -> str:
    return f"R-{uuid.uuid4().hex[:12]}"


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def assign_ids(
    current: list[Ring], previous: list[PreviousRing], *, min_jaccard: float = 0.3
) -> tuple[list[Ring], list[PreviousRing], Changes]:
    """Give every current ring an id and status; return (rings, vanished previous rings, changes)."""
    index: dict[str, list[int]] = defaultdict(list)
    for j, prev in enumerate(previous):
        for ref in prev.members:
            index[ref].append(j)
    candidates: list[tuple[float, int, int]] = []
    for i, ring in enumerate(current):
        refs = ring.member_refs
        seen: set[int] = set()
        for ref in refs:
            for j in index.get(ref, ()):
                if j in seen or previous[j].kind != ring.kind:
                    continue
                seen.add(j)
                score = jaccard(refs, previous[j].members)
                if score >= min_jaccard:
                    candidates.append((score, i, j))
    # Best overlap first; ties broken by order so the result is deterministic.
    candidates.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_i: set[int] = set()
    used_j: set[int] = set()
    match: dict[int, int] = {}
    for _, i, j in candidates:
        if i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        match[i] = j
    changes = Changes()
    out: list[Ring] = []
    for i, ring in enumerate(current):
        if i in match:
            prev = previous[match[i]]
            n_new, n_old = len(ring.member_refs), len(prev.members)
            if prev.status == "vanished":
                status = "new"
            else:
                status = "grown" if n_new > n_old else "shrunk" if n_new < n_old else "stable"
            out.append(ring.model_copy(update={"ring_id": prev.ring_id, "status": status}))
        else:
            status = "new"
            out.append(ring.model_copy(update={"ring_id": new_ring_id(), "status": status}))
        getattr(changes, status).append(out[-1].ring_id or "")
    vanished = [p for j, p in enumerate(previous) if j not in used_j and p.status != "vanished"]
    changes.vanished = [p.ring_id for p in vanished]
    return out, vanished, changes
