"""A ring's picture, and the pictures of the best-scored live rings prepared in memory.

Why: the ring list is where every investigation starts, and opening a ring draws its picture: up to
300 nodes, mostly its patients' claims. Assembling it (:func:`graph.serving.pictures.expand`) costs
5-10 ms even from the in-memory read index — a third of a first view. Between two changes of the
data or the rings, a ring's picture is the same for everyone who may see all of it, so the serving
layer's warm-up (:mod:`graph.serving.warmup`) assembles the default picture of each of the top
``MEDFRAUD_API_WARM_RINGS`` live rings once and keeps it here.

What is kept is the data (nodes, relationships, counts left out), never an answer: each request
still presents the picture through its caller's masking and audit trail, and only callers whose
scope cannot hide any part of it are given it (:meth:`api.security.scope.ScopedStore.ring_picture`);
the others assemble it through their scope as before.

Each picture carries the revisions it was assembled at (``stamp``: the data labels and types a
picture can reach and ring membership); one that no longer matches the store's is never handed
out. Pictures are held as tuples of strings and property dicts, which Python's collector does not
track (as long as no property holds a nested value), so a few hundred of them add next to nothing
to its full passes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from graph.model import REL_TYPES, Edge, Node, NodeRef
from graph.serving import pictures as sg

# the data a picture can reach: the types it traverses and the labels at their ends (ring
# membership is the serving layer's RING_NAMES)
PICTURE_DATA_NAMES = frozenset({
    *(rt.type for rt in REL_TYPES if rt.type in sg.TRAVERSABLE),
    *(lab for rt in REL_TYPES if rt.type in sg.TRAVERSABLE for lab in (*rt.start, *rt.end)),
})
# a ring's own picture: 1 hop, 300 nodes (the ``Ring.subgraph`` defaults)
PICTURE_HOPS = 1
PICTURE_NODES = 300
# member roles first in a ring's member list and picture: its clinic and doctor, then patients
_ROLE_ORDER = {"doctor": 0, "institution": 0, "patient": 1}

Stamp = tuple[str | None, ...]


def ring_members(store: sg.GraphReader,
                 listed: Sequence[tuple[NodeRef, str | None]]) -> list[tuple[Node, str | None]]:
    """A ring's member nodes with their role: institutions and doctors first, then patients, then the rest."""
    roles = dict(listed)
    nodes = sg.fetch_nodes(store, [ref for ref, _ in listed])
    ranked = sorted(nodes.values(),
                    key=lambda n: (_ROLE_ORDER.get(roles.get(n.ref) or "", 2), n.label, n.key))
    return [(n, roles.get(n.ref)) for n in ranked]


def ring_picture(store: sg.GraphReader, kind: str, members: Sequence[Node], *, hops: int, max_nodes: int,
                 cap: int) -> sg.Assembled:
    """The ring's members and what ties them together (members in :func:`ring_members` order)."""
    refs = [n.ref for n in members]
    return sg.expand(store, refs, hops=hops, max_nodes=max_nodes, cap=cap, skip_hub_seeds=True,
                     first_hop_rel_types=sg.ring_picture_rels(kind, refs), known=list(members))


_HeldNode = tuple[str, str, dict[str, object]]
_HeldEdge = tuple[str, str, str, str, str, dict[str, object]]


@dataclass(frozen=True)
class _Held:
    """A picture in a form the garbage collector does not track (see the module docstring)."""

    stamp: Stamp
    shape: tuple[int, int, int]  # hops, max_nodes, cap
    nodes: tuple[_HeldNode, ...]
    edges: tuple[_HeldEdge, ...]
    cut: tuple[tuple[str, str, int], ...]
    truncated: bool

    @classmethod
    def of(cls, stamp: Stamp, shape: tuple[int, int, int], picture: sg.Assembled) -> _Held:
        return cls(stamp, shape,
                   tuple((n.label, n.key, dict(n.props)) for n in picture.nodes.values()),
                   tuple((e.type, e.src.label, e.src.key, e.dst.label, e.dst.key, dict(e.props))
                         for e in picture.edges.values()),
                   tuple((r.label, r.key, n) for r, n in picture.cut.items()),
                   picture.truncated)

    def assembled(self) -> sg.Assembled:
        # fresh objects and property dicts: callers may build on them, what is held stays as read
        out = sg.Assembled(truncated=self.truncated)
        refs: dict[tuple[str, str], NodeRef] = {}
        for label, key, props in self.nodes:
            ref = refs[(label, key)] = NodeRef(label, key)
            out.nodes[ref] = Node(label, key, dict(props))
        for type_, src_label, src_key, dst_label, dst_key, props in self.edges:
            src = refs.get((src_label, src_key)) or NodeRef(src_label, src_key)
            dst = refs.get((dst_label, dst_key)) or NodeRef(dst_label, dst_key)
            out.edges[(type_, src, dst)] = Edge(type_, src, dst, dict(props))
        for label, key, n in self.cut:
            out.cut[refs.get((label, key)) or NodeRef(label, key)] = n
        return out


class PreparedPictures:
    """Ring pictures by ring id, each with the stamp it was assembled at; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}

    def get(self, ring_id: str, stamp: Stamp, shape: tuple[int, int, int]) -> sg.Assembled | None:
        with self._lock:
            held = self._held.get(ring_id)
        if held is None or held.stamp != stamp or held.shape != shape:
            return None
        return held.assembled()

    def put(self, ring_id: str, stamp: Stamp, shape: tuple[int, int, int], picture: sg.Assembled) -> None:
        held = _Held.of(stamp, shape, picture)
        with self._lock:
            self._held[ring_id] = held

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def counts(self) -> tuple[int, int]:
        """How many pictures are held, and how many nodes they draw in all."""
        with self._lock:
            return len(self._held), sum(len(h.nodes) for h in self._held.values())
