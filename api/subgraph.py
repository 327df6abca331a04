"""Subgraphs and paths assembled above the store port, small enough to draw.

A subgraph grows hop by hop from its seeds with one ``store.neighbours`` call per hop. Each
expanded node gives at most ``cap`` relationships (hub control; the store reports how many it left
out, shown to the user as ``cutCount``), and the whole picture never exceeds ``max_nodes``: when a
hop brings more candidates than there is room for, those touching the most already-drawn nodes go
first — for a ring that keeps the claims that tie its patients to its clinic ahead of stray ones.

Paths use networkx on a subgraph grown from both ends, so they are shortest within what the hub
caps let through (documented in docs/api.md).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from graph.errors import InvalidRequest, NotFound
from graph.model import REL_TYPES, Edge, Node, NodeRef, rel_type
from graph.port import GraphStore

# What a picture may traverse: the data itself. Derived links (ring membership, findings, cases)
# are shown through node annotations and their own fields, and case links must never be walked.
TRAVERSABLE = tuple(r.type for r in REL_TYPES if not r.derived)

Allow = Callable[[NodeRef], bool]
EdgeKey = tuple[str, NodeRef, NodeRef]


@dataclass
class Assembled:
    nodes: dict[NodeRef, Node] = field(default_factory=dict)
    edges: dict[EdgeKey, Edge] = field(default_factory=dict)
    cut: dict[NodeRef, int] = field(default_factory=dict)
    truncated: bool = False

    def merge(self, other: Assembled) -> None:
        self.nodes.update(other.nodes)
        self.edges.update(other.edges)
        for ref, n in other.cut.items():
            self.cut[ref] = max(self.cut.get(ref, 0), n)
        self.truncated = self.truncated or other.truncated


def check_rel_types(rel_types: Sequence[str] | None) -> list[str]:
    if not rel_types:
        return list(TRAVERSABLE)
    out = []
    for t in rel_types:
        rel_type(t)  # unknown types raise SchemaError (BAD_REQUEST-like)
        if t not in TRAVERSABLE:
            raise InvalidRequest(
                f"relationship type {t} cannot be traversed; use one of {', '.join(TRAVERSABLE)}")
        out.append(t)
    return out


def fetch_nodes(store: GraphStore, refs: Sequence[NodeRef]) -> dict[NodeRef, Node]:
    """Nodes by ref, one store call per label; absent ones are left out."""
    by_label: dict[str, list[str]] = {}
    for r in refs:
        by_label.setdefault(r.label, []).append(r.key)
    found: dict[NodeRef, Node] = {}
    for label, keys in by_label.items():
        for node in store.get_nodes(label, list(dict.fromkeys(keys))):
            found[node.ref] = node
    return {r: found[r] for r in refs if r in found}


def expand(
    store: GraphStore,
    seeds: Sequence[NodeRef],
    *,
    hops: int,
    max_nodes: int,
    cap: int,
    rel_types: Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    allow: Allow | None = None,
) -> Assembled:
    """Grow a subgraph of at most ``max_nodes`` nodes ``hops`` hops around ``seeds``."""
    types = check_rel_types(rel_types)
    wanted = [s for s in dict.fromkeys(seeds) if allow is None or allow(s)]
    out = Assembled()
    present = fetch_nodes(store, wanted)
    if not present:
        raise NotFound("none of the seed nodes exist: " + ", ".join(str(s) for s in seeds[:5]))
    for ref, node in list(present.items())[:max_nodes]:
        out.nodes[ref] = node
    out.truncated = len(present) > max_nodes
    frontier = list(out.nodes)
    for _ in range(hops):
        if not frontier:
            break
        if len(out.nodes) >= max_nodes:
            out.truncated = True
            break
        exp = store.neighbours(frontier, rel_types=types, since=since, until=until, cap=cap)
        for ref, n in exp.cut.items():
            out.cut[ref] = out.cut.get(ref, 0) + n
        new_nodes = {n.ref: n for n in exp.nodes
                     if n.ref not in out.nodes and (allow is None or allow(n.ref))}
        touches: Counter[NodeRef] = Counter()
        for e in exp.edges:
            for end in (e.src, e.dst):
                if end in new_nodes:
                    touches[end] += 1
        ranked = sorted(new_nodes, key=lambda r: -touches[r])  # stable: store order breaks ties
        room = max_nodes - len(out.nodes)
        if len(ranked) > room:
            out.truncated = True
            ranked = ranked[:room]
        for ref in ranked:
            out.nodes[ref] = new_nodes[ref]
        for e in exp.edges:
            if e.src in out.nodes and e.dst in out.nodes:
                out.edges[(e.type, e.src, e.dst)] = e
        frontier = ranked
    return out


def paths(
    store: GraphStore,
    source: NodeRef,
    target: NodeRef,
    *,
    max_hops: int,
    max_nodes: int,
    cap: int,
    max_paths: int,
    allow: Allow | None = None,
) -> tuple[list[list[NodeRef]], Assembled]:
    """Shortest paths (up to ``max_paths``) of at most ``max_hops`` between two nodes."""
    if source == target:
        raise InvalidRequest("paths needs two different nodes")
    near = expand(store, [source], hops=(max_hops + 1) // 2, max_nodes=max_nodes, cap=cap, allow=allow)
    far = expand(store, [target], hops=max_hops // 2, max_nodes=max_nodes, cap=cap, allow=allow)
    near.merge(far)
    g: nx.Graph = nx.Graph()
    g.add_nodes_from(near.nodes)
    g.add_edges_from((s, d) for _, s, d in near.edges)
    try:
        found = [list(p) for p in itertools.islice(nx.all_shortest_paths(g, source, target), max_paths)]
    except nx.NetworkXNoPath:
        return [], near
    return [p for p in found if len(p) - 1 <= max_hops], near


def path_edges(assembled: Assembled, path: Sequence[NodeRef]) -> list[Edge]:
    """The relationships along a path, in path order (one per step)."""
    index: dict[frozenset[NodeRef], Edge] = {}
    for (_, s, d), e in assembled.edges.items():
        index.setdefault(frozenset((s, d)), e)
    return [index[frozenset((a, b))] for a, b in itertools.pairwise(path)]


def ring_memberships(store: GraphStore, refs: Sequence[NodeRef]) -> dict[NodeRef, list[tuple[str, float]]]:
    """For each node, the rings it belongs to with their score (one store call)."""
    memberable = {t for r in REL_TYPES if r.type == "HAS_MEMBER" for t in r.end}
    asked = [r for r in refs if r.label in memberable]
    if not asked:
        return {}
    exp = store.neighbours(asked, rel_types=["HAS_MEMBER"], direction="in", cap=1_000)
    scores = {n.key: _float(n.props.get("score")) for n in exp.nodes if n.label == "Ring"}
    out: dict[NodeRef, list[tuple[str, float]]] = {}
    for e in exp.edges:
        if e.src.label == "Ring":
            out.setdefault(e.dst, []).append((e.src.key, scores.get(e.src.key, 0.0)))
    return out


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
