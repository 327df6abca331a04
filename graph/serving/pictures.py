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
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import networkx as nx

from graph.errors import InvalidRequest, NotFound
from graph.model import REL_TYPES, Edge, Node, NodeRef, rel_type
from graph.port import Direction, Expansion

# What a picture may traverse: the data itself. Derived links (ring membership, findings, cases)
# are shown through node annotations and their own fields, and case links must never be walked.
TRAVERSABLE = tuple(r.type for r in REL_TYPES if not r.derived)

Allow = Callable[[NodeRef], bool]
EdgeKey = tuple[str, NodeRef, NodeRef]


class GraphReader(Protocol):
    """The reads subgraph assembly needs; both the raw store and a ScopedStore provide them."""

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[Node]: ...

    def neighbours(self, seeds: Sequence[NodeRef], *, rel_types: Sequence[str] | None = None,
                   labels: Sequence[str] | None = None, since: date | None = None,
                   until: date | None = None, cap: int = 100, direction: Direction = "both") -> Expansion: ...

    def degrees(self, refs: Sequence[NodeRef],
                rel_types: Sequence[str] | None = None) -> dict[NodeRef, int]: ...



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


# What a ring's picture follows from its members first: the co-visits for a collusive ring (claims,
# which reach the clinic and doctor by their own columns); the shared identifiers for a
# shared-identifier ring. A wider picture is one hop more (hops=2) or a subgraph query.
RING_PICTURE_RELS: dict[str, list[str]] = {
    "collusion": ["HAS_CLAIM"],
    "shared_identifier": ["HAS_PHONE", "HAS_ACCOUNT", "LIVES_AT", "EMPLOYED_BY"],
    "pharmacy_cash_out": ["HAS_CLAIM"],
}
# An identifier among a ring's members (a collusive ring's broker phone, say) is drawn with the
# links that make it shared; without them it floats unconnected in the picture.
MEMBER_LINKS = {"Phone": "HAS_PHONE", "BankAccount": "HAS_ACCOUNT", "Address": "LIVES_AT"}


def ring_picture_rels(kind: str, members: Sequence[NodeRef]) -> list[str] | None:
    """What the first hop of a ring's picture follows: what makes the ring, and its identifiers."""
    base = RING_PICTURE_RELS.get(kind)
    if base is None:
        return None
    links = [MEMBER_LINKS[lab] for lab in dict.fromkeys(m.label for m in members) if lab in MEMBER_LINKS]
    return list(dict.fromkeys([*base, *links]))


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


def fetch_nodes(store: GraphReader, refs: Sequence[NodeRef]) -> dict[NodeRef, Node]:
    """Nodes by ref, one store call per label; absent ones are left out."""
    by_label: dict[str, list[str]] = {}
    for r in refs:
        by_label.setdefault(r.label, []).append(r.key)
    found: dict[NodeRef, Node] = {}
    for label, keys in by_label.items():
        for node in store.get_nodes(label, list(dict.fromkeys(keys))):
            found[node.ref] = node
    return {r: found[r] for r in refs if r in found}


# Labels whose nodes are hubs by nature (thousands of claims); see ``skip_hub_seeds``.
HUB_LABELS = frozenset({"Institution", "Pharmacy", "Doctor"})
MIN_CAP = 5
# Labels that can gather tens of thousands of relationships (a big employer, a hospital). Reached
# (not asked for), such a node is expanded only below this degree: listing a sample of 45,000
# colleagues costs the store a sort of all of them and tells the investigator nothing; the node is
# drawn with its full count as cutCount, to be expanded on purpose.
HUB_PRONE = frozenset({"Employer", "Institution", "Pharmacy", "Doctor"})
HUB_SKIP_DEGREE = 2_000
# How many more candidates than there is room for a hop may fetch: a little surplus lets the
# best-connected ones win; much more only costs point lookups in the store.
OVERSAMPLE = 1.1


def implied_edges(nodes: dict[NodeRef, Node], types: Sequence[str]) -> list[Edge]:
    """The relationships a claim's own columns imply, between nodes already in hand.

    A claim carries person_id, institution_id, doctor_id and injury_case_id, and ingest derives
    ``HAS_CLAIM``/``TREATED_AT``/``BY_DOCTOR``/``FOR_INJURY`` from exactly those columns (dated with
    the claim's start date), so these edges cost no store call. They tie a claim reached from a
    patient to the clinic and doctor already drawn, which a capped expansion of the clinic (most
    recent claims first) would usually miss.
    """
    wanted = set(types)
    out: list[Edge] = []
    for ref, node in nodes.items():
        if ref.label != "Claim":
            continue
        p = node.props
        day = {"date": p["start_date"]} if p.get("start_date") is not None else {}
        ends: list[tuple[str, NodeRef | None, bool]] = [
            ("HAS_CLAIM", _ref_in(nodes, ("Patient",), p.get("person_id")), True),
            ("TREATED_AT", _ref_in(nodes, ("Institution", "Pharmacy"), p.get("institution_id")), False),
            ("BY_DOCTOR", _ref_in(nodes, ("Doctor",), p.get("doctor_id")), False),
            ("FOR_INJURY", _ref_in(nodes, ("InjuryCase",), p.get("injury_case_id")), False),
        ]
        for type_, other, incoming in ends:
            if other is None or type_ not in wanted:
                continue
            props = day if rel_type(type_).dated else {}
            src, dst = (other, ref) if incoming else (ref, other)
            out.append(Edge(type_, src, dst, dict(props)))
    return out


def _ref_in(nodes: dict[NodeRef, Node], labels: tuple[str, ...], key: object) -> NodeRef | None:
    if key is None or key == "":
        return None
    for label in labels:
        ref = NodeRef(label, str(key))
        if ref in nodes:
            return ref
    return None


def claim_neighbours(store: GraphReader, claims: Sequence[Node], types: Sequence[str],
                     known: dict[NodeRef, Node], since: date | None, until: date | None) -> list[Node]:
    """The patients, institutions, doctors and injury cases of claims, read by key from their columns.

    Same answer as ``neighbours`` on the claims (whose relationships ingest derives from these
    columns) at the cost of a key lookup per label instead of a multi-table expansion.
    """
    wanted: dict[str, list[str]] = {}
    pharmacy_or_not: dict[str, str] = {}

    def want(label: str, key: object) -> None:
        if key is None or key == "" or NodeRef(label, str(key)) in known:
            return
        wanted.setdefault(label, []).append(str(key))

    for claim in claims:
        p = claim.props
        start = p.get("start_date")  # typed by the port (graph/records.py): a date or absent
        day = start if isinstance(start, date) else None
        in_window = not ((since and day and day < since) or (until and day and day > until))
        if in_window:
            if "HAS_CLAIM" in types:
                want("Patient", p.get("person_id"))
            if "TREATED_AT" in types and p.get("institution_id"):
                label = "Pharmacy" if p.get("visit_type") == "pharmacy" else "Institution"
                if NodeRef("Institution", str(p["institution_id"])) not in known and \
                        NodeRef("Pharmacy", str(p["institution_id"])) not in known:
                    want(label, p["institution_id"])
                    pharmacy_or_not[str(p["institution_id"])] = label
            if "BY_DOCTOR" in types:
                want("Doctor", p.get("doctor_id"))
        if "FOR_INJURY" in types:
            want("InjuryCase", p.get("injury_case_id"))
    found: list[Node] = []
    for label, keys in wanted.items():
        got = store.get_nodes(label, list(dict.fromkeys(keys)))
        found += got
        if label in ("Institution", "Pharmacy"):
            # an institution recorded under the other label (a pharmacy claim not marked so)
            missing = sorted(set(keys) - {n.key for n in got})
            if missing:
                found += store.get_nodes("Pharmacy" if label == "Institution" else "Institution", missing)
    return found


def expand(
    store: GraphReader,
    seeds: Sequence[NodeRef],
    *,
    hops: int,
    max_nodes: int,
    cap: int,
    rel_types: Sequence[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    allow: Allow | None = None,
    skip_hub_seeds: bool = False,
    first_hop_rel_types: Sequence[str] | None = None,
    known: Sequence[Node] | None = None,
) -> Assembled:
    """Grow a subgraph of at most ``max_nodes`` nodes ``hops`` hops around ``seeds``.

    Each hop is one ``neighbours`` call. The per-node cap shrinks when many nodes are expanded at
    once (never below ``MIN_CAP``): a hop cannot bring back much more than the room left,
    so the store is not asked for thousands of nodes of which a few hundred are drawn.
    ``skip_hub_seeds`` leaves institutions and doctors among the seeds unexpanded (a ring's
    picture is its patients' claims, which reach the ring's clinic through :func:`implied_edges`).
    ``first_hop_rel_types`` narrows the first hop only (a ring's picture follows what makes it a ring).
    ``known`` are seed nodes the caller has already read (not read again).
    """
    types = check_rel_types(rel_types)
    first_types = check_rel_types(first_hop_rel_types) if first_hop_rel_types else types
    wanted = [s for s in dict.fromkeys(seeds) if allow is None or allow(s)]
    out = Assembled()
    given = {n.ref: n for n in known or ()}
    fetched = fetch_nodes(store, [r for r in wanted if r not in given])
    present = {r: given.get(r) or fetched[r] for r in wanted if r in given or r in fetched}
    if not present:
        raise NotFound("none of the seed nodes exist: " + ", ".join(str(s) for s in seeds[:5]))
    for ref, node in list(present.items())[:max_nodes]:
        out.nodes[ref] = node
    out.truncated = len(present) > max_nodes
    frontier = list(out.nodes)
    if skip_hub_seeds and any(r.label not in HUB_LABELS for r in frontier):
        frontier = [r for r in frontier if r.label not in HUB_LABELS]
    for hop in range(hops):
        hop_types = first_types if hop == 0 else types
        if not frontier:
            break
        room = max_nodes - len(out.nodes)
        if room <= 0:
            out.truncated = True
            break
        claims = [out.nodes[r] for r in frontier if r.label == "Claim"]
        others = [r for r in frontier if r.label != "Claim"]
        reached_hubs = [r for r in others if r.label in HUB_PRONE] if hop > 0 else []
        if reached_hubs:
            degree = store.degrees(reached_hubs, hop_types)
            skipped = {r for r in reached_hubs if degree.get(r, 0) > HUB_SKIP_DEGREE}
            for r in skipped:
                out.cut[r] = out.cut.get(r, 0) + degree[r]
            others = [r for r in others if r not in skipped]
        exp = Expansion()
        if others:
            hop_cap = max(MIN_CAP, min(cap, math.ceil(OVERSAMPLE * room / len(others))))
            exp = store.neighbours(others, rel_types=hop_types, since=since, until=until, cap=hop_cap)
        for ref, n in exp.cut.items():
            out.cut[ref] = out.cut.get(ref, 0) + n
        reached = [*exp.nodes, *claim_neighbours(store, claims, hop_types, out.nodes, since, until)]
        new_nodes = {n.ref: n for n in reached
                     if n.ref not in out.nodes and (allow is None or allow(n.ref))}
        touches: Counter[NodeRef] = Counter()
        seen: set[EdgeKey] = set()
        both = {**out.nodes, **new_nodes}
        for e in [*exp.edges, *implied_edges(both, types)]:
            key = (e.type, e.src, e.dst)
            if key in seen:
                continue
            seen.add(key)
            src_new, dst_new = e.src in new_nodes, e.dst in new_nodes
            if src_new and (e.dst in out.nodes):
                touches[e.src] += 1
            if dst_new and (e.src in out.nodes):
                touches[e.dst] += 1
        ranked = sorted(new_nodes, key=lambda r: -touches[r])  # stable: store order breaks ties
        if len(ranked) > room:
            out.truncated = True
            ranked = ranked[:room]
        for ref in ranked:
            out.nodes[ref] = new_nodes[ref]
        for e in exp.edges:
            if e.src in out.nodes and e.dst in out.nodes:
                out.edges[(e.type, e.src, e.dst)] = e
        frontier = ranked
    for e in implied_edges(out.nodes, types):
        out.edges.setdefault((e.type, e.src, e.dst), e)
    return out


def paths(
    store: GraphReader,
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
